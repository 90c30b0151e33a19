#!/usr/bin/env bash
# S3-compatible server on loopback for tests and CI: moto in server mode, from the venv
# (moto[server] is in the dev extra). State is in memory: a restart empties every bucket.
#
#   scripts/services/s3.sh start | stop | status | env
#
# Prints VITALSTREAM_TEST_S3=http://127.0.0.1:<port>. Any access key works; tests use
# AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1.
# Settings: VITALSTREAM_SERVICES_S3_PORT (55000).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${VITALSTREAM_SERVICES_S3_PORT:-55000}"
HOME_DIR="$SERVICES_DIR/s3"
PIDFILE="$HOME_DIR/moto.pid"
LOGFILE="$HOME_DIR/moto.log"
URL="http://127.0.0.1:$PORT"
ENV_LINE="VITALSTREAM_TEST_S3=$URL"
MOTO="$(dirname "$PYTHON")/moto_server"

install() {
    [[ -x "$MOTO" ]] || die "s3: $MOTO not found; install the dev extra into the venv (uv sync --extra dev)"
}

start() {
    install
    if pid_alive "$PIDFILE"; then
        log "s3: already running (pid $(cat "$PIDFILE"))"
        echo "$ENV_LINE"
        return 0
    fi
    port_open "$PORT" && die "s3: port $PORT is taken by another process (set VITALSTREAM_SERVICES_S3_PORT)"
    local t0; t0=$(now)
    mkdir -p "$HOME_DIR"
    setsid "$MOTO" -H 127.0.0.1 -p "$PORT" >"$LOGFILE" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    if ! "$PYTHON" "$SCRIPTS_DIR/ready.py" s3 "$URL" --timeout 30 --pidfile "$PIDFILE"; then
        tail -n 20 "$LOGFILE" >&2
        stop_pid "$PIDFILE" s3 5
        die "s3: moto server did not start; see $LOGFILE"
    fi
    log "s3: moto $("$PYTHON" -c 'import moto; print(moto.__version__)') ready on $URL in $(elapsed "$t0")"
    echo "$ENV_LINE"
}

case "${1:-start}" in
    install) install ;;
    start) start ;;
    stop) stop_pid "$PIDFILE" s3 10 ;;
    status) pid_alive "$PIDFILE" && port_open "$PORT" ;;
    reset) stop_pid "$PIDFILE" s3 10; rm -rf "$HOME_DIR" ;;
    env) echo "$ENV_LINE" ;;
    *) die "usage: $0 {install|start|stop|status|reset|env}" ;;
esac
