#!/usr/bin/env bash
# Start the real services the integration tests use, on loopback:
#
#   scripts/services/up.sh                 # kafka postgres mqtt s3 ferretdb
#   scripts/services/up.sh kafka postgres  # just these
#
# Prints one VITALSTREAM_TEST_*=... line per running service and writes them to .services/env
# (`set -a; . .services/env; set +a` exports them; tests/integration/conftest.py reads it too).
# Idempotent: services already running are left alone. Stop them with scripts/services/down.sh.
# Kafka starts on empty storage (test topics pile up and slow its start); the others keep data.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALL=(kafka postgres mqtt s3 ferretdb)
wanted=("$@")
((${#wanted[@]})) || wanted=("${ALL[@]}")
for svc in "${wanted[@]}"; do
    [[ " ${ALL[*]} " == *" $svc "* ]] || die "unknown service '$svc' (choose from: ${ALL[*]})"
done

t0=$(now)
failed=()
# One after the other: starting them in parallel was slower on a 2-CPU machine (the JVM start
# and moto's imports are both CPU-bound), and the log stays readable.
for svc in "${wanted[@]}"; do
    args=()
    [[ $svc == kafka ]] && args=(--fresh)  # only applies when it is not running already
    "$SCRIPTS_DIR/$svc.sh" start "${args[@]}" >/dev/null || failed+=("$svc")
done

# The env file lists every service that is running now, whichever call started it.
tmp="$SERVICES_DIR/env.tmp"
: >"$tmp"
for svc in "${ALL[@]}"; do
    if [[ -x "$SCRIPTS_DIR/$svc.sh" ]] && "$SCRIPTS_DIR/$svc.sh" status; then
        "$SCRIPTS_DIR/$svc.sh" env >>"$tmp"
    fi
done
mv "$tmp" "$SERVICES_DIR/env"
cat "$SERVICES_DIR/env"
log "services up in $(elapsed "$t0"); env written to $SERVICES_DIR/env"
((${#failed[@]} == 0)) || die "failed to start: ${failed[*]}"
