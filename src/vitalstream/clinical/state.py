"""Per-patient clinical state: what survives a restart, and how it is encoded.

All state of the clinical engine (alert episodes and the NEWS2 inputs) is held per patient in
a :class:`PatientState`, so a stream processor can keep it per input partition, persist the
patients that changed (:meth:`PatientStore.dirty_patients`) with each offset commit, and
rebuild it after a restart or rebalance with :meth:`PatientStore.restore`. Everything the
engine decides is derived from this state and the vitals observed after it.

Times inside the state are event times (timezone-aware ``datetime``). A snapshot is the
msgpack encoding of one :class:`PatientState` (``schema`` guards format changes).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

import msgspec

from vitalstream.errors import SnapshotError
from vitalstream.events.canonical import Vital

SCHEMA = 1

# Phases of one (patient, rule) episode; see vitalstream.clinical.episode.
IDLE, ACTIVE, SUPPRESSED = 0, 1, 2

#: Vital fields the engine keeps the latest value of (alert inputs and NEWS2 inputs).
TRACKED_FIELDS: tuple[str, ...] = (
    "heart_rate",
    "spo2",
    "systolic",
    "diastolic",
    "temperature_c",
    "respiratory_rate",
    "consciousness",
    "on_oxygen",
    "fall_detected",
)
#: Bit of each tracked field in the mask :meth:`PatientState.record` returns.
FIELD_BITS: dict[str, int] = {f: 1 << i for i, f in enumerate(TRACKED_FIELDS)}
_FIELD_BITS = tuple(FIELD_BITS.items())
assert [FIELD_BITS[f] for f in TRACKED_FIELDS] == [1, 2, 4, 8, 16, 32, 64, 128, 256]

Value = int | float | bool | str


class PatientContext(msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True):
    """What the engine needs to know about a patient besides the vitals.

    ``age`` in years (a fall is critical above the rule's ``critical_over_age``);
    ``spo2_scale`` 2 when the patient has a prescribed 88–92 % SpO2 target (e.g. hypercapnic
    COPD), else 1. ``None`` means "unchanged": the engine remembers the last known values in
    the patient's state, so later vitals need no context.
    """

    age: int | None = None
    spo2_scale: Literal[1, 2] | None = None


class RuleState(msgspec.Struct, array_like=True, gc=False):
    """One (patient, rule) episode. Exists only while there is something to remember."""

    phase: int = IDLE
    bits: int = 0  # k-of-n window: bit i set = the i-th most recent sample breached
    breach_since: datetime | None = None  # first sample of the current consecutive breach run
    last_breach: datetime | None = None
    last_t: datetime | None = None  # latest sample this rule looked at
    clear_run: int = 0  # consecutive samples past the clear threshold
    notified: float = 0.0  # ``worse`` of the last raised/escalated notification
    severity: str = ""  # severity of the last notification
    cleared_at: datetime | None = None  # event time of the last emitted clear


class PatientState(msgspec.Struct, gc=False):
    """Everything the engine remembers about one patient."""

    schema: int = SCHEMA
    latest: dict[str, tuple[Value, datetime]] = {}  # field -> (value, event time)
    newest: datetime | None = None  # newest event time in ``latest``
    rules: dict[str, RuleState] = {}
    age: int | None = None
    spo2_scale: int = 1

    def apply(self, context: PatientContext) -> bool:
        """Remember the known parts of ``context``; true if anything changed."""
        changed = False
        if context.age is not None and context.age != self.age:
            self.age = context.age
            changed = True
        if context.spo2_scale is not None and context.spo2_scale != self.spo2_scale:
            self.spo2_scale = context.spo2_scale
            changed = True
        return changed

    def record(self, v: Vital, t: datetime) -> int:
        """Store the fields of ``v`` newer than what is known; return their bit mask.

        A field whose event time ``t`` is not newer than the stored one (a replay, a
        duplicate or an out-of-order reading) is ignored. 0 when nothing was new.
        """
        newest = self.newest
        if newest is not None and t <= newest:
            return self._record_late(v, t)
        # In order (the common case): every present field is new. Unrolled on purpose: this
        # runs for every vital and a loop over getattr costs three times as much.
        self.newest = t
        latest = self.latest
        mask = 0
        x: Value | None
        if (x := v.heart_rate) is not None:
            latest["heart_rate"] = (x, t)
            mask |= 1
        if (x := v.spo2) is not None:
            latest["spo2"] = (x, t)
            mask |= 2
        if (x := v.systolic) is not None:
            latest["systolic"] = (x, t)
            mask |= 4
        if (x := v.diastolic) is not None:
            latest["diastolic"] = (x, t)
            mask |= 8
        if (x := v.temperature_c) is not None:
            latest["temperature_c"] = (x, t)
            mask |= 16
        if (x := v.respiratory_rate) is not None:
            latest["respiratory_rate"] = (x, t)
            mask |= 32
        if (x := v.consciousness) is not None:
            latest["consciousness"] = (x, t)
            mask |= 64
        if (x := v.on_oxygen) is not None:
            latest["on_oxygen"] = (x, t)
            mask |= 128
        if (x := v.fall_detected) is not None:
            latest["fall_detected"] = (x, t)
            mask |= 256
        return mask

    def _record_late(self, v: Vital, t: datetime) -> int:
        latest = self.latest
        mask = 0
        for f, bit in _FIELD_BITS:
            x = getattr(v, f)
            if x is not None:
                prev = latest.get(f)
                if prev is None or t > prev[1]:
                    latest[f] = (x, t)
                    mask |= bit
        return mask


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(PatientState)


def encode(state: PatientState) -> bytes:
    return _encoder.encode(state)


def decode(data: bytes) -> PatientState:
    """Decode a snapshot; raises SnapshotError if it is corrupt or of an unknown schema."""
    try:
        state = _decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise SnapshotError(f"corrupt clinical state snapshot: {exc}") from exc
    if state.schema != SCHEMA:
        raise SnapshotError(f"clinical state schema {state.schema} is not {SCHEMA}")
    return state


class PatientStore:
    """Per-patient states with change tracking: the unit of snapshot and restore.

    ``dirty_patients()`` are those whose state changed since ``clear_dirty()``; persist their
    ``snapshot()`` together with the offset commit. ``snapshot`` of an unknown patient is an
    empty state (restoring it forgets the patient).
    """

    def __init__(self) -> None:
        self.states: dict[str, PatientState] = {}
        self.dirty: set[str] = set()

    def get(self, patient_id: str) -> PatientState:
        state = self.states.get(patient_id)
        if state is None:
            state = self.states[patient_id] = PatientState()
        return state

    def snapshot(self, patient_id: str) -> bytes:
        return encode(self.states.get(patient_id) or PatientState())

    def restore(self, patient_id: str, data: bytes) -> None:
        state = decode(data)
        if state.latest or state.rules or state.age is not None or state.spo2_scale != 1:
            self.states[patient_id] = state
        else:
            self.states.pop(patient_id, None)
        self.dirty.discard(patient_id)

    def dirty_patients(self) -> set[str]:
        return set(self.dirty)

    def clear_dirty(self) -> None:
        self.dirty.clear()

    def drop(self, patient_ids: Iterable[str]) -> None:
        for pid in patient_ids:
            self.states.pop(pid, None)
            self.dirty.discard(pid)

    def __len__(self) -> int:
        return len(self.states)

    def __contains__(self, patient_id: object) -> bool:
        return patient_id in self.states
