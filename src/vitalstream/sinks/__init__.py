"""Sinks: consumer groups that land records durably, then let the loop commit.

* :class:`~vitalstream.sinks.lake.LakeSink` — the raw archive (every raw topic, Parquet or JSON
  lines, ``file://`` or ``s3://``) and seed 4's landing of normalised smartwatch events.
* :class:`~vitalstream.sinks.warehouse.WarehouseSink` — every catalogued topic with a table
  into DuckDB or PostgreSQL, upserted on its key.

:func:`build_sinks` returns the configured ones, ready for :func:`vitalstream.runtime.run_worker`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import LakeUnavailable, Sink, SinkUnavailable, WarehouseUnavailable

if TYPE_CHECKING:
    from ..config import Settings
    from ..log.base import Log
    from ..runtime import Worker


def build_sinks(log: Log, settings: Settings) -> list[Worker]:
    """The raw lake archive, the smartwatch landing and the warehouse loader for ``settings``.

    Creates the topics they read if missing. Nothing connects until the first batch, so a
    warehouse that is down at start-up makes the sink wait (unhealthy), not fail.
    """
    from .. import topics as T
    from .lake import LANDING_GROUP, LakeSink, smartwatch_columns
    from .warehouse import WarehouseSink, open_warehouse
    from .warehouse.schema import TOPICS

    T.ensure(log, [*T.RAW_TOPICS, *TOPICS], settings.partitions, settings.retention_ms,
             settings.replication_factor)
    lake_url = settings.lake_url
    landing_url = _with_option(lake_url, "format", "parquet")  # seed 4's landing is Parquet
    return [
        LakeSink(lake_url, T.RAW_TOPICS),
        LakeSink(landing_url, [T.PROCESSED_SMARTWATCH], group=LANDING_GROUP,
                 extra_columns=smartwatch_columns),
        WarehouseSink(open_warehouse(settings.warehouse_url),
                      dead_letter_payloads=settings.warehouse_dead_letter_payloads),
    ]


def _with_option(url: str, name: str, value: str) -> str:
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != name] + [(name, value)]
    return urlunsplit(parts._replace(query=urlencode(query)))


__all__ = ["LakeUnavailable", "Sink", "SinkUnavailable", "WarehouseUnavailable", "build_sinks"]
