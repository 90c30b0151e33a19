"""Per-patient clinical state: what survives a restart, and how it is encoded.

All state of the clinical engine (alert episodes and the NEWS2 inputs) is held per patient in
a :class:`PatientState`, so a stream processor can keep it per input partition, persist the
patients that changed (:meth:`PatientStore.dirty_patients`) with each offset commit, and
rebuild it after a restart or rebalance with :meth:`PatientStore.restore`. Everything the
engine decides is derived from this state and the vitals observed after it.

Times inside the state are event times (timezone-aware ``datetime``). A snapshot is the
msgpack encoding of one :class:`PatientState` (``schema`` guards format changes; schema 1, of
older versions, still restores). NEWS2 keeps, besides, one :class:`Minute` per minute of event
time within its reorder window: each is its own changelog record (see :mod:`.tracker`), so a
batch writes the minute it changed, not the whole window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Literal

import msgspec

from vitalstream.errors import SnapshotError
from vitalstream.events.canonical import Vital

SCHEMA = 2
_READABLE = (1, 2)  # schema 1 had no NEWS2 minutes; its fields read the same

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
    n2_minute: int | None = None  # newest minute (epoch minutes) with a NEWS2 reading
    n2_before: dict[str, tuple[Value, datetime]] = {}  # newest NEWS2 inputs of minutes let go

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

    def _record_late(self, v: Vital, t: datetime, present: int | None = None) -> int:
        """``record`` of a reading not newer than ``newest``; ``present``: its
        :func:`present_mask`, if known (then only those fields are looked at)."""
        latest = self.latest
        mask = 0
        for f, bit in _FIELD_BITS if present is None else fields_of(present):
            x = getattr(v, f)
            if x is None:
                continue
            prev = latest.get(f)
            # ``newer``, its common outcome first (a field another source did not just send)
            if prev is None or t > prev[1] or newer(x, t, prev):
                latest[f] = (x, t)
                mask |= bit
        return mask


def _present_mask() -> Callable[[Vital], int]:
    # Straight-line code, like ``record``: a loop of getattr over the fields costs three times
    # as much. Field names come from TRACKED_FIELDS.
    lines = ["def present_mask(v):", "    m = 0"]
    lines += [f"    if v.{f} is not None: m |= {bit}" for f, bit in _FIELD_BITS]
    lines.append("    return m")
    namespace: dict[str, Callable[[Vital], int]] = {}
    exec("\n".join(lines), {}, namespace)
    return namespace["present_mask"]


#: The bit mask (:data:`FIELD_BITS`) of the tracked fields a vital has (not ``None``).
present_mask = _present_mask()

_FIELDS_OF: dict[int, tuple[tuple[str, int], ...]] = {}


def fields_of(mask: int) -> tuple[tuple[str, int], ...]:
    """``(field, bit)`` of the tracked fields set in ``mask``, cached (a vital has one of a
    few shapes)."""
    got = _FIELDS_OF.get(mask)
    if got is None:
        got = _FIELDS_OF[mask] = tuple((f, b) for f, b in _FIELD_BITS if mask & b)
    return got


def newer(x: Value, t: datetime, prev: tuple[Value, datetime] | None) -> bool:
    """True if reading ``(x, t)`` supersedes ``prev``: later, or at the same instant and the
    larger value — a total order, so the outcome never depends on arrival order."""
    if prev is None or t > prev[1]:
        return True
    if t < prev[1]:
        return False
    try:
        return x > prev[0]  # type: ignore[operator]
    except TypeError:
        return str(x) > str(prev[0])


class Minute(msgspec.Struct, array_like=True, gc=False):
    """The NEWS2 inputs of one minute of event time: the last reading of each parameter in
    it, and a checksum of the score last emitted for the minute (0: none yet)."""

    minute: int  # epoch minutes
    last: dict[str, tuple[Value, datetime]] = {}
    sent: int = 0


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(PatientState)
_minute_decoder = msgspec.msgpack.Decoder(Minute)


def encode(state: PatientState) -> bytes:
    return _encoder.encode(state)


def decode(data: bytes) -> PatientState:
    """Decode a snapshot; raises SnapshotError if it is corrupt or of an unknown schema."""
    try:
        state = _decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise SnapshotError(f"corrupt clinical state snapshot: {exc}") from exc
    if state.schema not in _READABLE:
        raise SnapshotError(f"clinical state schema {state.schema} is not one of {_READABLE}")
    return state


def decode_minute(data: bytes) -> Minute:
    try:
        return _minute_decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise ValueError(f"corrupt NEWS2 minute snapshot: {exc}") from exc


class PatientStore:
    """Per-patient states with change tracking: the unit of snapshot and restore.

    ``dirty_patients()`` are those whose state changed since ``clear_dirty()``; persist their
    ``snapshot()`` together with the offset commit. ``snapshot`` of an unknown patient is an
    empty state (restoring it forgets the patient).
    """

    def __init__(self) -> None:
        self.states: dict[str, PatientState] = {}
        self.dirty: set[str] = set()
        self.minutes: dict[str, dict[int, Minute]] = {}  # NEWS2 window per patient
        self.dirty_minutes: set[tuple[str, int]] = set()

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
            self.minutes.pop(patient_id, None)
        self.dirty.discard(patient_id)

    def restore_minute(self, patient_id: str, data: bytes) -> Minute:
        cell = decode_minute(data)
        self.minutes.setdefault(patient_id, {})[cell.minute] = cell
        self.dirty_minutes.discard((patient_id, cell.minute))
        return cell

    def dirty_patients(self) -> set[str]:
        return set(self.dirty)

    def clear_dirty(self) -> None:
        self.dirty.clear()
        self.dirty_minutes.clear()

    def drop(self, patient_ids: Iterable[str]) -> None:
        gone = set(patient_ids)
        for pid in gone:
            self.states.pop(pid, None)
            self.minutes.pop(pid, None)
            self.dirty.discard(pid)
        if self.dirty_minutes:
            self.dirty_minutes = {k for k in self.dirty_minutes if k[0] not in gone}

    def __len__(self) -> int:
        return len(self.states)

    def __contains__(self, patient_id: object) -> bool:
        return patient_id in self.states
