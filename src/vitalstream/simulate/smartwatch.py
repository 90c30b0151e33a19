"""Smartwatch events: user profiles (device -> user) first, then one watch event per device per tick on
``smartwatch-events``, in both field-name variants.

About half of the devices run "firmware" that sends ``{device_id, hr, steps, state,
timestamp}`` (state ``"sleeping"``/``"awake"``, epoch seconds with millisecond precision);
the others send ``{"Device ID", "Heart Rate", "Step Count", "Sleeping State", "date"}``
(``1``/``0``, ``"yyyy-MM-dd HH:mm:ss.SSS"`` UTC). Each user sleeps nightly from a bedtime
around 22:30-00:30 for 6.5-8.5 hours (UTC): asleep, heart rate drops ~12/min below the resting
rate and steps are 0. Awake, they alternate idling and walking; steps count since the
device's previous event.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import msgspec

from .. import topics
from .base import Outgoing, Simulator
from .clock import MinuteCachedFormat


@dataclass(slots=True)
class _Watch:
    device_id: str
    key: bytes
    labelled: bool  # the "Device ID"/"Heart Rate" variant
    rest_hr: float
    bed_min: int  # minute of the UTC day the user goes to sleep
    sleep_min: int  # how long they sleep
    hr: float
    walking: bool = False
    left: int = 0


class SmartwatchSimulator(Simulator):
    profile = "smartwatch"

    def __init__(self, patients: int = 50, seed: int = 0, start: datetime | None = None,
                 interval_s: float = 1.0) -> None:
        super().__init__(patients, seed, start, interval_s)
        rng = self.rng("population")
        self.profiles: list[dict[str, object]] = []
        self._watches: list[_Watch] = []
        for i in range(patients):
            device = f"sw-{i + 1:04d}"
            age = rng.randint(18, 90)
            self.profiles.append({"device_id": device, "user_id": f"user-{i + 1:04d}",
                                  "age": age, "gender": rng.choice(("female", "male"))})
            rest = rng.uniform(58, 80)
            self._watches.append(_Watch(
                device, device.encode(), rng.random() < 0.5, rest,
                (22 * 60 + 30 + rng.randint(0, 120)) % 1440, rng.randint(390, 510), rest))

    def reference(self) -> list[Outgoing]:
        encode = msgspec.json.encode
        return [Outgoing(topics.USER_PROFILES, str(p["device_id"]).encode(), encode(p),
                         self.start_ms) for p in self.profiles]

    @staticmethod
    def asleep(w: _Watch, minute_of_day: int) -> bool:
        return (minute_of_day - w.bed_min) % 1440 < w.sleep_min

    def events(self) -> Iterator[Outgoing]:
        rng = self.rng("events")
        rand = rng.random
        encode = msgspec.json.encode
        fmt = MinuteCachedFormat(sep=" ", suffix="")
        interval = self.interval_s
        ticks_per_min = 60.0 / interval
        tick = 0
        while True:
            ms = self.start_ms + tick * self.interval_ms
            minute_of_day = (ms // 60_000) % 1440
            date_text: str | None = None
            for w in self._watches:
                if self.asleep(w, minute_of_day):
                    sleeping, steps = True, 0
                    target = w.rest_hr - 12.0
                    w.walking, w.left = False, 0
                else:
                    sleeping = False
                    if w.left <= 0:
                        w.walking = rand() < 0.3
                        w.left = max(1, int((2 + rand() * 20) * ticks_per_min))
                    w.left -= 1
                    rate = 1.4 + rand() * 0.6 if w.walking else (0.05 if rand() < 0.2 else 0.0)
                    steps = int(rate * interval + rand()) if rate else 0
                    target = w.rest_hr + (30.0 if w.walking else 5.0)
                hr = w.hr + 0.1 * (target - w.hr) + (rand() - 0.5) * 3.0
                w.hr = 38.0 if hr < 38.0 else 190.0 if hr > 190.0 else hr
                if w.labelled:
                    if date_text is None:
                        date_text = fmt(ms)
                    body: dict[str, object] = {
                        "Device ID": w.device_id, "Heart Rate": round(w.hr),
                        "Step Count": steps, "Sleeping State": 1 if sleeping else 0,
                        "date": date_text}
                else:
                    body = {"device_id": w.device_id, "hr": round(w.hr), "steps": steps,
                            "state": "sleeping" if sleeping else "awake",
                            "timestamp": ms / 1000}
                yield Outgoing(topics.SMARTWATCH, w.key, encode(body), ms)
            tick += 1
