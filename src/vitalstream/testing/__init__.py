"""Test doubles that ship with vitalstream, for its own tests and for code built on it.

==================== ==========================================================================
:func:`memory_log`   the real embedded log on a temporary directory (passes the log contract)
:func:`read_topic`   every record a topic holds now
:class:`ListProducer` a producer that only keeps what was flushed (no log at all)
:class:`ListSink`    a sink that keeps every batch it is given
:class:`FaultySink`  a sink that fails the N-th write, transiently or terminally
:class:`FaultyLog`   a real log whose producers' flushes fail on a schedule
:class:`Faults`      that schedule: which writes fail, with which error; counts what failed
:class:`TestingSource` writes fixed messages or raw JSON into a log as an edge does
:class:`ManualClock` processing time that moves only when told (from :mod:`~vitalstream.clinical.clock`)
:func:`running_server` the ingest server in a background thread
:mod:`.faultpoint`   ``VITALSTREAM__PAUSE_BEFORE_COMMIT``: stop a worker between write and commit
==================== ==========================================================================

Names load on first use, so ``import vitalstream.testing`` costs nothing and pulls in no
optional dependency (FastAPI loads only when a server starts).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "memory_log": ".log", "read_topic": ".log", "ListProducer": ".log",
    "ListSink": ".sinks", "FaultySink": ".sinks",
    "Faults": ".faults", "FaultyLog": ".faults", "FaultyProducer": ".faults",
    "TestingSource": ".source", "SourceResult": ".source",
    "running_server": ".server",
    "Clock": "..clinical.clock", "ManualClock": "..clinical.clock", "SystemClock": "..clinical.clock",
}

if TYPE_CHECKING:
    from ..clinical.clock import Clock, ManualClock, SystemClock
    from .faults import Faults, FaultyLog, FaultyProducer
    from .log import ListProducer, memory_log, read_topic
    from .server import running_server
    from .sinks import FaultySink, ListSink
    from .source import SourceResult, TestingSource


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where, __name__), name)
    globals()[name] = value
    return value


__all__ = [  # literal, so linters see the re-exports (a test checks it matches _WHERE)
    "Clock",
    "Faults",
    "FaultyLog",
    "FaultyProducer",
    "FaultySink",
    "ListProducer",
    "ListSink",
    "ManualClock",
    "SourceResult",
    "SystemClock",
    "TestingSource",
    "memory_log",
    "read_topic",
    "running_server",
]
