"""Device gateway: one combined message per device per tick on ``device_data`` (key ``deviceId``).

Temperature is sent in °F with one decimal, the timestamp in whole epoch seconds. About one
device in ten has no GPS fix and omits ``latitude``/``longitude`` (as the original gateway's
own test message did); the others report a location jittering around home.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import msgspec

from .. import topics
from .base import Outgoing, Simulator
from .people import COUNTRIES, home
from .population import Patient, make_patient, step


class DeviceSimulator(Simulator):
    profile = "device"

    def __init__(self, patients: int = 50, seed: int = 0, start: datetime | None = None,
                 interval_s: float = 1.0) -> None:
        super().__init__(patients, seed, start, interval_s)
        rng = self.rng("population")
        self.population: list[Patient] = [make_patient(i, rng) for i in range(patients)]
        self.homes: list[tuple[float, float] | None] = [
            None if rng.random() < 0.1 else home(rng, rng.choice(COUNTRIES))
            for _ in range(patients)
        ]

    @staticmethod
    def device_id(index: int) -> str:
        return f"device-{index + 1:04d}"

    def events(self) -> Iterator[Outgoing]:
        rng = self.rng("events")
        rand = rng.random
        encode = msgspec.json.encode
        ids = [(self.device_id(i), self.device_id(i).encode()) for i in range(self.patients)]
        tick = 0
        while True:
            ms = self.start_ms + tick * self.interval_ms
            seconds = ms // 1000
            for p, (device, key), place in zip(self.population, ids, self.homes, strict=True):
                step(p, rng, tick)
                sys = round(p.sys)
                message: dict[str, object] = {
                    "deviceId": device,
                    "timestamp": seconds,
                    "heartRate": round(p.hr),
                    "systolic": sys,
                    "diastolic": min(round(p.dia), sys - 10),
                    "oxygenSaturation": round(p.spo2),
                    "bodyTemperature": round(p.temp * 1.8 + 32.0, 1),
                }
                if place is not None:
                    message["latitude"] = round(place[0] + (rand() - 0.5) * 0.002, 6)
                    message["longitude"] = round(place[1] + (rand() - 0.5) * 0.002, 6)
                yield Outgoing(topics.DEVICE_DATA, key, encode(message), ms)
            tick += 1
