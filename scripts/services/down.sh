#!/usr/bin/env bash
# Stop the services started by scripts/services/up.sh (all of them, or those named).
# Data stays under .services/; `scripts/services/<name>.sh reset` deletes a service's data.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALL=(ferretdb s3 mqtt postgres kafka chromium prometheus)
wanted=("$@")
((${#wanted[@]})) || wanted=("${ALL[@]}")
status=0
for svc in "${wanted[@]}"; do
    [[ -x "$SCRIPTS_DIR/$svc.sh" ]] || { log "unknown service '$svc'"; status=1; continue; }
    "$SCRIPTS_DIR/$svc.sh" stop || status=1
done
# Keep the env file in step with what is still running.
if [[ -f "$SERVICES_DIR/env" ]]; then
    tmp="$SERVICES_DIR/env.tmp"
    : >"$tmp"
    for svc in kafka postgres mqtt s3 ferretdb fhir-validator chromium prometheus; do
        if [[ -x "$SCRIPTS_DIR/$svc.sh" ]] && "$SCRIPTS_DIR/$svc.sh" status; then
            "$SCRIPTS_DIR/$svc.sh" env >>"$tmp"
        fi
    done
    if [[ -s "$tmp" ]]; then mv "$tmp" "$SERVICES_DIR/env"; else rm -f "$tmp" "$SERVICES_DIR/env"; fi
fi
exit $status
