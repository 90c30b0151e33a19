"""Test helpers that ship with the package: run the ingest server in a background thread.

    with running_server(settings) as url:
        httpx.post(f"{url}/stream", ...)
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

from ..config import Settings
from .service import IngestService


@contextlib.contextmanager
def running_server(
    settings: Settings, service: IngestService | None = None, host: str = "127.0.0.1",
    port: int = 0, timeout: float = 10.0,
) -> Iterator[str]:
    """Start ``vitalstream serve`` in a thread on a loopback port; yield its base URL."""
    from .http import server

    srv = server(settings, host=host, port=port, service=service)
    thread = threading.Thread(target=srv.run, name="ingest-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not srv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("ingest server did not start")
        time.sleep(0.01)
    sock = srv.servers[0].sockets[0]
    bound_host, bound_port = sock.getsockname()[:2]
    try:
        yield f"http://{bound_host}:{bound_port}"
    finally:
        srv.should_exit = True
        thread.join(timeout)


def read_topic(log, topic: str, timeout: float = 0.2) -> list:  # type: ignore[no-untyped-def]
    """Every record currently in ``topic`` (a fresh consumer group each call)."""
    import uuid

    with log.consumer(f"read-{uuid.uuid4().hex[:8]}", [topic]) as c:
        out: list = []  # type: ignore[type-arg]
        while batch := c.poll(timeout=timeout):
            out += batch
        return out


class ListProducer:
    """A producer double that keeps what was flushed: ``records`` is ``[(topic, value, key,
    headers)]`` (for fuzz and unit tests that need no log)."""

    def __init__(self) -> None:
        self.buffer: list[tuple[str, bytes, bytes | None, tuple]] = []  # type: ignore[type-arg]
        self.records: list[tuple[str, bytes, bytes | None, tuple]] = []  # type: ignore[type-arg]

    def send(self, topic, value, key=None, headers=(), timestamp_ms=None, partition=None):  # type: ignore[no-untyped-def]
        self.buffer.append((topic, value, key, headers))

    def flush(self, timeout=None) -> None:  # type: ignore[no-untyped-def]
        self.records += self.buffer
        self.buffer = []

    def close(self) -> None:
        self.flush()
