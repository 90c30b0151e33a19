"""The processor's stateful stage: alerts, NEWS2 and the per-patient state changelog.

It reads the repartition topic (consumer group ``vitalstream-scorer``), where every vital is
keyed by its patient, so a worker holds the whole state of every patient of the partitions it
owns, however the raw topics were partitioned. Per batch it observes the vitals in order,
produces alerts and NEWS2 scores, makes them durable, *then* writes the changed patients'
state to ``alert-state`` and makes that durable, and only then lets the offsets commit. A
crash between the two flushes replays the batch against the older state: the same alerts and
scores come out again (deterministic ids; the sinks upsert), and none is lost — which a
single flush could not promise on Kafka, where the changelog may land while an alert does not.
The embedded log stores a flush all or nothing, so there one flush does both, and a replay
repeats nothing.

Assignment: the worker keeps the state of the patients of the repartition partitions it owns,
drops the others, and restores the newly owned ones from the same-numbered changelog
partitions (both topics are keyed by patient id with one partitioner and one partition count).

In the fused processor (one worker, both stages in one process, no repartition round trip)
the same class scores the vitals handed to it directly and owns every patient.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Sequence

import msgspec

from .. import topics as T
from ..clinical import AlertEngine, EngineConfig, PatientContext, SystemClock
from ..clinical.clock import Clock
from ..config import ProcessSettings
from ..deadletter import send_dead_letter
from ..events.canonical import Vital
from ..log.base import Log, Producer, Record, TopicPartition, partition_for
from ..runtime import retry_transient
from . import repartition
from .gcpause import gc_paused
from .repartition import ClinicalInput

logger = logging.getLogger(__name__)

SCORER_GROUP = "vitalstream-scorer"

_enc = msgspec.json.Encoder()


class ClinicalScorer:
    """The :class:`~vitalstream.runtime.Worker` of the stateful stage (see the module doc)."""

    group = SCORER_GROUP
    topics: Sequence[str] = (T.REPARTITION_VITALS,)

    def __init__(
        self,
        log: Log,
        settings: ProcessSettings | None = None,
        *,
        clock: Clock | None = None,
        engine_config: EngineConfig | None = None,
        stop: threading.Event | None = None,
        producer: Producer | None = None,
        stats: Counter[str] | None = None,
    ) -> None:
        self.log = log
        self.settings = settings or ProcessSettings()
        self.clock = clock or SystemClock()
        self.stop = stop or threading.Event()
        self._own_producer = producer is None
        self.producer = producer or log.producer()
        self.engine_config = engine_config or EngineConfig(news2_freshness_s=self.settings.news2_freshness_s)
        self.engine = AlertEngine(self.engine_config, self.clock)
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self._owned: set[int] = set()
        # Partition counts never change (docs/kafka.md): read once, not at every rebalance,
        # which may come while the cluster is restarting.
        self._state_partitions = _partitions(log, T.ALERT_STATE)
        self._input_partitions: int | None = None
        self._partition_of: dict[str, int] = {}

    # -- assignment: keep, drop and restore per-patient state --------------------------------
    def assigned(self, partitions: set[TopicPartition]) -> None:
        owned = {p for t, p in partitions if t == T.REPARTITION_VITALS}
        self.own(owned)

    def own(self, owned: set[int], *, everything: bool = False) -> None:
        """Hold the patients of repartition partitions ``owned`` (``everything``: all patients,
        the fused processor's case) and restore newly owned ones from the changelog."""
        n_state = self._state_partitions
        if everything:
            owned = set(range(n_state))
            n_in = n_state
        elif not owned:  # everything revoked or lost
            self.engine.drop(self.engine.patients())
            self._owned = set()
            logger.info("scorer owns no partition")
            return
        else:
            if self._input_partitions is None:
                self._input_partitions = _partitions(self.log, T.REPARTITION_VITALS)
            n_in = self._input_partitions
        gone = [pid for pid in self.engine.patients() if partition_for(pid.encode(), n_in) not in owned]
        self.engine.drop(gone)
        new = owned - self._owned
        self._owned = owned
        restored = self._restore(new, n_in, n_state)
        logger.info("scorer owns partitions %s; restored the state of %d patients", sorted(owned), restored)

    def _restore(self, new: set[int], n_in: int, n_state: int) -> int:
        if not new:
            return 0
        if n_in == n_state:  # the normal case: read exactly the partitions taken over
            read = new
        else:  # topics created with different counts: a patient's changelog partition differs
            logger.warning("%s has %d partitions and %s %d: restoring from the whole changelog",
                           T.REPARTITION_VITALS, n_in, T.ALERT_STATE, n_state)
            read = set(range(n_state))
        latest: dict[str, bytes] = {}  # the newest value of each key (a compacted topic)
        for r in repartition.read_partitions(self.log, T.ALERT_STATE, read):
            if r.key is None:
                continue
            key = r.key.decode("utf-8", "replace")
            # by the patient's partition, not the record's: records an older version placed
            # by CRC32 may sit in a partition that is not the patient's
            if partition_for(key.split("\x1f", 1)[0].encode(), n_in) in new:
                latest[key] = r.value
        return self.engine.restore_changelog(latest.items())

    # -- the batch ---------------------------------------------------------------------------
    def process(self, records: list[Record]) -> None:
        """Stage 2 on its own: decode the repartitioned vitals, score, make it all durable."""
        with gc_paused():  # see .gcpause
            self._process(records)

    def _process(self, records: list[Record]) -> None:
        items: list[ClinicalInput] = []
        for r in records:
            try:
                items.append(repartition.decode(r.value))
            except ValueError as exc:  # not written by the stateless stage: say so, go on
                send_dead_letter(self.producer, "score.decode", exc, r.value, record=r)
                self.stats["dead_letters"] += 1
        self.stats["scored"] += len(items)
        self.score(items)
        self.flush()

    def score(self, items: Iterable[ClinicalInput]) -> None:
        """Observe ``items`` in order and buffer the alerts and NEWS2 scores they cause."""
        vitals, contexts = [], []
        for item in items:
            vitals.append(item.vital)
            contexts.append(item.context())
        self.score_vitals(vitals, contexts)

    def score_vitals(self, vitals: Sequence[Vital], contexts: Sequence[PatientContext | None]) -> None:
        """:meth:`score` for vitals and their aligned contexts (the fused processor's call)."""
        if not vitals:
            return
        engine, producer, encode = self.engine, self.producer, _enc.encode
        alerts = engine.observe_batch(vitals, contexts)
        if alerts:
            producer.send_batch(T.ALERTS, [(a.patient_id.encode(), encode(a), None) for a in alerts])
            self.stats["alerts"] += len(alerts)
        # One score per patient and minute of event time, sent again only when it changes
        # (same score_id; see vitalstream.clinical.tracker).
        scores = engine.take_scores()
        if scores:
            producer.send_batch(T.NEWS2, [(s.patient_id.encode(), encode(s), None) for s in scores])
            self.stats["news2"] += len(scores)

    def flush(self) -> None:
        """Make the buffered outputs durable, then the changed state (see the module doc); in
        one flush when the log stores a flush all or nothing (the embedded log)."""
        producer, engine = self.producer, self.engine
        atomic = producer.atomic_flush
        if not atomic:
            retry_transient(producer.flush, self.stop, what="scorer flush")
        n = self._state_partitions
        changelog = engine.changelog()
        if changelog:
            # a NEWS2 minute's key is not the patient id: place every record by the patient
            known = self._partition_of  # patient -> changelog partition: one dict probe a record
            if len(known) >= 1 << 16:
                known.clear()
            parts = []
            for pid, _, _ in changelog:
                p = known.get(pid)
                if p is None:
                    p = known[pid] = partition_for(pid.encode(), n)
                parts.append(p)
            producer.send_batch(T.ALERT_STATE, [(key.encode(), value, None) for _, key, value in changelog],
                                partitions=parts)
        retry_transient(producer.flush, self.stop, what="scorer flush" if atomic else "state changelog flush")
        engine.clear_dirty()

    def close(self) -> None:
        if self._own_producer:
            self.producer.close()


def _partitions(log: Log, topic: str) -> int:
    return len(log.describe_topic(topic).partitions)
