"""A real ingest server on a loopback port with its own embedded log, and an httpx client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from http_helpers import GATEWAY_KEY, make_settings

from vitalstream.config import Settings
from vitalstream.log import open_log
from vitalstream.sources.service import IngestService
from vitalstream.testing import running_server


@pytest.fixture
def start(tmp_path) -> Iterator[Callable[..., httpx.Client]]:
    """``start(**http_settings, service=None)`` -> a client (gateway key) on a fresh server."""
    stack: list[Any] = []

    def _start(service: IngestService | None = None, settings: Settings | None = None,
               **http: Any) -> httpx.Client:
        s = settings or make_settings(tmp_path, **http)
        cm = running_server(s, service=service)
        url = cm.__enter__()
        stack.append(cm)
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {GATEWAY_KEY}"},
                              timeout=10)
        stack.append(client)
        return client

    yield _start
    for item in reversed(stack):
        if isinstance(item, httpx.Client):
            item.close()
        else:
            item.__exit__(None, None, None)


@pytest.fixture
def client(start) -> httpx.Client:
    return start()


@pytest.fixture
def log(tmp_path):
    with open_log(f"sqlite:///{tmp_path}/log.db") as lg:
        yield lg
