"""Run the ingest server (``vitalstream serve``) in a background thread for a test::

    with running_server(settings) as url:
        httpx.post(f"{url}/stream", ...)

FastAPI and uvicorn load only when a server is started.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings
    from ..sources.service import IngestService


@contextlib.contextmanager
def running_server(
    settings: Settings, service: IngestService | None = None, host: str = "127.0.0.1",
    port: int = 0, timeout: float = 10.0,
) -> Iterator[str]:
    """Start the ingest server in a thread on a loopback port; yield its base URL."""
    from ..sources.http import server

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
