"""Smartwatch events posted over HTTP to ``smartwatch-events`` (key: device id).

Two field-name variants arrive and both normalise to the same :class:`Vital`:

* :class:`SmartwatchEvent` ``{"device_id", "hr", "steps", "state", "timestamp"}`` with
  ``timestamp`` in epoch seconds (float, millisecond precision);
* :class:`SmartwatchEventLabelled` ``{"Device ID", "Heart Rate", "Step Count",
  "Sleeping State", "date"}`` with ``date`` as ``"yyyy-MM-dd HH:mm:ss.SSS"`` in UTC (an
  explicit offset is honoured).

Sleep state: the original system does not document it, so both common encodings are accepted in either
variant: booleans / ``1`` / ``0`` (1 = sleeping) and the words ``"sleeping"``, ``"asleep"``,
``"sleep"`` vs ``"awake"``, ``"active"`` (case-insensitive; ``"1"``/``"0"``/``"true"``/
``"false"`` too). The simulator sends ``"sleeping"``/``"awake"`` in the first variant and
``1``/``0`` in the second. ``steps`` is the step count since the device's previous event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec

from .canonical import Vital
from .ids import uuid5_many
from .physiology import (
    Age,
    EpochSecondsF,
    HeartRateF,
    NonEmpty,
    Steps,
    as_utc,
    check_time,
    from_epoch,
)

SleepState = bool | int | str
_SLEEPING = {"sleeping": True, "asleep": True, "sleep": True, "1": True, "true": True,
             "awake": False, "active": False, "0": False, "false": False}


def parse_sleeping(state: SleepState, field: str = "state") -> bool:
    if state is True or state is False:
        return state
    if type(state) is int:
        if state in (0, 1):
            return state == 1
    elif type(state) is str:
        found = _SLEEPING.get(state)  # as spelt in the table: the common case, no copies
        if found is None:
            found = _SLEEPING.get(state.strip().lower())
        if found is not None:
            return found
    raise ValueError(f"{field}: expected sleeping/awake, true/false or 1/0")


class SmartwatchEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    device_id: NonEmpty
    hr: HeartRateF
    steps: Steps
    state: SleepState
    timestamp: EpochSecondsF

    def __post_init__(self) -> None:
        parse_sleeping(self.state)

    @property
    def sleeping(self) -> bool:
        return parse_sleeping(self.state)

    @property
    def event_time(self) -> datetime:
        return from_epoch(self.timestamp)


class SmartwatchEventLabelled(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    device_id: NonEmpty = msgspec.field(name="Device ID")
    heart_rate: HeartRateF = msgspec.field(name="Heart Rate")
    step_count: Steps = msgspec.field(name="Step Count")
    sleeping_state: SleepState = msgspec.field(name="Sleeping State")
    date: datetime = msgspec.field(name="date")

    def __post_init__(self) -> None:
        parse_sleeping(self.sleeping_state, "Sleeping State")
        check_time(self.date, "date")

    @property
    def sleeping(self) -> bool:
        return parse_sleeping(self.sleeping_state)

    @property
    def event_time(self) -> datetime:
        return as_utc(self.date)


class UserProfile(msgspec.Struct, frozen=True, kw_only=True):
    """Maps a device to its user (reference data on ``user-profiles``, key ``device_id``)."""

    device_id: NonEmpty
    user_id: NonEmpty
    age: Age
    gender: str


AnySmartwatchEvent = SmartwatchEvent | SmartwatchEventLabelled


def to_vitals(topic: str, events: Sequence[AnySmartwatchEvent]) -> list[Vital]:
    """One Vital per event, in order (the ids of a run are computed together)."""
    fields = []
    raw: float | datetime  # the source's time: epoch seconds or a datetime
    for event in events:
        if type(event) is SmartwatchEvent:
            device, hr, steps, state, raw = event.device_id, event.hr, event.steps, event.state, event.timestamp
        else:
            assert type(event) is SmartwatchEventLabelled
            device, hr, steps, state, raw = (
                event.device_id, event.heart_rate, event.step_count, event.sleeping_state, event.date
            )
        heart_rate = max(1, round(hr))
        sleeping = state if state is True or state is False else parse_sleeping(state)
        timed = _TIMES.get(raw)
        if timed is None:
            timed = _time_of(raw)
        fields.append((device, heart_rate, steps, sleeping, timed))
    ids = uuid5_many([
        f"{topic}\x1f{device}\x1f{time_ms}\x1f{heart_rate}\x1f{steps}\x1f{sleeping}"
        for device, heart_rate, steps, sleeping, (_, time_ms) in fields
    ])
    return [
        Vital(
            event_id=event_id,
            patient_id=device,
            source="smartwatch",
            event_time=when,
            heart_rate=heart_rate,
            steps=steps,
            sleeping=sleeping,
            device_id=device,
        )
        for (device, heart_rate, steps, sleeping, (when, _)), event_id in zip(fields, ids, strict=True)
    ]


# the source's time (epoch seconds, or a datetime) -> (UTC event time, epoch ms): watches
# reporting at the same tick share one entry, so most events skip the datetime arithmetic
_TIMES: dict[float | datetime, tuple[datetime, int]] = {}


def _time_of(raw: float | datetime) -> tuple[datetime, int]:
    when = as_utc(raw) if isinstance(raw, datetime) else from_epoch(raw)
    if len(_TIMES) >= 4096:
        _TIMES.clear()
    timed = _TIMES[raw] = (when, round(when.timestamp() * 1000))
    return timed
