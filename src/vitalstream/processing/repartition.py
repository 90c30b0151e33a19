"""The internal topic between the processor's two stages, and reading owned partitions.

The stateless stage writes every vital it accepts to ``vitalstream-repartition-vitals``,
keyed by the *resolved* patient id (murmur2, like every keyed record), together with what the
stateful stage needs to know about the patient at that moment (age, SpO2 scale). However the
raw topics were keyed and partitioned — by patient, by device, by a Java producer or by
vitalstream — all of one patient's vitals then meet in one partition, and so in one worker
of the stateful stage. The state changelog (``alert-state``) is keyed the same way and has
the same partition count, so the worker owning repartition partition *p* restores exactly
changelog partition *p* when it takes *p* over.

The value is msgpack (internal, never read by people or sinks): ``[vital, age, spo2_scale]``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

import msgspec

from .. import topics as T
from ..clinical import PatientContext
from ..errors import LogUnavailable
from ..events.canonical import Vital
from ..log import private_group
from ..log.base import Log, Producer, Record

TOPIC = T.REPARTITION_VITALS


class ClinicalInput(msgspec.Struct, array_like=True, frozen=True):
    """One vital for the stateful stage, with the patient's context as known when it was
    prepared (``None``: not known, keep what the state remembers)."""

    vital: Vital
    age: int | None = None
    spo2_scale: int | None = None

    def context(self) -> PatientContext | None:
        if self.age is None and self.spo2_scale is None:
            return None
        return PatientContext(age=self.age, spo2_scale=self.spo2_scale)  # type: ignore[arg-type]


_enc = msgspec.msgpack.Encoder()
_dec = msgspec.msgpack.Decoder(ClinicalInput)


def send(producer: Producer, items: Iterable[ClinicalInput]) -> int:
    """Buffer ``items`` on the repartition topic, keyed by patient id, stamped with event
    time. Returns how many were sent."""
    encode = _enc.encode
    rows = [(item.vital.patient_id.encode(), encode(item), int(item.vital.event_time.timestamp() * 1000))
            for item in items]
    if rows:
        producer.send_batch(TOPIC, rows)
    return len(rows)


def decode(value: bytes) -> ClinicalInput:
    """Raises ``msgspec.DecodeError`` (a ``ValueError``) for a value this module did not write."""
    return _dec.decode(value)


def read_partitions(log: Log, topic: str, partitions: Iterable[int], *, purpose: str = "restore",
                    timeout: float = 60.0) -> Iterator[Record]:
    """Every record the given partitions of ``topic`` hold now, from their beginning, and no
    other partition's: a restore reads only what the worker owns.

    A private group that never commits; it starts at the end of every partition (``latest``)
    and seeks the wanted ones to their beginning. Raises LogUnavailable after ``timeout``.
    """
    wanted = set(partitions)
    pending = {(topic, p.partition): p.high for p in log.describe_topic(topic).partitions
               if p.partition in wanted and p.high > p.low}
    if not pending:
        return
    deadline = time.monotonic() + timeout
    with log.consumer(private_group(purpose), [topic], auto_offset_reset="latest") as c:
        c.seek_to_beginning(sorted(pending))
        while pending:
            records = c.poll(max_records=20_000, timeout=0.5)
            for r in records:
                if r.partition in wanted:  # others only show what arrived after we started
                    yield r
                end = pending.get((r.topic, r.partition))
                if end is not None and r.offset + 1 >= end:
                    del pending[(r.topic, r.partition)]
            if pending and not records and time.monotonic() > deadline:
                raise LogUnavailable(f"{purpose}: could not read {sorted(pending)} to the end in {timeout:g}s")
