"""Backends chosen by URL: one registry of lazy ``"module:attr"`` imports.

    log = open_url("log", "kafka://127.0.0.1:9092")         # KafkaLog("kafka://…")
    wh = open_url("warehouse", url, read_only=True)         # extra arguments go to the backend

Every extension point is a *kind* (``log``, ``warehouse``, ``lake``, ``target``, ``mqtt``, ``docstore``) whose
URL schemes map to the callable that opens them and the pip extra it needs. Configuration
validation reads the same table (:func:`check_url`), so adding a backend is one line here.
A backend's module is imported only when a URL selects it: ``import vitalstream`` never loads
confluent_kafka, psycopg, duckdb or boto3.
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

from .errors import ConfigError, MissingExtraError


class Backend(NamedTuple):
    target: str  # "module:attr", called with (url, *args, **kwargs)
    extra: str | None = None  # the pip extra its third-party imports come from


_LAKE = "vitalstream.sinks.lake:open_lake"
_HTTP = Backend("vitalstream.sources.targets:http_target", "http")
_MQTT = Backend("vitalstream.sources.targets:mqtt_target", "mqtt")
_BROKER = Backend("vitalstream.sources.mqtt:parse_url", "mqtt")

BACKENDS: dict[str, dict[str, Backend]] = {
    "log": {  # vitalstream.log.base.Log
        "sqlite": Backend("vitalstream.log.embedded:EmbeddedLog"),
        "embedded": Backend("vitalstream.log.embedded:EmbeddedLog"),
        "kafka": Backend("vitalstream.log.kafka:KafkaLog", "kafka"),
    },
    "warehouse": {  # vitalstream.sinks.warehouse.Warehouse
        "duckdb": Backend("vitalstream.sinks.warehouse.duckdb:DuckDbWarehouse", "lake"),
        "postgresql": Backend("vitalstream.sinks.warehouse.postgres:PostgresWarehouse", "postgres"),
        "postgres": Backend("vitalstream.sinks.warehouse.postgres:PostgresWarehouse", "postgres"),
    },
    "lake": {  # vitalstream.sinks.lake.LakeLocation (an fsspec filesystem and a root)
        "file": Backend(_LAKE, "lake"),
        "s3": Backend(_LAKE, "s3"),
        "memory": Backend(_LAKE, "lake"),
    },
    "target": {  # vitalstream.sources.targets.Target: where simulated traffic is sent
        "http": _HTTP, "https": _HTTP, "mqtt": _MQTT, "mqtts": _MQTT,
    },
    "mqtt": {"mqtt": _BROKER, "mqtts": _BROKER},  # the bridge's broker address
    "docstore": {  # vitalstream.sinks.docstore: processed clinical entries as documents
        "mongodb": Backend("vitalstream.sinks.docstore:MongoDocStore", "docstore"),
        "mongodb+srv": Backend("vitalstream.sinks.docstore:MongoDocStore", "docstore"),
    },
}


def load(target: str, extra: str | None = None) -> Any:
    """Import ``module:attr``. A missing third-party module raises MissingExtraError(extra)."""
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if extra is None or (exc.name or "").startswith("vitalstream"):
            raise
        raise MissingExtraError(exc.name or module_name, extra) from exc
    return getattr(module, attr)


def scheme_of(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else ""


def schemes(kind: str) -> tuple[str, ...]:
    """The URL schemes ``kind`` accepts, e.g. ``("sqlite", "embedded", "kafka")``."""
    return tuple(BACKENDS[kind])


def backend(kind: str, url: str, setting: str | None = None) -> Backend:
    """The backend a URL names, or ConfigError naming the setting and the allowed schemes.

    The message never repeats the URL: it may carry a password."""
    scheme = scheme_of(url)
    found = BACKENDS[kind].get(scheme)
    if found is None:
        allowed = ", ".join(f"{s}://" for s in BACKENDS[kind])
        what = setting or f"{kind} url"
        raise ConfigError(f"{what}: unknown scheme {scheme or '(none)'!r}; allowed: {allowed}")
    return found


def check_url(kind: str, url: str, setting: str | None = None) -> None:
    """Validate a URL's scheme without importing anything (configuration does this)."""
    backend(kind, url, setting)


def open_url(kind: str, url: str, *args: Any, **kwargs: Any) -> Any:
    """Open the ``kind`` backend ``url`` names: ``target(url, *args, **kwargs)``."""
    target, extra = backend(kind, url)
    return load(target, extra)(url, *args, **kwargs)
