"""Heart-rate stream on ``hr-data-topic`` plus OLTP reference data (users, activities).

``{"user_id": 10001, "heart_rate": 128, "timestamp": 1711943972, "meta": {"activity_id":
20890, "location": {"latitude": 37.41, "longitude": -121.97}}}``. The original producer sent
every number as a JSON string, so these schemas are decoded with ``strict=False``: ``"72"``
becomes 72, while ``"fast"`` is rejected. Users and activities change over time
(``last_update``) and are keyed by their id on ``hr-users`` / ``hr-activities``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from .canonical import Vital
from .ids import uuid5_str
from .physiology import (
    EpochSeconds,
    HeartRate,
    Latitude,
    Longitude,
    NonEmpty,
    UtcDatetime,
    check_time,
    from_epoch,
)

PositiveId = Annotated[int, msgspec.Meta(gt=0)]


class Location(msgspec.Struct, frozen=True, gc=False):
    latitude: Latitude
    longitude: Longitude


class HeartRateMeta(msgspec.Struct, frozen=True, gc=False):
    activity_id: PositiveId
    location: Location | None = None


class HeartRateReading(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    user_id: PositiveId
    heart_rate: HeartRate
    timestamp: EpochSeconds
    meta: HeartRateMeta


class User(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the users table (``users.csv``): ``dob`` is ``YYYYMMDD``."""

    userid: PositiveId
    fname: str
    lname: str
    dob: Annotated[str, msgspec.Meta(pattern=r"^\d{8}$")]
    sex: str
    height: Annotated[float, msgspec.Meta(gt=0, le=300, description="cm")]
    weight: Annotated[float, msgspec.Meta(gt=0, le=700, description="kg")]
    blood_type: str
    race: str
    origin_country_code: str
    origin_country_name: str
    address: str
    address_country_code: str
    address_country_name: str
    last_update: UtcDatetime

    def __post_init__(self) -> None:
        try:
            date(int(self.dob[:4]), int(self.dob[4:6]), int(self.dob[6:]))
        except ValueError:
            raise ValueError("dob: not a calendar date YYYYMMDD") from None
        check_time(self.last_update, "last_update")

    @property
    def birth_date(self) -> date:
        return date(int(self.dob[:4]), int(self.dob[4:6]), int(self.dob[6:]))


class Activity(msgspec.Struct, frozen=True, kw_only=True):
    activity_id: PositiveId
    activity_name: NonEmpty
    last_update: UtcDatetime

    def __post_init__(self) -> None:
        check_time(self.last_update, "last_update")


def to_vitals(topic: str, event: HeartRateReading) -> list[Vital]:
    user = str(event.user_id)
    location = event.meta.location
    lat = location.latitude if location is not None else None
    lon = location.longitude if location is not None else None
    event_id = uuid5_str(
        f"{topic}\x1f{user}\x1f{event.timestamp * 1000}\x1f{event.heart_rate}"
        f"\x1f{event.meta.activity_id}"
    )
    return [
        Vital(
            event_id=event_id,
            patient_id=user,
            source="heart-rate",
            event_time=from_epoch(event.timestamp),
            heart_rate=event.heart_rate,
            activity_id=event.meta.activity_id,
            latitude=lat,
            longitude=lon,
        )
    ]

