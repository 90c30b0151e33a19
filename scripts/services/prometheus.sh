#!/usr/bin/env bash
# Prometheus from Debian's packages, for the metrics scrape test (tests/integration/prometheus/).
#
#   scripts/services/prometheus.sh install | start | stop | status | env
#
# Only the binary is needed: each test runs its own `prometheus` with its own configuration
# and storage in a temporary directory (the package starts no daemon in a container). "start"
# installs it once (cached); "env" prints VITALSTREAM_TEST_PROMETHEUS=/usr/bin/prometheus.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

binary_service prometheus /usr/bin/prometheus VITALSTREAM_TEST_PROMETHEUS "${1:-}"
