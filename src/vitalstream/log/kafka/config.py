"""A ``kafka://`` URL and the environment → librdkafka settings; secrets kept out of sight.

Every query parameter, and every ``VITALSTREAM_KAFKA_<NAME>`` environment variable, is passed
to librdkafka as ``<name>`` lower-cased with ``_`` read as ``.``; a query parameter wins over
the environment. ``connect_timeout`` (seconds, default 5) is ours, not librdkafka's.

Which setting is a secret is decided in one place for the whole product,
:func:`vitalstream.redact.is_secret_name`; :func:`redact` applies it to librdkafka settings and
:func:`vitalstream.redact.redact_url` to URLs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ...errors import ConfigError
from ...redact import MASK, is_secret_name, redact_url

__all__ = ["ADMIN_TIMEOUT", "DEFAULT_PORT", "ENV_PREFIX", "parse_url", "redact", "redact_url"]

ENV_PREFIX = "VITALSTREAM_KAFKA_"
DEFAULT_PORT = 9092
ADMIN_TIMEOUT = 30.0  # seconds an admin or metadata request may take


def redact(conf: Mapping[str, Any]) -> dict[str, Any]:
    """librdkafka settings safe to show: secret values (by :func:`vitalstream.redact.is_secret_name`) masked."""
    return {k: (MASK if is_secret_name(k) else v) for k, v in conf.items()}


def parse_url(url: str, environ: Mapping[str, str] | None = None) -> tuple[dict[str, Any], float]:
    """librdkafka settings and the start-up timeout for a ``kafka://`` URL."""
    parts = urlsplit(url)
    if parts.scheme != "kafka":
        raise ConfigError(f"log url: expected kafka://host:port, got scheme {parts.scheme!r}")
    servers = []
    for server in (parts.netloc.rpartition("@")[2]).split(","):
        server = server.strip()
        if not server:
            continue
        host, sep, port = server.rpartition(":")
        if not sep or not port.isdigit():
            host, port = server, str(DEFAULT_PORT)
        servers.append(f"{host}:{port}")
    if not servers:
        raise ConfigError("log url: kafka:// needs at least one host:port (kafka://127.0.0.1:9092)")
    conf: dict[str, Any] = {}
    env = os.environ if environ is None else environ
    for name, value in env.items():
        if name.startswith(ENV_PREFIX) and len(name) > len(ENV_PREFIX):
            conf[name[len(ENV_PREFIX):].lower().replace("_", ".")] = value
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        conf[name.replace("_", ".") if "." not in name else name] = value
    timeout = conf.pop("connect.timeout", "5")
    try:
        connect_timeout = float(timeout)
    except ValueError:
        raise ConfigError(f"log url: connect_timeout must be seconds, got {timeout!r}") from None
    conf["bootstrap.servers"] = ",".join(servers)
    return conf, connect_timeout
