#!/usr/bin/env bash
# Chromium from Debian's packages, for the browser tests (tests/integration/browser/).
#
#   scripts/services/chromium.sh install | start | stop | status | env
#
# Nothing runs in the background: "start" installs the browser once (cached: a second call
# does nothing), "status" says whether it is there, "env" prints
# VITALSTREAM_TEST_CHROMIUM=/usr/bin/chromium. Playwright drives this binary; the tests never
# run `playwright install` (it would download a browser of its own).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

binary_service chromium /usr/bin/chromium VITALSTREAM_TEST_CHROMIUM "${1:-}"
