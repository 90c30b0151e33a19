"""Moved to :mod:`vitalstream.testing` (the package's test kit); kept so old imports work."""

from __future__ import annotations

from ..testing.log import ListProducer, read_topic
from ..testing.server import running_server

__all__ = ["ListProducer", "read_topic", "running_server"]
