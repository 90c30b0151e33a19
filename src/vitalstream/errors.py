"""The one exception tree of vitalstream.

    VitalstreamError
     ├── TerminalError          retrying will not help; stop and tell the operator
     │    ├── ConfigError       bad setting; names the setting and what is allowed
     │    │    └── BridgeError  the MQTT broker refused the bridge (sources.mqtt)
     │    ├── MissingExtraError optional dependency not installed; names the pip extra
     │    ├── TopicError        unknown/forbidden topic, bad partition
     │    ├── SnapshotError     a state snapshot is corrupt or of an unknown schema (+ValueError)
     │    ├── BadBatch          the warehouse rejected a document (sinks.warehouse.base)
     │    ├── AuthError         401 no credentials / 403 refused key (sources.auth)
     │    └── InvalidData       an input that cannot be accepted: a dead letter (+ValueError)
     │         ├── InvalidEvent bad event for its topic (events.invalid)
     │         ├── Unroutable   an event's shape matches no topic (sources.routing)
     │         └── BadRow       an unreadable CSV/JSON-lines row (sources.files)
     ├── TransientError         worth retrying with backoff: broker/database/disk unavailable
     │    ├── LogUnavailable    the message log cannot be reached right now
     │    └── SinkUnavailable   a sink's destination cannot take writes (sinks.base)
     │         ├── LakeUnavailable
     │         └── WarehouseUnavailable
     └── HttpProblem            an HTTP answer other than 200/422 with its status; 429/503
                                are the client's to retry, the rest are not (sources.service)

Invalid *data* never raises through a worker: it becomes a dead letter
(see :mod:`vitalstream.deadletter`). Only :class:`TransientError` is retried by runtimes.
The classes marked ``+ValueError`` are also ValueErrors, because msgspec turns a ValueError
raised while decoding into a validation error and older callers catch ValueError.
"""

from __future__ import annotations

from types import ModuleType


class VitalstreamError(Exception):
    """Root of every error vitalstream raises on purpose."""


class TerminalError(VitalstreamError):
    """Retrying will not help; stop and tell the operator."""


class TransientError(VitalstreamError):
    """A dependency is unavailable for now; retry with backoff."""


class LogUnavailable(TransientError):
    """The message log (embedded file or Kafka cluster) cannot be reached."""


class ConfigError(TerminalError):
    """A configuration value is invalid. The message names the setting and what is allowed."""


class MissingExtraError(TerminalError):
    """An optional dependency is missing; the message says which extra to install."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"{module} is not installed; install it with: pip install 'vitalstream[{extra}]'"
        )
        self.module = module
        self.extra = extra


class TopicError(TerminalError):
    """A topic does not exist, may not be created, or a partition is out of range."""


class SnapshotError(TerminalError, ValueError):
    """A saved state snapshot cannot be restored: corrupt, or written by another schema."""


class InvalidData(TerminalError, ValueError):
    """An input (event, row, request body) that cannot be accepted as it is.

    Sources and the processor turn it into a dead letter; it never stops a worker."""


def require(module: str, extra: str) -> ModuleType:
    """Import an optional dependency or raise :class:`MissingExtraError` naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError(module, extra) from exc
