"""Find the Kafka broker the benchmark should use; start one if none is configured.

Order: ``VITALSTREAM_BENCH_KAFKA`` or ``VITALSTREAM_TEST_KAFKA`` in the environment, then the
``.services/env`` file ``scripts/services/up.sh`` writes, then ``scripts/services/up.sh kafka``
(stopped again at the end, because the benchmark started it). ``--no-kafka`` skips it all.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
from pathlib import Path

logger = logging.getLogger(__name__)


def repo_root() -> Path:
    """The checkout (for scripts/ and benchmarks/): from the package, else the working dir."""
    here = Path(__file__).resolve().parents[3]
    return here if (here / "scripts" / "services").is_dir() else Path.cwd()


def _reachable(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1.0):
            return True
    except (OSError, ValueError):
        return False


def _from_env_file(root: Path) -> str | None:
    env = root / ".services" / "env"
    if env.is_file():
        for line in env.read_text().splitlines():
            if line.startswith("VITALSTREAM_TEST_KAFKA="):
                return line.split("=", 1)[1].strip()
    return None


class KafkaService:
    """``with KafkaService() as broker:`` — ``broker`` is ``host:port`` or None (unavailable)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.started = False
        self.broker: str | None = None
        self.note = ""

    def __enter__(self) -> KafkaService:
        if not self.enabled:
            self.note = "skipped (--no-kafka)"
            return self
        root = repo_root()
        for candidate in (os.environ.get("VITALSTREAM_BENCH_KAFKA"), os.environ.get("VITALSTREAM_TEST_KAFKA"),
                          _from_env_file(root)):
            if candidate and _reachable(candidate):
                self.broker = candidate
                self.note = "already running"
                return self
        up = root / "scripts" / "services" / "up.sh"
        if not up.is_file():
            self.note = "no broker configured and no scripts/services/up.sh to start one"
            return self
        logger.info("starting Kafka with %s kafka", up)
        proc = subprocess.run([str(up), "kafka"], capture_output=True, text=True, timeout=300)
        self.started = proc.returncode == 0
        self.broker = _from_env_file(root) if self.started else None
        self.note = "started by the benchmark" if self.broker else f"could not start: {proc.stderr[-300:]}"
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started:
            down = repo_root() / "scripts" / "services" / "down.sh"
            subprocess.run([str(down), "kafka"], capture_output=True, timeout=120)
