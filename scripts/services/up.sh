#!/usr/bin/env bash
# Start the real services the integration tests use, on loopback:
#
#   scripts/services/up.sh                 # kafka postgres mqtt s3 ferretdb fhir-validator chromium prometheus
#   scripts/services/up.sh kafka postgres  # just these
#
# Prints one VITALSTREAM_TEST_*=... line per running service and writes them to .services/env
# (`set -a; . .services/env; set +a` exports them; tests/integration/conftest.py reads it too).
# Idempotent: services already running are left alone. Stop them with scripts/services/down.sh.
# Kafka starts on empty storage (test topics pile up and slow its start); the others keep data.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# fhir-validator is a build (HAPI FHIR's validator for the export tests), not a server.
ALL=(kafka postgres mqtt s3 ferretdb fhir-validator chromium prometheus)
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
    if ! "$SCRIPTS_DIR/$svc.sh" start "${args[@]}" >/dev/null; then
        # Outside CI a missing validator only makes the FHIR validation tests skip, with a message.
        if [[ $svc == fhir-validator && "${CI:-}" != true ]]; then
            log "fhir-validator: build failed; the FHIR validation tests will skip (fatal under CI=true)"
        else
            failed+=("$svc")
        fi
    fi
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
