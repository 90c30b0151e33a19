"""The vitals processor: one consumer group over every raw topic.

Per micro-batch: decode strictly (failures → dead letters with the reason), normalise to
canonical :class:`~vitalstream.events.Vital`, drop recent repeats of an event and dead-letter
conflicting ones (:mod:`.dedup`), enrich with
the patient's current metadata, decompose seed-1 device messages into the per-vital device
topics, score alerts and NEWS2, then produce everything — processed records, alerts, scores,
dead letters and the per-patient state changelog — in one flush before the offsets commit.

Restart safety: the state changelog (``alert-state``, compacted, keyed by patient) is written
in the same flush as the alerts it explains. On (re)assignment the processor restores the
state of the patients in its partitions from it; vitals replayed after a crash are then older
than the state and raise nothing again. Alert ids are deterministic, so even a duplicate that
slips through lands on the same warehouse row.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec

from .. import topics as T
from ..clinical import AlertEngine, EngineConfig, PatientContext, SystemClock
from ..clinical.clock import Clock
from ..config import ProcessSettings
from ..deadletter import send_dead_letter
from ..events import InvalidEvent, decode, normalise
from ..events.canonical import Vital, enrichment_fragment
from ..log import read_all
from ..log.base import Log, Record, TopicPartition, partition_for
from ..runtime import retry_transient
from .dedup import CONFLICT_STAGE, ConflictingDuplicate, RecentEvents, Seen
from .reference import ReferenceTables

logger = logging.getLogger(__name__)

PROCESSOR_GROUP = "vitalstream-processor"

# raw topic -> (processed topic, data_type); device_data is decomposed separately.
ROUTES: dict[str, tuple[str, str]] = {
    T.HEART_RATE: (T.PROCESSED_HEART_RATE, "heart_rate"),
    T.BLOOD_OXYGEN: (T.PROCESSED_BLOOD_OXYGEN, "blood_oxygen"),
    T.BLOOD_PRESSURE: (T.PROCESSED_BLOOD_PRESSURE, "blood_pressure"),
    T.FALL_DETECTION: (T.PROCESSED_FALL_DETECTION, "fall_detection"),
    T.HR_DATA: (T.PROCESSED_HR, "heart_rate"),
    T.SMARTWATCH: (T.PROCESSED_SMARTWATCH, "smartwatch"),
}
# seed 1: one combined message -> one record per measured vital, keyed by device id.
DEVICE_PARTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (T.BP_DEVICE, "blood_pressure", ("systolic", "diastolic")),
    (T.HR_DEVICE, "heart_rate", ("heart_rate",)),
    (T.SPO2_DEVICE, "oxygen_saturation", ("spo2",)),
    (T.TEMP_DEVICE, "temperature", ("temperature_c",)),
)
_MEASURES = ("heart_rate", "spo2", "systolic", "diastolic", "temperature_c")
VITAL_INPUTS = (T.HEART_RATE, T.BLOOD_OXYGEN, T.BLOOD_PRESSURE, T.FALL_DETECTION, T.DEVICE_DATA,
                T.HR_DATA, T.SMARTWATCH)
INPUT_TOPICS = VITAL_INPUTS + T.REFERENCE_TOPICS  # medical-entries: the notes stage (vitalstream.notes)
OUTPUT_TOPICS = (
    *(t for t, _ in ROUTES.values()), *(t for t, _, _ in DEVICE_PARTS),
    T.ALERTS, T.NEWS2, T.DEAD_LETTERS, T.ALERT_STATE,
)

_enc = msgspec.json.Encoder()


def _original_timestamp(event: Any) -> Any:
    value = getattr(event, "timestamp", None)
    return getattr(event, "date", None) if value is None else value


class _BatchFormat:
    """Bytes that are the same for many records of one batch, computed once.

    A processed record is the canonical Vital's JSON with the extra ProcessedVital fields
    spliced in before the closing brace: ``original_timestamp`` (cached per distinct source
    timestamp: many devices share a tick), then ``data_type`` and ``processed_timestamp``
    (one suffix per data type per batch), then the patient's metadata fragment.
    """

    def __init__(self, now: datetime) -> None:
        self.processed = _enc.encode(now)
        self._suffix: dict[str, bytes] = {}
        self._times: dict[Any, bytes] = {}
        self._ms: dict[datetime, int] = {}

    def suffix(self, data_type: str) -> bytes:
        s = self._suffix.get(data_type)
        if s is None:
            s = self._suffix[data_type] = b',"data_type":"' + data_type.encode() + b'","processed_timestamp":' + self.processed
        return s

    def original(self, value: Any) -> bytes:
        b = self._times.get(value)
        if b is None:
            text = value.isoformat() if isinstance(value, datetime) else str(value)
            b = self._times[value] = b',"original_timestamp":' + _enc.encode(text)
        return b

    def millis(self, t: datetime) -> int:
        ms = self._ms.get(t)
        if ms is None:
            ms = self._ms[t] = int(t.timestamp() * 1000)
        return ms


def _scale_for(history: str | None) -> int:
    """NEWS2 SpO2 scale 2 only with a prescribed 88–92 % target, recorded in the history."""
    h = (history or "").lower()
    return 2 if ("88-92" in h or "88–92" in h or "hypercapnic" in h or "scale 2" in h) else 1


class VitalsProcessor:
    """The :class:`~vitalstream.runtime.Worker` that turns raw topics into processed ones."""

    group = PROCESSOR_GROUP
    topics: Sequence[str] = INPUT_TOPICS
    NEWS2_REFRESH = timedelta(seconds=60)

    def __init__(
        self,
        log: Log,
        settings: ProcessSettings | None = None,
        *,
        clock: Clock | None = None,
        engine_config: EngineConfig | None = None,
        stop: threading.Event | None = None,
        partitions: int = T.DEFAULT_PARTITIONS,
    ) -> None:
        self.log = log
        self.settings = settings or ProcessSettings()
        self.clock = clock or SystemClock()
        self.stop = stop or threading.Event()
        self.partitions = partitions
        self.producer = log.producer()
        self.engine_config = engine_config or EngineConfig(news2_freshness_s=self.settings.news2_freshness_s)
        self.engine = AlertEngine(self.engine_config, self.clock)
        self.recent = RecentEvents(self.settings.dedup_window)
        self.stats: Counter[str] = Counter()
        self._fragments: dict[tuple[str, str], bytes] = {}  # (topic, key) -> b',"age":..'
        self._contexts: dict[str, PatientContext] = {}
        self._last_score: dict[str, tuple[tuple[Any, ...], datetime]] = {}
        self.refs = ReferenceTables(log, (T.PATIENT_METADATA, T.USER_PROFILES), self._reference_changed)
        self.refs.bootstrap()  # every record already on the topics, before the first vital

    # -- reference data ----------------------------------------------------------------------
    def _reference_changed(self, topic: str, key: str, ref: Any) -> None:
        if topic == T.PATIENT_METADATA:
            self._contexts[key] = PatientContext(age=ref.age, spo2_scale=_scale_for(ref.medical_history))
        else:  # user profile: device -> user
            self._contexts[key] = PatientContext(age=ref.age)
        self._fragments[(topic, key)] = enrichment_fragment(ref)

    # -- assignment: rebuild per-patient state for owned partitions ---------------------------
    def assigned(self, partitions: set[TopicPartition]) -> None:
        owned = {p for t, p in partitions if t in VITAL_INPUTS}
        n = self.partitions
        gone = [pid for pid in self.engine.patients() if partition_for(pid.encode(), n) not in owned]
        self.engine.drop(gone)
        for pid in gone:
            self._last_score.pop(pid, None)
        restored = self._restore_state(owned)
        logger.info("processor owns partitions %s; restored state of %d patients", sorted(owned), restored)

    def _restore_state(self, owned: set[int]) -> int:
        if not owned:
            return 0
        latest = {
            r.key: r.value
            for r in read_all(self.log, [T.ALERT_STATE], purpose="restore")
            if r.key is not None and r.partition in owned
        }
        have = self.engine.patients()
        for key, value in latest.items():
            pid = key.decode()
            if pid not in have:
                self.engine.restore(pid, value)
        return len(latest)

    # -- the batch ------------------------------------------------------------------------------
    def process(self, records: list[Record]) -> None:
        self.refs.refresh()
        now = self.clock.now()
        fmt = _BatchFormat(now)
        check = self.recent.check
        emit = self._emit
        vitals: list[Vital] = []
        stats = self.stats
        for r in records:
            topic = r.topic
            try:
                event = decode(topic, r.value)
            except InvalidEvent as exc:
                send_dead_letter(self.producer, "process.validate", exc, r.value, record=r)
                stats["dead_letters"] += 1
                continue
            try:
                if topic in ROUTES or topic == T.DEVICE_DATA:
                    for v in normalise(topic, event):
                        seen = check(v)
                        if seen is not Seen.NEW:
                            if seen is Seen.CONFLICT:  # the first reading stands
                                send_dead_letter(self.producer, CONFLICT_STAGE, ConflictingDuplicate(),
                                                 r.value, record=r)
                                stats["dead_letters"] += 1
                                stats["conflicts"] += 1
                            else:
                                stats["duplicates"] += 1
                            continue
                        emit(topic, r.key, event, v, fmt)
                        vitals.append(v)
                # reference topics: validation only (the tables are read by ReferenceTables)
            except Exception as exc:  # a poison record must never stop the partition
                logger.warning("dead-lettering a %s record: %s", topic, type(exc).__name__)
                send_dead_letter(self.producer, "process.normalise", exc, r.value, record=r)
                stats["dead_letters"] += 1
        stats["in"] += len(records)
        stats["vitals"] += len(vitals)
        self._score(vitals)
        retry_transient(self.producer.flush, self.stop, what="processor flush")
        self.engine.clear_dirty()

    def _emit(self, topic: str, key: bytes | None, event: Any, v: Vital, fmt: _BatchFormat) -> None:
        original = fmt.original(_original_timestamp(event))
        if topic == T.DEVICE_DATA:
            for out_topic, data_type, fields in DEVICE_PARTS:
                if getattr(v, fields[0]) is None:
                    continue
                part = msgspec.structs.replace(v, **{f: None for f in _MEASURES if f not in fields})
                self._send(out_topic, key, part, original + fmt.suffix(data_type), fmt)
            return
        out_topic, data_type = ROUTES[topic]
        ref_topic = T.USER_PROFILES if topic == T.SMARTWATCH else T.PATIENT_METADATA
        fragment = self._fragments.get((ref_topic, v.patient_id), b"")
        self._send(out_topic, key, v, original + fmt.suffix(data_type) + fragment, fmt)

    def _send(self, topic: str, key: bytes | None, v: Vital, extra: bytes, fmt: _BatchFormat) -> None:
        body = _enc.encode(v)
        self.producer.send(topic, body[:-1] + extra + b"}", key=key, timestamp_ms=fmt.millis(v.event_time))
        self.stats["processed"] += 1

    def _score(self, vitals: list[Vital]) -> None:
        if not vitals:
            return
        engine, send = self.engine, self.producer.send
        for alert in engine.observe_batch(vitals, self._contexts):
            send(T.ALERTS, _enc.encode(alert), key=alert.patient_id.encode())
            self.stats["alerts"] += 1
        last = self._last_score
        refresh = self.NEWS2_REFRESH
        for score in engine.take_scores():
            # Emit a score when it changes (total, band, sub-scores, what is missing), or when
            # the last one emitted is a minute old in event time: the topic then says what a
            # clinician needs without a record per patient per batch.
            sig = (score.total, score.band, tuple(sorted(score.subscores.items())), tuple(score.missing))
            prev = last.get(score.patient_id)
            if prev is not None and prev[0] == sig and score.event_time - prev[1] < refresh:
                continue
            last[score.patient_id] = (sig, score.event_time)
            send(T.NEWS2, _enc.encode(score), key=score.patient_id.encode())
            self.stats["news2"] += 1
        for pid in engine.dirty_patients():
            send(T.ALERT_STATE, engine.snapshot(pid), key=pid.encode())

    def close(self) -> None:
        try:
            self.producer.close()
        finally:
            self.refs.close()
