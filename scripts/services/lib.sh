# Shared helpers for scripts/services/*.sh (sourced, not run).
#
# Everything a service installs or writes lives under $SERVICES_DIR (default: .services/ in the
# repository root, git-ignored), so `rm -rf .services` resets all of it. Ports are fixed so
# tests and people find them, and overridable through VITALSTREAM_SERVICES_<NAME>_PORT.

set -euo pipefail

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPTS_DIR/../.." && pwd)"
SERVICES_DIR="${VITALSTREAM_SERVICES_DIR:-$REPO_ROOT/.services}"
PYTHON="${VITALSTREAM_SERVICES_PYTHON:-$REPO_ROOT/.venv/bin/python}"
mkdir -p "$SERVICES_DIR"

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] error: %s\n' "$*" >&2; exit 1; }

# Seconds since the epoch with millisecond precision, for the timings we report.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# port_open PORT -> exit 0 if something listens on 127.0.0.1:PORT
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_port PORT SECONDS
wait_port() {
    local port=$1 deadline=$((SECONDS + $2))
    until port_open "$port"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# pid_alive PIDFILE -> exit 0 if the pid in PIDFILE is a live process
pid_alive() {
    [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

# stop_pid PIDFILE NAME [SECONDS]: SIGTERM, wait, then SIGKILL; removes the pid file.
stop_pid() {
    local pidfile=$1 name=$2 grace=${3:-20} pid
    if ! pid_alive "$pidfile"; then
        rm -f "$pidfile"
        log "$name: not running"
        return 0
    fi
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + grace))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name: still running after ${grace}s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$pidfile"
    log "$name: stopped"
}

# need_apt PACKAGE... : install Debian packages that are missing (needs root).
need_apt() {
    local missing=()
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return 0
    [[ $(id -u) == 0 ]] || die "missing Debian packages: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})"
    log "installing Debian packages: ${missing[*]}"
    # Only refresh the package lists when they are absent: apt-get update is slow.
    if ! compgen -G "/var/lib/apt/lists/*_Packages" >/dev/null; then
        apt-get update -qq >&2
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
        || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; }
}

# binary_service PACKAGE BINARY ENV_NAME ACTION: a "service" that is only a program from
# Debian's packages, run by the tests themselves (nothing in the background). install/start
# installs it once (cached), stop does nothing, status says whether it is there, env prints
# ENV_NAME=BINARY.
binary_service() {
    local pkg=$1 bin=$2 env_name=$3 action=${4:-} t0
    case "$action" in
        install | start)
            [[ -x $bin ]] && return 0
            t0=$(now)
            need_apt "$pkg"
            [[ -x $bin ]] || die "$pkg: $bin missing after apt-get install $pkg"
            log "$pkg: installed in $(elapsed "$t0")" ;;
        stop) ;;
        status) [[ -x $bin ]] ;;
        env) echo "$env_name=$bin" ;;
        *) die "usage: $0 install|start|stop|status|env" ;;
    esac
}
