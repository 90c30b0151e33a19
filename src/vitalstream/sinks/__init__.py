"""Sinks: consumer groups that land records durably, then let the loop commit.

* :class:`~vitalstream.sinks.lake.LakeSink` — the raw archive (every raw topic, Parquet or JSON
  lines, ``file://`` or ``s3://``) and the landing of normalised smartwatch events.
* :class:`~vitalstream.sinks.warehouse.WarehouseSink` — every catalogued topic with a table
  into DuckDB or PostgreSQL, upserted on its key.
* :class:`~vitalstream.sinks.docstore.MongoDocStore` — processed clinical entries into MongoDB,
  only when ``docstore_url`` is set.

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


def _lake_reads() -> tuple[str, Sequence[str]]:
    from .. import topics as T
    from .lake import LAKE_GROUP

    return LAKE_GROUP, T.RAW_TOPICS


def _landing_reads() -> tuple[str, Sequence[str]]:
    from .. import topics as T
    from .lake import LANDING_GROUP

    return LANDING_GROUP, (T.PROCESSED_SMARTWATCH,)


def _warehouse_reads() -> tuple[str, Sequence[str]]:
    from .warehouse import schema as S
    from .warehouse.sink import WAREHOUSE_GROUP

    return WAREHOUSE_GROUP, S.TOPICS


#: The always-on sinks' consumer group and topics, by name: what they read is known before
#: they first commit (``vitalstream up --until-idle`` waits on a sink still starting).
READS: dict[str, Callable[[], tuple[str, Sequence[str]]]] = {
    "lake": _lake_reads, "landing": _landing_reads, "warehouse": _warehouse_reads,
}


def _lake(log: Log, settings: Settings, new_incarnation: bool) -> Worker:
    from .lake import LakeSink, log_topic_ids

    group, topics = _lake_reads()
    return LakeSink(settings.lake_url, topics, group=group, topic_id=log_topic_ids(log),
                    new_incarnation=new_incarnation)


def _landing(log: Log, settings: Settings, new_incarnation: bool) -> Worker:
    from .lake import LakeSink, log_topic_ids, smartwatch_columns

    group, topics = _landing_reads()
    landing_url = _with_option(settings.lake_url, "format", "parquet")  # the landing is Parquet
    return LakeSink(landing_url, topics, group=group, topic_id=log_topic_ids(log),
                    new_incarnation=new_incarnation, extra_columns=smartwatch_columns)


def _warehouse(log: Log, settings: Settings, new_incarnation: bool) -> Worker:
    from .warehouse import WarehouseSink, open_warehouse

    group, topics = _warehouse_reads()
    return WarehouseSink(open_warehouse(settings.warehouse_url), topics, group=group,
                         dead_letter_payloads=settings.warehouse_dead_letter_payloads)


def _fhir_observations(log: Log, settings: Settings, new_incarnation: bool) -> Worker:
    from ..fhir.stream import FhirObservationSink
    from ..fhir.subjects import subjects_from

    return FhirObservationSink(log, subjects_from(settings))


def _docstore(log: Log, settings: Settings, new_incarnation: bool) -> Worker:
    from ..registry import open_url

    return open_url("docstore", settings.docstore_url)  # type: ignore[no-any-return]


#: The sinks by name (``vitalstream sink NAME``), each built from the log, the settings and
#: whether a lake sink may start a new incarnation of a topic (see :mod:`.lake.incarnations`).
SINKS: dict[str, Callable[[Log, Settings, bool], Worker]] = {
    "lake": _lake,  # the raw archive: every raw topic
    "landing": _landing,  # normalised smartwatch events as Parquet
    "warehouse": _warehouse,  # every catalogued topic upserted into its table
    "fhir-observations": _fhir_observations,  # FHIR R4 JSON to Kafka: opt-in (fhir.stream)
    "docstore": _docstore,  # processed clinical entries into MongoDB (only with docstore_url)
}
#: Sinks that run only when asked for by name or enabled in the settings.
OPT_IN: dict[str, Callable[[Settings], bool]] = {"fhir-observations": lambda s: s.fhir.stream,
                                                 "docstore": lambda s: bool(s.docstore_url)}


def build_sinks(log: Log, settings: Settings, names: Sequence[str] | None = None, *,
                new_incarnation: bool = False) -> list[Worker]:
    """The sinks ``names`` (default: every one of :data:`SINKS` but the :data:`OPT_IN` ones
    the settings leave off) for ``settings``.

    Creates the topics they read if missing. Nothing connects until the first batch, so a
    warehouse that is down at start-up makes the sink wait (unhealthy), not fail.
    ``new_incarnation``: the lake sinks may start archiving an incarnation of a topic the lake
    does not know (after a topic reset or with a new log) beside the archived ones.
    """
    from .. import topics as T
    from .warehouse.schema import TOPICS

    unknown = [n for n in names or () if n not in SINKS]
    if unknown:
        raise ConfigError(f"unknown sink {unknown[0]!r}; choose from {', '.join(SINKS)}")
    chosen = list(names or (n for n in SINKS if n not in OPT_IN or OPT_IN[n](settings)))
    if "docstore" in chosen and not settings.docstore_url:
        raise ConfigError("sink docstore: set docstore_url (env VITALSTREAM_DOCSTORE_URL=mongodb://…)")
    extra = [T.FHIR_OBSERVATIONS] if "fhir-observations" in chosen else []
    T.ensure(log, [*T.RAW_TOPICS, *TOPICS, *extra], settings.partitions, settings.retention_ms,
             settings.replication_factor)
    return [SINKS[n](log, settings, new_incarnation) for n in chosen]


#: How long a lake sink's batches may gather (see :func:`linger_s`).
LAKE_LINGER_S = 2.0


def linger_s(settings: Settings, workers: Sequence[Worker]) -> float:
    """How long the batches of a process running these sinks gather (one value: they share
    the process's loop settings). With the warehouse sink, ``warehouse_linger_ms`` (how stale
    the warehouse may be: each batch costs a transaction and a dedup scan per table). Without
    it the lake sinks keep records in memory for up to the lake's ``flush_s`` (10 s) anyway, so
    gathering up to :data:`LAKE_LINGER_S` costs them no freshness and saves polls, buffer
    appends and checkpoints per batch at a ward's rate; never shorter than the runtime's
    :data:`~vitalstream.runtime.SINK_LINGER_S`."""
    from ..runtime import SINK_LINGER_S
    from .warehouse.sink import WarehouseSink

    if any(isinstance(w, WarehouseSink) for w in workers):
        return settings.warehouse_linger_ms / 1000
    flushes = (getattr(w, "flush_s", None) for w in workers)  # the lake sinks have one
    flush = min((float(f) for f in flushes if isinstance(f, int | float)), default=SINK_LINGER_S)
    return max(SINK_LINGER_S, min(LAKE_LINGER_S, flush))


def check_lake(log: Log, settings: Settings, *, new_incarnation: bool = False) -> None:
    """Before starting the sinks: raise :class:`~vitalstream.sinks.lake.UnknownIncarnation`
    if the lake holds another incarnation of a topic than the log (``new_incarnation``: record
    the log's incarnations as new ones instead)."""
    from .lake import LakeSink

    for w in build_sinks(log, settings, ["lake", "landing"], new_incarnation=new_incarnation):
        if isinstance(w, LakeSink):  # both are
            w.check_incarnations()
        w.close()


def _with_option(url: str, name: str, value: str) -> str:
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != name] + [(name, value)]
    return urlunsplit(parts._replace(query=urlencode(query)))


__all__ = ["LAKE_LINGER_S", "READS", "SINKS", "LakeUnavailable", "Sink", "SinkUnavailable", "WarehouseUnavailable", "build_sinks", "check_lake", "linger_s"]
