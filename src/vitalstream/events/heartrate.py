"""Heart-rate stream on ``hr-data-topic`` plus OLTP reference data (users, activities).

``{"user_id": 10001, "heart_rate": 128, "timestamp": 1711943972, "meta": {"activity_id":
20890, "location": {"latitude": 37.41, "longitude": -121.97}}}``. The original producer sent
every number as a JSON string, so these schemas are decoded with ``strict=False``: ``"72"``
becomes 72, while ``"fast"`` is rejected. Users and activities change over time
(``last_update``) and are keyed by their id on ``hr-users`` / ``hr-activities``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated

import msgspec

from .canonical import Vital
from .ids import uuid5_many
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


def to_vitals(topic: str, events: Sequence[HeartRateReading]) -> list[Vital]:
    """One Vital per event, in order (the ids of a run are computed together)."""
    users = [str(event.user_id) for event in events]
    ids = uuid5_many([
        f"{topic}\x1f{user}\x1f{event.timestamp * 1000}\x1f{event.heart_rate}\x1f{event.meta.activity_id}"
        for user, event in zip(users, events, strict=True)
    ])
    out = []
    for event, user, event_id in zip(events, users, ids, strict=True):
        meta = event.meta
        location = meta.location
        out.append(Vital(
            event_id=event_id,
            patient_id=user,
            source="heart-rate",
            event_time=from_epoch(event.timestamp),
            heart_rate=event.heart_rate,
            activity_id=meta.activity_id,
            latitude=None if location is None else location.latitude,
            longitude=None if location is None else location.longitude,
        ))
    return out
