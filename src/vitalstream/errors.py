"""The one exception tree of vitalstream.

    VitalstreamError
     ├── ConfigError            bad setting; names the setting and what is allowed (terminal)
     ├── MissingExtraError      optional dependency not installed; names the pip extra (terminal)
     ├── TopicError             unknown/forbidden topic, bad partition (terminal)
     ├── TransientError         worth retrying with backoff: broker/database/disk unavailable
     │    └── LogUnavailable    the message log cannot be reached right now
     └── TerminalError          retrying will not help

Invalid *data* never raises through a worker: it becomes a dead letter
(see :mod:`vitalstream.deadletter`). Only :class:`TransientError` is retried by runtimes.
"""

from __future__ import annotations


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


def require(module: str, extra: str):  # type: ignore[no-untyped-def]
    """Import an optional dependency or raise :class:`MissingExtraError` naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError(module, extra) from exc
