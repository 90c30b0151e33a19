"""The canonical, normalised records every source becomes.

Units are fixed: temperature in °C, heart/respiration rate per minute, SpO2 in %, blood
pressure in mmHg. Times are timezone-aware UTC ``datetime``s; ``event_time`` is when the
device measured, ``processed_time`` when vitalstream processed it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

Source = Literal["vitals", "device", "heart-rate", "smartwatch"]


class Vital(msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True):
    """One normalised measurement (or a combined device reading) of one patient.

    ``patient_id`` is the seed-0 patient id, the seed-1 device id, the seed-3 user id (as a
    string) or the seed-4 user id (device id when no profile maps it). Fields a source does not
    measure stay ``None``: NEWS2 reports them as missing rather than scoring them 0.
    """

    event_id: str
    patient_id: str
    source: Source
    event_time: datetime
    heart_rate: int | None = None
    spo2: int | None = None
    systolic: int | None = None
    diastolic: int | None = None
    temperature_c: float | None = None
    respiratory_rate: int | None = None
    consciousness: str | None = None  # "A" (alert) or one of C, V, P, U (ACVPU)
    on_oxygen: bool | None = None
    fall_detected: bool | None = None
    steps: int | None = None
    sleeping: bool | None = None
    activity_id: int | None = None
    device_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
