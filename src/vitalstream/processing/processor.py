"""The vitals processor's stateless stage: one consumer group over every raw topic.

Per micro-batch: decode strictly (failures → dead letters with the reason), normalise to
canonical :class:`~vitalstream.events.Vital`, drop recent repeats of an event and dead-letter
conflicting ones (:mod:`.dedup`), enrich with
the patient's current metadata, decompose device-gateway messages into the per-vital device
topics, resolve each vital's patient (a device id → its patient through ``patient-metadata``'s
``device_id`` or ``user-profiles``), then produce the processed records and dead letters in one
flush before the offsets commit. A batch is worked a run of one topic at a time (a poll returns
runs of one partition), stage by stage over the run: the run's event ids are hashed and laid out
as text together (:func:`~vitalstream.events.ids.uuid5_many`); a record a stage rejects is
dead-lettered alone, and the dead letters keep the records' order.

Per-patient state never depends on how the raw topics are partitioned: the vitals go on to the
stateful stage (:mod:`.stateful`: alerts, NEWS2, state changelog) through the repartition
topic, keyed by patient (:mod:`.repartition`), as Kafka Streams does. With ``fused=True`` —
one worker only, the library default and what a single embedded-log worker runs — the same
process scores them directly, with no round trip through the repartition topic.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Sequence
from itertools import groupby
from operator import attrgetter, itemgetter
from typing import Any, Literal

import msgspec

from .. import topics as T
from ..clinical import EngineConfig, PatientContext, SystemClock
from ..clinical.clock import Clock
from ..config import ProcessSettings
from ..deadletter import send_dead_letter
from ..events import InvalidEvent, decode
from ..events.canonical import Vital, enrichment_fragment
from ..events.registry import CODECS
from ..log.base import Log, Record, TopicPartition
from ..runtime import retry_transient
from . import repartition
from .dedup import CONFLICT, CONFLICT_STAGE, NEW, ConflictingDuplicate, RecentEvents
from .gcpause import gc_paused
from .outputs import DEVICE_PARTS, BatchOutputs
from .reference import ReferenceTables
from .repartition import ClinicalInput
from .stateful import ClinicalScorer

logger = logging.getLogger(__name__)

PROCESSOR_GROUP = "vitalstream-processor"
_enc = msgspec.json.Encoder()

# raw topic -> (processed topic, data_type); device_data is decomposed separately.
ROUTES: dict[str, tuple[str, str]] = {
    T.HEART_RATE: (T.PROCESSED_HEART_RATE, "heart_rate"),
    T.BLOOD_OXYGEN: (T.PROCESSED_BLOOD_OXYGEN, "blood_oxygen"),
    T.BLOOD_PRESSURE: (T.PROCESSED_BLOOD_PRESSURE, "blood_pressure"),
    T.FALL_DETECTION: (T.PROCESSED_FALL_DETECTION, "fall_detection"),
    T.HR_DATA: (T.PROCESSED_HR, "heart_rate"),
    T.SMARTWATCH: (T.PROCESSED_SMARTWATCH, "smartwatch"),
}
VITAL_INPUTS = (T.HEART_RATE, T.BLOOD_OXYGEN, T.BLOOD_PRESSURE, T.FALL_DETECTION, T.DEVICE_DATA,
                T.HR_DATA, T.SMARTWATCH)
INPUT_TOPICS = (*VITAL_INPUTS, *T.REFERENCE_TOPICS)  # medical-entries: the notes stage (vitalstream.notes)
OUTPUT_TOPICS = (
    *(t for t, _ in ROUTES.values()), *(t for t, _, _ in DEVICE_PARTS),
    T.ALERTS, T.NEWS2, T.DEAD_LETTERS, T.ALERT_STATE, T.REPARTITION_VITALS,
)
# Sources whose patient_id is a device id, resolved through the reference tables.
_DEVICE_KEYED = frozenset(("device", "smartwatch"))
# raw vital topic -> its normaliser of a run of events (one Vital per event), looked up once a run
_NORMALISERS = {t: CODECS[t].normalise for t in VITAL_INPUTS}
_DECODERS = {t: CODECS[t].decode for t in INPUT_TOPICS}  # the strict decoders `decode` calls
_TOPIC = attrgetter("topic")

def _scale_for(history: str | None) -> Literal[1, 2]:
    """NEWS2 SpO2 scale 2 only with a prescribed 88–92 % target, recorded in the history."""
    h = (history or "").lower()
    return 2 if ("88-92" in h or "88–92" in h or "hypercapnic" in h or "scale 2" in h) else 1


class VitalsProcessor:
    """The :class:`~vitalstream.runtime.Worker` that turns raw topics into processed ones (and,
    ``fused``, into alerts and NEWS2 too; else into the repartition topic)."""

    group = PROCESSOR_GROUP
    topics: Sequence[str] = INPUT_TOPICS

    def __init__(
        self,
        log: Log,
        settings: ProcessSettings | None = None,
        *,
        clock: Clock | None = None,
        engine_config: EngineConfig | None = None,
        stop: threading.Event | None = None,
        partitions: int = T.DEFAULT_PARTITIONS,
        fused: bool = True,
    ) -> None:
        self.log = log
        self.settings = settings or ProcessSettings()
        self.clock = clock or SystemClock()
        self.stop = stop or threading.Event()
        self.partitions = partitions
        self.producer = log.producer()
        self.recent = RecentEvents(self.settings.dedup_window)
        self.stats: Counter[str] = Counter()
        self.scorer = ClinicalScorer(log, self.settings, clock=self.clock, engine_config=engine_config,
                                     stop=self.stop, producer=self.producer, stats=self.stats) if fused else None
        # enrichment fragments (b',"age":..') by reference topic, then by key
        self._fragments: dict[str, dict[str, bytes]] = {T.PATIENT_METADATA: {}, T.USER_PROFILES: {}}
        self._contexts: dict[str, PatientContext] = {}  # by (resolved) patient id
        self._patient_of: dict[str, str] = {}  # device id -> patient (or smartwatch user) id
        self.refs = ReferenceTables(log, (T.PATIENT_METADATA, T.USER_PROFILES), self._reference_changed)
        self.refs.bootstrap()  # every record already on the topics, before the first vital

    # -- reference data ----------------------------------------------------------------------
    def _reference_changed(self, topic: str, key: str, ref: Any) -> None:
        if topic == T.PATIENT_METADATA:
            self._contexts[key] = PatientContext(age=ref.age, spo2_scale=_scale_for(ref.medical_history))
            if ref.device_id:
                self._patient_of[ref.device_id] = key
        else:  # user profile: device -> user
            self._contexts[ref.user_id] = PatientContext(age=ref.age)
            self._patient_of[key] = ref.user_id
        self._fragments[topic][key] = enrichment_fragment(ref)

    # -- assignment: the fused processor holds every patient ----------------------------------
    def assigned(self, partitions: set[TopicPartition]) -> None:
        if self.scorer is None:
            return  # the stateless stage keeps no per-patient state
        owned = sum(1 for t, _ in partitions if t in VITAL_INPUTS)
        total = sum(len(self.log.describe_topic(t).partitions) for t in VITAL_INPUTS)
        if owned < total:
            # Another member in the group: this worker sees only part of some patients'
            # vitals. Transient after a kill -9 (the dead member's session has not expired);
            # otherwise run the two stages (`vitalstream process --workers N`).
            logger.warning("fused processor owns %d of %d input partitions: per-patient state needs "
                           "every partition (run more workers as two stages, not fused)", owned, total)
        self.scorer.own(set(), everything=True)

    # -- the batch ------------------------------------------------------------------------------
    def process(self, records: list[Record]) -> None:
        with gc_paused():  # see .gcpause: the batch makes no cycles, refcounting frees it
            self._process(records)

    def _process(self, records: list[Record]) -> None:
        self.refs.refresh()
        out = BatchOutputs(self.clock.now())
        vitals: list[Vital] = []
        contexts: list[PatientContext | None] = []
        for topic, run in groupby(records, _TOPIC):  # a poll returns runs of one partition
            self._run(topic, list(run), out, vitals, contexts)
        stats = self.stats
        stats["in"] += len(records)
        stats["vitals"] += len(vitals)
        stats["processed"] += out.send(self.producer)
        if self.scorer is not None:
            self.scorer.score_vitals(vitals, contexts)
            self.scorer.flush()  # outputs, then the state changelog
        else:
            items = [ClinicalInput(v) if c is None else ClinicalInput(v, c.age, c.spo2_scale)
                     for v, c in zip(vitals, contexts, strict=True)]
            stats["repartitioned"] += repartition.send(self.producer, items)
            retry_transient(self.producer.flush, self.stop, what="processor flush")

    def _run(self, topic: str, run: list[Record], out: BatchOutputs, vitals: list[Vital],
             contexts: list[PatientContext | None]) -> None:
        """One run of records of ``topic``, stage by stage over the whole run: decode, normalise
        (with the run's event ids computed together), encode; then per vital dedup, the
        processed records and the vitals for the scorer. Dead letters keep the records' order."""
        failed: list[Failed] = []
        events, records, where = _decode(topic, run, failed)
        many = _NORMALISERS.get(topic)
        if many is None:  # reference topics: validation only (the tables are read by ReferenceTables)
            self._dead_letters(failed)
            return
        try:
            found = many(topic, events)
            bodies = list(map(_enc.encode, found))
        except Exception:  # a poison record must never stop the partition: find it
            found, bodies, events, records, where = _normalise_each(topic, many, events, records, where, failed)
        check = self.recent.check_encoded
        route = ROUTES.get(topic)
        add = None if route is None else out.writer(*route)
        fragments = self._fragments[T.USER_PROFILES if topic == T.SMARTWATCH else T.PATIENT_METADATA]
        patient_of, contexts_of = self._patient_of, self._contexts
        stats = self.stats
        for k, r, event, v, body in zip(range(len(records)), records, events, found, bodies, strict=True):
            try:
                seen = check(v.event_id, body)
                if seen is not NEW:
                    if seen is CONFLICT:  # the first reading stands
                        failed.append((k if where is None else where[k], r, CONFLICT_STAGE, ConflictingDuplicate()))
                        stats["conflicts"] += 1
                    else:
                        stats["duplicates"] += 1
                    continue
                pid = v.patient_id
                if add is None:
                    out.device(r.key, event, v, body)
                else:
                    add(r.key, event, v, body, fragments.get(pid, b""))
                if v.source in _DEVICE_KEYED:  # a device: its vitals are its patient's
                    owner = patient_of.get(pid)
                    if owner is not None and owner != pid:
                        v = msgspec.structs.replace(v, patient_id=owner)
                        pid = owner
                vitals.append(v)
                contexts.append(contexts_of.get(pid))
            except Exception as exc:  # a poison record must never stop the partition
                logger.warning("dead-lettering a %s record: %s", topic, type(exc).__name__)
                failed.append((k if where is None else where[k], r, "process.normalise", _bare(exc)))
        self._dead_letters(failed)

    def _dead_letters(self, failed: list[Failed]) -> None:
        """A run's dead letters, in the order of their records (each stage found its own in order)."""
        if len(failed) > 1:
            failed.sort(key=_FIRST)
        for _, r, stage, exc in failed:
            self._dead_letter(stage, exc, r)

    def _dead_letter(self, stage: str, exc: BaseException, r: Record) -> None:
        send_dead_letter(self.producer, stage, exc, r.value, record=r)
        self.stats["dead_letters"] += 1

    def close(self) -> None:
        try:
            self.producer.close()
        finally:
            self.refs.close()


# A dead letter found by a stage of a run: (the record's index in the run, record, stage, error).
Failed = tuple[int, Record, str, BaseException]
_FIRST = itemgetter(0)


def _bare(exc: BaseException) -> BaseException:
    """``exc`` without its traceback and context, kept for a dead letter after its ``except``:
    these reference the frame that keeps the dead-letter list, a cycle that would keep the
    run's events alive until the cyclic GC runs (which :func:`.gcpause.gc_paused` delays)."""
    exc.__traceback__ = exc.__context__ = None
    return exc


def _decode(topic: str, run: list[Record], failed: list[Failed]
            ) -> tuple[list[Any], list[Record], list[int] | None]:
    """A run's events; each record that fails goes to ``failed`` with the reason
    :func:`~vitalstream.events.decode` gives. Returns the events, their records and the
    records' indices in the run (None: every record decoded)."""
    decoder = _DECODERS.get(topic)  # None (not a topic of ours): every record fails, decode() says why
    events: list[Any] = []
    append = events.append
    bad: list[int] = []  # indices in the run of the records that failed
    start = 0
    while True:
        try:
            for r in run[start:] if start else run:
                append(decoder(r.value))  # type: ignore[misc]
            break
        except Exception:  # the record after the last one decoded: decode() says what was wrong
            i = len(events) + len(bad)
            try:
                append(decode(topic, run[i].value))
            except InvalidEvent as exc:
                failed.append((i, run[i], "process.validate", _bare(exc)))
                bad.append(i)
            start = i + 1
    if not bad:
        return events, run, None
    records: list[Record] = []
    where: list[int] = []
    after = 0
    for i in bad:  # the runs of good records between the bad ones, sliced (most runs have none)
        records += run[after:i]
        where += range(after, i)
        after = i + 1
    records += run[after:]
    where += range(after, len(run))
    return events, records, where


def _normalise_each(topic: str, many: Any, events: list[Any], records: list[Record], where: list[int] | None,
                    failed: list[Failed]
                    ) -> tuple[list[Vital], list[bytes], list[Any], list[Record], list[int]]:
    """The normalise stage of a run one event at a time, when the run as a whole failed (see
    :func:`_decode`)."""
    found, bodies, kept_events, kept, kept_where = [], [], [], [], []
    for k, (event, r) in enumerate(zip(events, records, strict=True)):
        i = k if where is None else where[k]
        try:
            (v,) = many(topic, (event,))
            body = _enc.encode(v)
        except Exception as exc:
            logger.warning("dead-lettering a %s record: %s", topic, type(exc).__name__)
            failed.append((i, r, "process.normalise", _bare(exc)))
        else:
            found.append(v)
            bodies.append(body)
            kept_events.append(event)
            kept.append(r)
            kept_where.append(i)
    return found, bodies, kept_events, kept, kept_where
