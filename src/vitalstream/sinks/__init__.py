"""Sinks: consumer groups that land records durably, then let the loop commit.

* :class:`~vitalstream.sinks.lake.LakeSink` — the raw archive (every raw topic, Parquet or JSON
  lines, ``file://`` or ``s3://``) and seed 4's landing of normalised smartwatch events.
* :class:`~vitalstream.sinks.warehouse.WarehouseSink` — every catalogued topic with a table
  into DuckDB or PostgreSQL, upserted on its key.

:data:`SINKS` names them; :func:`build_sinks` returns the chosen ones, ready for
:func:`vitalstream.runtime.run_worker`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..errors import ConfigError
from .base import LakeUnavailable, Sink, SinkUnavailable, WarehouseUnavailable

if TYPE_CHECKING:
    from ..config import Settings
    from ..log.base import Log
    from ..runtime import Worker


def _lake(settings: Settings) -> Worker:
    from .. import topics as T
    from .lake import LakeSink

    return LakeSink(settings.lake_url, T.RAW_TOPICS)


def _landing(settings: Settings) -> Worker:
    from .. import topics as T
    from .lake import LANDING_GROUP, LakeSink, smartwatch_columns

    landing_url = _with_option(settings.lake_url, "format", "parquet")  # the landing is Parquet
    return LakeSink(landing_url, [T.PROCESSED_SMARTWATCH], group=LANDING_GROUP,
                    extra_columns=smartwatch_columns)


def _warehouse(settings: Settings) -> Worker:
    from .warehouse import WarehouseSink, open_warehouse

    return WarehouseSink(open_warehouse(settings.warehouse_url))


#: The sinks by name (``vitalstream sink NAME``), each built from the settings.
SINKS: dict[str, Callable[[Settings], Worker]] = {
    "lake": _lake,  # the raw archive: every raw topic
    "landing": _landing,  # normalised smartwatch events as Parquet
    "warehouse": _warehouse,  # every catalogued topic upserted into its table
}


def build_sinks(log: Log, settings: Settings, names: Sequence[str] | None = None) -> list[Worker]:
    """The sinks ``names`` (default: every one of :data:`SINKS`) for ``settings``.

    Creates the topics they read if missing. Nothing connects until the first batch, so a
    warehouse that is down at start-up makes the sink wait (unhealthy), not fail.
    """
    from .. import topics as T
    from .warehouse.schema import TOPICS

    unknown = [n for n in names or () if n not in SINKS]
    if unknown:
        raise ConfigError(f"unknown sink {unknown[0]!r}; choose from {', '.join(SINKS)}")
    T.ensure(log, [*T.RAW_TOPICS, *TOPICS], settings.partitions, settings.retention_ms,
             settings.replication_factor)
    return [SINKS[n](settings) for n in (names or SINKS)]


def _with_option(url: str, name: str, value: str) -> str:
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != name] + [(name, value)]
    return urlunsplit(parts._replace(query=urlencode(query)))


__all__ = ["SINKS", "LakeUnavailable", "Sink", "SinkUnavailable", "WarehouseUnavailable", "build_sinks"]
