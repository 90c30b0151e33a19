"""Simulated patients: a baseline from age and conditions, a smooth random walk around it,
and occasional deterioration episodes so that alerts and NEWS2 actually fire in a demo.

Invariants the tests hold us to: diastolic < systolic (by at least 15 mmHg), every value
inside the decoder's physiological limits, falls rare (≈0.02 % of readings, 0.1 % for
patients over 65).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

FALL_P = 0.0002
FALL_P_ELDERLY = 0.001
EPISODES: dict[str, dict[str, float]] = {
    # target shifts while an episode lasts (approached gradually by the walk)
    "sepsis": {"hr": 40, "temp": 2.1, "spo2": -6, "sys": -30, "dia": -15},
    "hypoxia": {"hr": 25, "spo2": -12},
    "hypertensive": {"sys": 75, "dia": 40, "hr": 10},
    "bradycardia": {"hr": -28},
}
_EPISODE_KINDS = tuple(EPISODES)
_NO_SHIFT: dict[str, float] = {}


@dataclass(slots=True)
class Patient:
    index: int
    age: int
    gender: str
    conditions: tuple[str, ...]
    hr0: float
    spo20: float
    sys0: float
    dia0: float
    temp0: float
    fall_p: float
    prone: bool  # deteriorates from time to time
    hr: float = 0.0
    spo2: float = 0.0
    sys: float = 0.0
    dia: float = 0.0
    temp: float = 0.0
    episode_left: int = 0
    shift: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.hr, self.spo2, self.sys, self.dia, self.temp = (
            self.hr0, self.spo20, self.sys0, self.dia0, self.temp0
        )

    @property
    def elderly(self) -> bool:
        return self.age > 65


def make_patient(index: int, rng: random.Random) -> Patient:
    age = int(min(95, max(18, rng.gauss(58, 18))))
    gender = rng.choice(("female", "male"))
    conditions: list[str] = []
    hr0, spo20 = rng.uniform(60, 85), rng.uniform(95.5, 99)
    sys0, dia0, temp0 = rng.uniform(105, 130), rng.uniform(65, 82), rng.uniform(36.4, 37.1)
    if rng.random() < 0.12 + (0.08 if age > 65 else 0.0):
        conditions.append("COPD")
        spo20 = rng.uniform(88, 94)
    if rng.random() < 0.2 + (0.25 if age > 65 else 0.0):
        conditions.append("hypertension")
        sys0, dia0 = rng.uniform(140, 165), rng.uniform(88, 100)
    if rng.random() < 0.08:
        conditions.append("tachycardia")
        hr0 = rng.uniform(100, 115)
    elif rng.random() < 0.05:
        conditions.append("athlete")
        hr0 = rng.uniform(46, 57)
    if age > 65 and rng.random() < 0.25:
        conditions.append("osteoporosis")
    prone = index == 0 or rng.random() < 0.1
    return Patient(
        index=index, age=age, gender=gender, conditions=tuple(conditions),
        hr0=hr0, spo20=spo20, sys0=sys0, dia0=dia0, temp0=temp0,
        fall_p=FALL_P_ELDERLY if age > 65 else FALL_P, prone=prone,
    )


def _walk(x: float, target: float, noise: float, r: float) -> float:
    return x + 0.08 * (target - x) + (r - 0.5) * noise


def step(p: Patient, rng: random.Random, tick: int) -> None:
    """Advance one reading: maybe start/end an episode, then walk every vital."""
    if p.episode_left > 0:
        p.episode_left -= 1
        if p.episode_left == 0:
            p.shift = _NO_SHIFT
    elif p.prone and ((p.index == 0 and tick == 30) or rng.random() < 1 / 900):
        p.shift = EPISODES[_EPISODE_KINDS[rng.randrange(len(_EPISODE_KINDS))]]
        p.episode_left = rng.randint(120, 600)
    s = p.shift
    rand = rng.random
    hr = _walk(p.hr, p.hr0 + s.get("hr", 0.0), 3.0, rand())
    spo2 = _walk(p.spo2, p.spo20 + s.get("spo2", 0.0), 1.2, rand())
    sys = _walk(p.sys, p.sys0 + s.get("sys", 0.0), 4.0, rand())
    dia = _walk(p.dia, p.dia0 + s.get("dia", 0.0), 3.0, rand())
    temp = _walk(p.temp, p.temp0 + s.get("temp", 0.0), 0.06, rand())
    p.hr = 30.0 if hr < 30.0 else 210.0 if hr > 210.0 else hr
    p.spo2 = 70.0 if spo2 < 70.0 else 100.0 if spo2 > 100.0 else spo2
    p.sys = 75.0 if sys < 75.0 else 250.0 if sys > 250.0 else sys
    dia = 40.0 if dia < 40.0 else 140.0 if dia > 140.0 else dia
    p.dia = dia if dia <= p.sys - 15.0 else p.sys - 15.0
    p.temp = 34.5 if temp < 34.5 else 41.5 if temp > 41.5 else temp


def fell(p: Patient, rng: random.Random) -> bool:
    return rng.random() < p.fall_p
