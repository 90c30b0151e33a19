#!/usr/bin/env bash
# Throwaway PostgreSQL cluster on loopback for tests and CI, from the Debian packages.
#
#   scripts/services/postgres.sh install | start | stop | status | reset | env
#
# The cluster lives in .services/postgres (initdb/pg_ctl; never the system cluster). initdb
# refuses to run as root, so as root the cluster is owned and run by the `postgres` user the
# package creates. It is tuned for tests, not durability (fsync off). Prints
# VITALSTREAM_TEST_POSTGRES=postgresql://vitalstream:vitalstream@127.0.0.1:<port>/vitalstream.
# Settings: VITALSTREAM_SERVICES_POSTGRES_PORT (55432).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${VITALSTREAM_SERVICES_POSTGRES_PORT:-55432}"
HOME_DIR="$SERVICES_DIR/postgres"
DATA="$HOME_DIR/data"
SOCKETS="$HOME_DIR/run"
LOGFILE="$HOME_DIR/postgres.log"
DB_USER=vitalstream
DB_PASSWORD=vitalstream
DB_NAME=vitalstream
URL="postgresql://$DB_USER:$DB_PASSWORD@127.0.0.1:$PORT/$DB_NAME"
ENV_LINE="VITALSTREAM_TEST_POSTGRES=$URL"

pg_bin() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [[ -n "$bin" ]] || return 1
    echo "$bin"
}

# Run a command as the cluster's owner.
as_owner() {
    if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install() {
    if pg_bin >/dev/null; then return 0; fi
    local t0; t0=$(now)
    need_apt postgresql
    pg_bin >/dev/null || die "postgres: no /usr/lib/postgresql/*/bin after installing postgresql"
    log "postgres: installed in $(elapsed "$t0")"
}

init_cluster() {
    [[ -f "$DATA/PG_VERSION" ]] && return 0
    local bin=$1
    log "postgres: creating cluster in $DATA"
    mkdir -p "$HOME_DIR"
    touch "$LOGFILE"
    # The server writes its log itself, so the owner needs the directory and the log file.
    [[ $(id -u) == 0 ]] && chown postgres: "$HOME_DIR" "$LOGFILE"
    as_owner "$bin/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >>"$LOGFILE" 2>&1 \
        || die "postgres: initdb failed; see $LOGFILE"
    as_owner tee -a "$DATA/postgresql.conf" >/dev/null <<CONF
# Test cluster written by scripts/services/postgres.sh: fast, not durable.
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 128MB
log_min_messages = warning
CONF
}

psql_admin() {
    as_owner "$(pg_bin)/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKETS" -p "$PORT" -U postgres "$@"
}

start() {
    install
    local bin; bin=$(pg_bin)
    if status; then
        log "postgres: already running"
        echo "$ENV_LINE"
        return 0
    fi
    port_open "$PORT" && die "postgres: port $PORT is taken by another process (set VITALSTREAM_SERVICES_POSTGRES_PORT)"
    local t0; t0=$(now)
    init_cluster "$bin"
    as_owner mkdir -p "$SOCKETS"
    as_owner "$bin/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t 60 \
        -o "-p $PORT -k $SOCKETS -c listen_addresses=127.0.0.1" start >/dev/null \
        || { tail -n 20 "$LOGFILE" >&2; die "postgres: pg_ctl start failed; see $LOGFILE"; }
    # Role and database are created once; the DO block makes this safe to repeat.
    psql_admin -d postgres <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
  END IF;
END \$\$;
SQL
    if [[ -z $(psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'") ]]; then
        psql_admin -d postgres -c "CREATE DATABASE $DB_NAME OWNER $DB_USER"
    fi
    "$PYTHON" "$SCRIPTS_DIR/ready.py" postgres "$URL" --timeout 30 || die "postgres: not accepting $URL"
    log "postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') ready on 127.0.0.1:$PORT in $(elapsed "$t0")"
    echo "$ENV_LINE"
}

stop() {
    local bin
    if ! bin=$(pg_bin) || [[ ! -f "$DATA/postmaster.pid" ]]; then
        log "postgres: not running"
        return 0
    fi
    # Fast shutdown: disconnect clients, then SIGKILL if it still has not gone after 30s.
    if ! as_owner "$bin/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null 2>&1; then
        local pid; pid=$(head -n 1 "$DATA/postmaster.pid" 2>/dev/null || true)
        [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null || true
        log "postgres: killed"
        return 0
    fi
    log "postgres: stopped"
}

status() {
    local bin
    bin=$(pg_bin) && [[ -f "$DATA/PG_VERSION" ]] && as_owner "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

case "${1:-start}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    reset) stop; rm -rf "$HOME_DIR"; log "postgres: data deleted" ;;
    env) echo "$ENV_LINE" ;;
    *) die "usage: $0 {install|start|stop|status|reset|env}" ;;
esac
