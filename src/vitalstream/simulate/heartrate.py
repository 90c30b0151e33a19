"""Heart-rate stream: users and activities (OLTP reference data in the CSV shape), then one heart-rate
event per user per tick on ``hr-data-topic``.

Each user follows a day: asleep at local night (23:00-07:00, local = UTC shifted by the home
country's longitude), otherwise a sequence of activities lasting minutes. Heart rate stays
inside its activity's band: rest 40-80, intense 130-205, other 70-150 (the original stream's rule). A
quarter of the users send every number as a JSON string, as the original producer did.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec

from .. import topics
from .base import Outgoing, Simulator
from .clock import iso_utc
from .people import COUNTRIES, RACES, blood_type, full_name, home

ACTIVITY_NAMES = (
    "Stand", "Sit", "Sleep", "Walk", "Run", "Cycling", "Elliptical", "Rower", "Stair Stepper",
    "HIIT", "Hiking", "Yoga", "Functional Strength Training", "Dance", "Cooldown",
    "Core Training", "Pilates", "Tai Chi", "Swimming", "Wheelchair", "Multisport",
    "Kickboxing", "Other",
)
REST = frozenset({"Sleep", "Sit", "Stand"})
INTENSE = frozenset({"Run", "HIIT", "Kickboxing", "Stair Stepper", "Rower", "Swimming"})
HR_RANGES: dict[str, tuple[int, int]] = {"rest": (40, 80), "intense": (130, 205),
                                         "other": (70, 150)}
STRING_NUMBERS_SHARE = 0.25
# Reference data changes over (simulated) time, so the warehouse model has type-2 versions to
# show within the demo's first minutes: a user moves country, an activity is renamed.
MOVE_EVERY_MS = 10 * 60_000
RENAME_EVERY_MS = 30 * 60_000


def activity_category(name: str) -> str:
    """``rest`` | ``intense`` | ``other``: which heart-rate band an activity implies."""
    return "rest" if name in REST else "intense" if name in INTENSE else "other"


def _day_weight(name: str) -> float:
    return {"Sit": 30.0, "Stand": 15.0, "Walk": 20.0, "Sleep": 0.0}.get(name, 35.0 / 19)


@dataclass(slots=True)
class _UserState:
    user_id: int
    key: bytes
    offset_h: int
    lat: float
    lon: float
    strings: bool
    activity: int = -1
    left: int = 0
    lo: float = 40.0
    hi: float = 80.0
    target: float = 60.0
    hr: float = 60.0


class HeartRateSimulator(Simulator):
    profile = "heart-rate"

    def __init__(self, patients: int = 50, seed: int = 0, start: datetime | None = None,
                 interval_s: float = 1.0) -> None:
        super().__init__(patients, seed, start, interval_s)
        rng = self.rng("reference")
        ids = rng.sample(range(20001, 21000), len(ACTIVITY_NAMES))
        self.activities: list[tuple[int, str]] = list(zip(ids, ACTIVITY_NAMES, strict=True))
        self.users: list[dict[str, object]] = []
        self._states: list[_UserState] = []
        for i in range(patients):
            user, state = self._make_user(10001 + i, rng)
            self.users.append(user)
            self._states.append(state)

    def _make_user(self, user_id: int, rng: random.Random) -> tuple[dict[str, object], _UserState]:
        first, last = full_name(rng)
        sex = rng.choice("FM")
        age_days = rng.randint(18 * 365, 85 * 365)
        dob = (self.start - timedelta(days=age_days)).strftime("%Y%m%d")
        origin = rng.choice(COUNTRIES)
        country = origin if rng.random() < 0.9 else rng.choice(COUNTRIES)
        lat, lon = home(rng, country)
        height = rng.randint(150, 175) + (10 if sex == "M" else 0)
        user = {
            "userid": user_id, "fname": first, "lname": last, "dob": dob, "sex": sex,
            "height": height, "weight": int(height * rng.uniform(0.33, 0.55)),
            "blood_type": blood_type(rng), "race": rng.choice(RACES),
            "origin_country_code": origin[0], "origin_country_name": origin[1],
            "address": f"{country[4]} {last} {rng.randint(1, 200)}, {country[5]}",
            "address_country_code": country[0], "address_country_name": country[1],
            "last_update": iso_utc(self.start_ms),
        }
        state = _UserState(user_id, str(user_id).encode(), round(lon / 15), lat, lon,
                           rng.random() < STRING_NUMBERS_SHARE)
        return user, state

    def reference(self) -> list[Outgoing]:
        encode = msgspec.json.encode
        updated = iso_utc(self.start_ms)
        out = [
            Outgoing(topics.HR_ACTIVITIES, str(aid).encode(), encode(
                {"activity_id": aid, "activity_name": name, "last_update": updated}),
                self.start_ms)
            for aid, name in self.activities
        ]
        out.extend(Outgoing(topics.HR_USERS, str(u["userid"]).encode(), encode(u), self.start_ms)
                   for u in self.users)
        return out

    def events(self) -> Iterator[Outgoing]:
        rng = self.rng("events")
        rand = rng.random
        encode = msgspec.json.encode
        names = [name for _, name in self.activities]
        day_weights = [_day_weight(n) for n in names]
        sleep = names.index("Sleep")
        ticks_per_min = 60.0 / self.interval_s
        tick = 0
        changes = self.rng("changes")
        while True:
            ms = self.start_ms + tick * self.interval_ms
            seconds = ms // 1000
            if tick and ms % MOVE_EVERY_MS < self.interval_ms:
                yield self._move(changes, ms)
            if tick and ms % RENAME_EVERY_MS < self.interval_ms:
                yield self._rename(changes, ms)
            utc_hour = (ms // 3_600_000) % 24
            for u in self._states:
                hour = (utc_hour + u.offset_h) % 24
                if hour >= 23 or hour < 7:
                    if u.activity != sleep:
                        self._switch(u, sleep, "rest", rng)
                elif u.left <= 0 or u.activity == sleep:
                    choice = rng.choices(range(len(names)), day_weights)[0]
                    self._switch(u, choice, activity_category(names[choice]), rng)
                    u.left = max(1, int(rng.uniform(5, 60) * ticks_per_min))
                u.left -= 1
                hr = u.hr + 0.1 * (u.target - u.hr) + (rand() - 0.5) * 4.0
                u.hr = u.lo if hr < u.lo else u.hi if hr > u.hi else hr
                lat = round(u.lat + (rand() - 0.5) * 0.02, 6)
                lon = round(u.lon + (rand() - 0.5) * 0.02, 6)
                aid = self.activities[u.activity][0]
                body: dict[str, object]
                if u.strings:
                    body = {"user_id": str(u.user_id), "heart_rate": str(round(u.hr)),
                            "timestamp": str(seconds), "meta": {"activity_id": str(aid),
                            "location": {"latitude": str(lat), "longitude": str(lon)}}}
                else:
                    body = {"user_id": u.user_id, "heart_rate": round(u.hr),
                            "timestamp": seconds, "meta": {"activity_id": aid,
                            "location": {"latitude": lat, "longitude": lon}}}
                yield Outgoing(topics.HR_DATA, u.key, encode(body), ms)
            tick += 1

    def _move(self, rng: random.Random, ms: int) -> Outgoing:
        """A user moves to another country: a new version of their record (type-2 history)."""
        i = rng.randrange(len(self.users))
        user, state = self.users[i], self._states[i]
        country = rng.choice([c for c in COUNTRIES if c[0] != user["address_country_code"]])
        state.lat, state.lon = home(rng, country)
        state.offset_h = round(state.lon / 15)
        user = {**user, "address": f"{country[4]} {user['lname']} {rng.randint(1, 200)}, {country[5]}",
                "address_country_code": country[0], "address_country_name": country[1],
                "last_update": iso_utc(ms)}
        self.users[i] = user
        return Outgoing(topics.HR_USERS, state.key, msgspec.json.encode(user), ms)

    def _rename(self, rng: random.Random, ms: int) -> Outgoing:
        """An activity is renamed (and later back): a new version of the activity."""
        k = rng.randrange(len(self.activities))
        aid, name = self.activities[k]
        name = name.removesuffix(" (renamed)") if name.endswith(" (renamed)") else f"{name} (renamed)"
        self.activities[k] = (aid, name)
        return Outgoing(topics.HR_ACTIVITIES, str(aid).encode(), msgspec.json.encode(
            {"activity_id": aid, "activity_name": name, "last_update": iso_utc(ms)}), ms)

    @staticmethod
    def _switch(u: _UserState, activity: int, category: str, rng: random.Random) -> None:
        lo, hi = HR_RANGES[category]
        u.activity, u.lo, u.hi = activity, float(lo), float(hi)
        u.target = lo + (hi - lo) * rng.uniform(0.25, 0.75)
        u.hr = min(max(u.hr, lo), hi)
