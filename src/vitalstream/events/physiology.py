"""Physiological limits every decoded event must respect, on every edge and in the processor.

Values outside these ranges are *impossible* (sensor fault, unit mix-up, corrupt message) and
are rejected with a reason; values inside them pass even when they are clinically alarming, so
that the alert rules see them. Limits are expressed as ``msgspec.Meta`` constraints where
possible: they are checked in C while decoding and appear in the exported JSON Schemas.

Decisions:
* SpO2: ``0 < spo2 <= 100``. Readings in the 40s-60s are near-death but real devices report
  them, so they pass (and alert).
* Heart rate: ``0 < hr <= 300``.
* Blood pressure: systolic 40-300, diastolic 20-200 mmHg, and diastolic < systolic.
* Body temperature 25-45 °C (77-113 °F) after conversion.
* Event times must fall in [2000-01-01, 2100-01-01) UTC: epoch 0 is an unset device clock,
  and milliseconds sent where seconds are expected land far beyond 2100.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from msgspec import Meta

HR_MAX = 300
SYSTOLIC_MIN, SYSTOLIC_MAX = 40, 300
DIASTOLIC_MIN, DIASTOLIC_MAX = 20, 200
TEMP_C_MIN, TEMP_C_MAX = 25.0, 45.0
TEMP_F_MIN, TEMP_F_MAX = 77.0, 113.0
TIME_MIN = datetime(2000, 1, 1, tzinfo=UTC)
TIME_MAX = datetime(2100, 1, 1, tzinfo=UTC)
_NAIVE_MIN, _NAIVE_MAX = TIME_MIN.replace(tzinfo=None), TIME_MAX.replace(tzinfo=None)
EPOCH_MIN = int(TIME_MIN.timestamp())
EPOCH_MAX = int(TIME_MAX.timestamp())

HeartRate = Annotated[int, Meta(gt=0, le=HR_MAX, description="beats per minute")]
HeartRateF = Annotated[float, Meta(gt=0, le=HR_MAX, description="beats per minute")]
SpO2 = Annotated[int, Meta(gt=0, le=100, description="peripheral oxygen saturation, %")]
Systolic = Annotated[int, Meta(ge=SYSTOLIC_MIN, le=SYSTOLIC_MAX, description="mmHg")]
Diastolic = Annotated[int, Meta(ge=DIASTOLIC_MIN, le=DIASTOLIC_MAX, description="mmHg")]
TemperatureF = Annotated[
    float, Meta(ge=TEMP_F_MIN, le=TEMP_F_MAX, description="body temperature, °F (25-45 °C)")
]
Latitude = Annotated[float, Meta(ge=-90.0, le=90.0)]
Longitude = Annotated[float, Meta(ge=-180.0, le=180.0)]
Steps = Annotated[int, Meta(ge=0, le=1_000_000, description="steps since the previous event")]
Age = Annotated[int, Meta(ge=0, le=130)]
EpochSeconds = Annotated[
    int, Meta(ge=EPOCH_MIN, lt=EPOCH_MAX, description="Unix time, seconds (UTC)")
]
EpochSecondsF = Annotated[
    float, Meta(ge=EPOCH_MIN, lt=EPOCH_MAX, description="Unix time, seconds (UTC)")
]
UtcDatetime = Annotated[datetime, Meta(tz=True, description="ISO-8601 with offset, e.g. ...Z")]
NonEmpty = Annotated[str, Meta(min_length=1, max_length=256)]


def check_pressure(systolic: int, diastolic: int) -> None:
    if diastolic >= systolic:
        raise ValueError("diastolic: must be lower than systolic")


def check_time(value: datetime, field: str = "timestamp") -> None:
    """Reject times outside the window; naive values are UTC (no costly ``replace``)."""
    if value.tzinfo is None:
        inside = _NAIVE_MIN <= value < _NAIVE_MAX
    else:
        inside = TIME_MIN <= value < TIME_MAX
    if not inside:
        raise ValueError(f"{field}: must be between 2000-01-01 and 2100-01-01 UTC")


def f_to_c(fahrenheit: float) -> float:
    """°F -> °C rounded to 0.1 (the canonical unit)."""
    return round((fahrenheit - 32.0) * 5.0 / 9.0, 1)


def from_epoch(seconds: float) -> datetime:
    """A UTC datetime, cached: devices reporting at the same tick share one object."""
    t = _EPOCH.get(seconds)
    if t is None:
        if len(_EPOCH) >= 4096:
            _EPOCH.clear()
        t = _EPOCH[seconds] = datetime.fromtimestamp(seconds, UTC)
    return t


_EPOCH: dict[float, datetime] = {}


def as_utc(value: datetime) -> datetime:
    """Naive means UTC (the seeds' convention); aware values are converted."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value if value.tzinfo is UTC else value.astimezone(UTC)
