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


def build_sinks(log: Log, settings: Settings, *, new_incarnation: bool = False) -> list[Worker]:
    """The raw lake archive, the smartwatch landing and the warehouse loader for ``settings``.

    Creates the topics they read if missing. Nothing connects until the first batch, so a
    warehouse that is down at start-up makes the sink wait (unhealthy), not fail.
    ``new_incarnation``: the lake sinks may start archiving an incarnation of a topic the lake
    does not know (after a topic reset or with a new log) beside the archived ones.
    """
    from .. import topics as T
    from .lake import LANDING_GROUP, LakeSink, log_topic_ids, smartwatch_columns
    from .warehouse import WarehouseSink, open_warehouse
    from .warehouse.schema import TOPICS

    T.ensure(log, [*T.RAW_TOPICS, *TOPICS], settings.partitions, settings.retention_ms,
             settings.replication_factor)
    lake_url = settings.lake_url
    landing_url = _with_option(lake_url, "format", "parquet")  # seed 4's landing is Parquet
    ids = log_topic_ids(log)
    return [
        LakeSink(lake_url, T.RAW_TOPICS, topic_id=ids, new_incarnation=new_incarnation),
        LakeSink(landing_url, [T.PROCESSED_SMARTWATCH], group=LANDING_GROUP, topic_id=ids,
                 new_incarnation=new_incarnation, extra_columns=smartwatch_columns),
        WarehouseSink(open_warehouse(settings.warehouse_url)),
    ]


def check_lake(log: Log, settings: Settings, *, new_incarnation: bool = False) -> None:
    """Before starting the sinks: raise :class:`~vitalstream.sinks.lake.UnknownIncarnation`
    if the lake holds another incarnation of a topic than the log (``new_incarnation``: record
    the log's incarnations as new ones instead)."""
    from .lake import LakeSink

    for w in build_sinks(log, settings, new_incarnation=new_incarnation):
        if isinstance(w, LakeSink):
            w.check_incarnations()
        w.close()


def _with_option(url: str, name: str, value: str) -> str:
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != name] + [(name, value)]
    return urlunsplit(parts._replace(query=urlencode(query)))


__all__ = ["LakeUnavailable", "Sink", "SinkUnavailable", "WarehouseUnavailable", "build_sinks", "check_lake"]
