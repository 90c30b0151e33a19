"""Shared by tests/security/test_http_*.py: a real ingest server on a loopback port with its
own embedded log, keys of every role, and a way to read what the log holds."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from vitalstream import topics as T
from vitalstream.config import Settings, load
from vitalstream.deadletter import DeadLetter
from vitalstream.log import open_log
from vitalstream.sources.testing import read_topic, running_server

GATEWAY_KEY = "gw:secret:with:colons"  # a ':' inside a gateway key is legal
DEVICE_KEY = "dev-key=sw-0001"  # and so is a '='
ADMIN_KEY = "admin-key-0123456789"
KEYS = {"gateway_keys": [f"ward-7={GATEWAY_KEY}"], "device_keys": [f"sw-0001={DEVICE_KEY}"],
        "admin_keys": [f"ops={ADMIN_KEY}"]}

SW = {"device_id": "sw-0001", "hr": 72.5, "steps": 10, "state": "awake",
      "timestamp": 1711958400.25}


def make_settings(tmp_path: Path, **http: Any) -> Settings:
    return load(environ={}, overrides={"home": str(tmp_path), "partitions": 2,
                                       "http": {**KEYS, **http}})


@contextlib.contextmanager
def server(tmp_path: Path, key: str = GATEWAY_KEY, scheme: str = "http",
           verify: Any = True, **http: Any) -> Iterator[httpx.Client]:
    """A running server (settings ``http``) and a client sending ``key``."""
    s = make_settings(tmp_path, **http)
    with running_server(s) as url:
        url = url.replace("http://", f"{scheme}://", 1)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                          timeout=30, verify=verify) as client:
            yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def records(tmp_path: Path, topic: str) -> list:  # type: ignore[type-arg]
    with open_log(f"sqlite:///{tmp_path}/log.db") as log:
        T.ensure(log, [topic])
        return read_topic(log, topic)


def dead_letters(tmp_path: Path) -> list[DeadLetter]:
    return [DeadLetter.from_record(r) for r in records(tmp_path, T.DEAD_LETTERS)]


def cli_command() -> list[str]:
    exe = Path(sys.executable).with_name("vitalstream")
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-c", "from vitalstream.cli import main; main()"]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any VITALSTREAM_ setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VITALSTREAM_")}
    return {**env, **extra}
