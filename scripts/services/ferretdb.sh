#!/usr/bin/env bash
# FerretDB v1 (MongoDB wire protocol, SQLite backend) on loopback for the document-store tests.
#
#   scripts/services/ferretdb.sh install | start | stop | status | reset | env
#
# MongoDB itself is not obtainable here; FerretDB is a Go module. `go install` of its command
# builds a binary that fails at start-up, so scripts/services/ferretdb/main.go embeds its package.
# The build (~85 s of CPU, ~1 GB of module and build cache) happens once, cached under
# .services/ferretdb/. Prints VITALSTREAM_TEST_MONGODB=mongodb://127.0.0.1:<port>/.
# Settings: VITALSTREAM_SERVICES_FERRETDB_PORT (57017).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${VITALSTREAM_SERVICES_FERRETDB_PORT:-57017}"
HOME_DIR="$SERVICES_DIR/ferretdb"
BIN="$HOME_DIR/ferretdb-test"
PIDFILE="$HOME_DIR/ferretdb.pid"
LOGFILE="$HOME_DIR/ferretdb.log"
SRC="$SCRIPTS_DIR/ferretdb"
ENV_LINE="VITALSTREAM_TEST_MONGODB=mongodb://127.0.0.1:$PORT/"

install() {
    # rebuilt only when the source changed since the last build
    if [[ -x "$BIN" && "$BIN" -nt "$SRC/main.go" && "$BIN" -nt "$SRC/go.mod" ]]; then
        return 0
    fi
    command -v go >/dev/null || die "ferretdb: needs the Go toolchain (go) to build the test server"
    local t0; t0=$(now)
    mkdir -p "$HOME_DIR"
    log "ferretdb: building the test server (once; a minute or two)"
    (cd "$SRC" && GOMODCACHE="$HOME_DIR/gomod" GOCACHE="$HOME_DIR/gocache" GOFLAGS=-modcacherw \
        go build -o "$BIN.tmp" . >&2) || die "ferretdb: go build failed"
    mv "$BIN.tmp" "$BIN"
    log "ferretdb: built in $(elapsed "$t0")"
}

start() {
    install
    if pid_alive "$PIDFILE"; then
        log "ferretdb: already running (pid $(cat "$PIDFILE"))"
        echo "$ENV_LINE"
        return 0
    fi
    port_open "$PORT" && die "ferretdb: port $PORT is taken by another process (set VITALSTREAM_SERVICES_FERRETDB_PORT)"
    local t0; t0=$(now)
    mkdir -p "$HOME_DIR/data"
    nohup "$BIN" -listen "127.0.0.1:$PORT" -dir "$HOME_DIR/data" >"$LOGFILE" 2>&1 &
    echo $! >"$PIDFILE"
    if ! wait_port "$PORT" 30; then
        tail -n 20 "$LOGFILE" >&2
        stop_pid "$PIDFILE" ferretdb 5
        die "ferretdb: did not start; see $LOGFILE"
    fi
    log "ferretdb: ready on 127.0.0.1:$PORT in $(elapsed "$t0")"
    echo "$ENV_LINE"
}

case "${1:-start}" in
    install) install ;;
    start) start ;;
    stop) stop_pid "$PIDFILE" ferretdb 10 ;;
    status) pid_alive "$PIDFILE" && port_open "$PORT" ;;
    reset) stop_pid "$PIDFILE" ferretdb 10; rm -rf "$HOME_DIR/data"; log "ferretdb: data deleted" ;;
    env) echo "$ENV_LINE" ;;
    *) die "usage: $0 {install|start|stop|status|reset|env}" ;;
esac
