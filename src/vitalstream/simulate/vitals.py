"""Smartwatch vitals: patient metadata first, then heart rate, SpO2, blood pressure and fall detection
for every patient at every tick (in that order), each with a uuid4 ``event_id``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import msgspec

from .. import topics
from .base import Outgoing, Simulator
from .clock import MinuteCachedFormat, uuid4_text
from .people import ALLERGIES, blood_type, emergency_contact
from .population import Patient, fell, make_patient, step


class VitalsSimulator(Simulator):
    profile = "vitals"

    def __init__(self, patients: int = 50, seed: int = 0, start: datetime | None = None,
                 interval_s: float = 1.0) -> None:
        super().__init__(patients, seed, start, interval_s)
        rng = self.rng("population")
        self.population: list[Patient] = [make_patient(i, rng) for i in range(patients)]

    @staticmethod
    def patient_id(index: int) -> str:
        return f"patient-{index + 1:04d}"

    def reference(self) -> list[Outgoing]:
        rng = self.rng("metadata")
        encode = msgspec.json.encode
        out = []
        for p in self.population:
            pid = self.patient_id(p.index)
            checkup = (self.start - timedelta(days=rng.randint(7, 400))).date().isoformat()
            record = {
                "patient_id": pid,
                "age": p.age,
                "gender": p.gender,
                "medical_history": "; ".join(p.conditions) or "none",
                "emergency_contact": emergency_contact(rng),
                "blood_type": blood_type(rng),
                "allergies": rng.choice(ALLERGIES),
                "last_checkup_date": checkup,
                "device_id": f"watch-{p.index + 1:04d}",
            }
            out.append(Outgoing(topics.PATIENT_METADATA, pid.encode(), encode(record),
                                self.start_ms))
        return out

    def events(self) -> Iterator[Outgoing]:
        rng = self.rng("events")
        getrandbits = rng.getrandbits
        encode = msgspec.json.encode
        fmt = MinuteCachedFormat()
        keys = [(self.patient_id(p.index), self.patient_id(p.index).encode())
                for p in self.population]
        hr_t, o2_t, bp_t, fall_t = (topics.HEART_RATE, topics.BLOOD_OXYGEN,
                                    topics.BLOOD_PRESSURE, topics.FALL_DETECTION)
        tick = 0
        while True:
            ms = self.start_ms + tick * self.interval_ms
            ts = fmt(ms)
            for p, (pid, key) in zip(self.population, keys, strict=True):
                step(p, rng, tick)
                sys = round(p.sys)
                yield Outgoing(hr_t, key, encode({
                    "event_id": uuid4_text(getrandbits(128)), "patient_id": pid,
                    "timestamp": ts, "data_type": "heart_rate", "heart_rate": round(p.hr)}), ms)
                yield Outgoing(o2_t, key, encode({
                    "event_id": uuid4_text(getrandbits(128)), "patient_id": pid,
                    "timestamp": ts, "data_type": "blood_oxygen", "spo2": round(p.spo2)}), ms)
                yield Outgoing(bp_t, key, encode({
                    "event_id": uuid4_text(getrandbits(128)), "patient_id": pid,
                    "timestamp": ts, "data_type": "blood_pressure", "systolic": sys,
                    "diastolic": min(round(p.dia), sys - 10)}), ms)
                yield Outgoing(fall_t, key, encode({
                    "event_id": uuid4_text(getrandbits(128)), "patient_id": pid,
                    "timestamp": ts, "data_type": "fall_detection",
                    "fall_detected": fell(p, rng)}), ms)
            tick += 1

