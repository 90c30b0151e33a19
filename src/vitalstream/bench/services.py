"""Find the Kafka broker the benchmark should use.

``VITALSTREAM_BENCH_KAFKA``, else ``VITALSTREAM_TEST_KAFKA`` (``host:port``) from the
environment: ``make bench`` exports what ``make services-up`` wrote to ``.services/env``. With
no reachable broker the Kafka scenarios are skipped and the report says why; the benchmark
never reads or runs anything from a source checkout.
"""

from __future__ import annotations

import os
import socket

BROKER_ENV = ("VITALSTREAM_BENCH_KAFKA", "VITALSTREAM_TEST_KAFKA")


def _reachable(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1.0):
            return True
    except (OSError, ValueError):
        return False


class KafkaService:
    """``with KafkaService() as kafka:`` — ``kafka.broker`` is ``host:port`` or None."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.broker: str | None = None
        self.note = ""

    def __enter__(self) -> KafkaService:
        if not self.enabled:
            self.note = "skipped (--no-kafka)"
            return self
        for name in BROKER_ENV:
            candidate = os.environ.get(name)
            if candidate and _reachable(candidate):
                self.broker = candidate
                self.note = f"{name}={candidate}"
                return self
        self.note = f"skipped: no reachable broker in {' or '.join(BROKER_ENV)}"
        return self

    def __exit__(self, *exc: object) -> None:
        pass
