#!/usr/bin/env bash
# Mosquitto MQTT broker on loopback for tests and CI, from the Debian package.
#
#   scripts/services/mqtt.sh install | start | stop | status | reset | env
#
# Own configuration under .services/mqtt: password file (user vitalstream), no anonymous
# clients, persistence on so persistent sessions and queued QoS 1 messages survive a restart.
# Prints VITALSTREAM_TEST_MQTT=mqtt://vitalstream:<password>@127.0.0.1:<port>.
# Settings: VITALSTREAM_SERVICES_MQTT_PORT (51883), VITALSTREAM_SERVICES_MQTT_PASSWORD.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${VITALSTREAM_SERVICES_MQTT_PORT:-51883}"
MQTT_USER=vitalstream
MQTT_PASSWORD="${VITALSTREAM_SERVICES_MQTT_PASSWORD:-vitalstream-test}"
HOME_DIR="$SERVICES_DIR/mqtt"
CONF="$HOME_DIR/mosquitto.conf"
PIDFILE="$HOME_DIR/mosquitto.pid"
LOGFILE="$HOME_DIR/mosquitto.log"
URL="mqtt://$MQTT_USER:$MQTT_PASSWORD@127.0.0.1:$PORT"
ENV_LINE="VITALSTREAM_TEST_MQTT=$URL"

install() {
    if [[ -x /usr/sbin/mosquitto ]] || command -v mosquitto >/dev/null; then
        command -v mosquitto_passwd >/dev/null && return 0
    fi
    local t0; t0=$(now)
    need_apt mosquitto
    log "mqtt: installed in $(elapsed "$t0")"
}

write_config() {
    mkdir -p "$HOME_DIR/data"
    # Started as root, mosquitto drops to the `mosquitto` user; that user must own its files.
    local run_as; run_as=$(id -un)
    [[ $(id -u) == 0 ]] && id mosquitto >/dev/null 2>&1 && run_as=mosquitto
    rm -f "$HOME_DIR/passwd"
    mosquitto_passwd -b -c "$HOME_DIR/passwd" "$MQTT_USER" "$MQTT_PASSWORD" 2>/dev/null
    chmod 0600 "$HOME_DIR/passwd"
    cat >"$CONF" <<CONF
# Written by scripts/services/mqtt.sh; regenerated on every start.
user $run_as
pid_file $PIDFILE
listener $PORT 127.0.0.1
allow_anonymous false
password_file $HOME_DIR/passwd
persistence true
persistence_location $HOME_DIR/data/
autosave_interval 5
persistent_client_expiration 1d
max_queued_messages 100000
max_inflight_messages 100
log_dest file $LOGFILE
log_type error
log_type warning
log_type notice
CONF
    touch "$LOGFILE"
    [[ $run_as != $(id -un) ]] && chown -R "$run_as:" "$HOME_DIR"
    return 0
}

start() {
    install
    if pid_alive "$PIDFILE"; then
        log "mqtt: already running (pid $(cat "$PIDFILE"))"
        echo "$ENV_LINE"
        return 0
    fi
    port_open "$PORT" && die "mqtt: port $PORT is taken by another process (set VITALSTREAM_SERVICES_MQTT_PORT)"
    local t0; t0=$(now)
    write_config
    local bin; bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
    "$bin" -c "$CONF" -d || { tail -n 20 "$LOGFILE" >&2; die "mqtt: mosquitto failed to start; see $LOGFILE"; }
    if ! "$PYTHON" "$SCRIPTS_DIR/ready.py" mqtt "$URL" --timeout 20; then
        tail -n 20 "$LOGFILE" >&2
        stop_pid "$PIDFILE" mqtt 5
        die "mqtt: broker did not accept $MQTT_USER; see $LOGFILE"
    fi
    log "mqtt: $("$bin" -h | head -n 1) ready on 127.0.0.1:$PORT in $(elapsed "$t0")"
    echo "$ENV_LINE"
}

case "${1:-start}" in
    install) install ;;
    start) start ;;
    stop) stop_pid "$PIDFILE" mqtt 10 ;;
    status) pid_alive "$PIDFILE" && port_open "$PORT" ;;
    reset) stop_pid "$PIDFILE" mqtt 10; rm -rf "$HOME_DIR"; log "mqtt: data deleted" ;;
    env) echo "$ENV_LINE" ;;
    *) die "usage: $0 {install|start|stop|status|reset|env}" ;;
esac
