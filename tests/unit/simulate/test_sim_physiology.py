"""Simulated physiology: plausible, never impossible, rare falls, deterioration for demos."""

from __future__ import annotations

from collections import Counter
from itertools import islice
from statistics import mean

import msgspec
import pytest

from vitalstream import topics
from vitalstream.simulate import Outgoing, make
from vitalstream.simulate.population import FALL_P_ELDERLY

_any = msgspec.json.Decoder()


@pytest.fixture(scope="module")
def vitals_run() -> tuple[dict[bytes, int], list[Outgoing]]:
    """100k readings of each vital for 200 patients (400k messages), generated once."""
    sim = make("vitals", patients=200, seed=11)
    ages = {m.key: _any.decode(m.value)["age"] for m in sim.reference()}
    return ages, list(islice(sim.events(), 400_000))


def test_100k_blood_pressure_readings_diastolic_below_systolic(
    vitals_run: tuple[dict[bytes, int], list[Outgoing]],
) -> None:
    seen = 0
    for msg in vitals_run[1]:
        if msg.topic == topics.BLOOD_PRESSURE:
            body = _any.decode(msg.value)
            assert body["diastolic"] < body["systolic"]
            assert 40 <= body["systolic"] <= 300 and 20 <= body["diastolic"] <= 200
            seen += 1
    assert seen == 100_000


def test_falls_are_rare_and_more_likely_in_the_elderly(
    vitals_run: tuple[dict[bytes, int], list[Outgoing]],
) -> None:
    ages, messages = vitals_run
    readings: Counter[bool] = Counter()
    falls: Counter[bool] = Counter()
    for msg in messages:
        if msg.topic == topics.FALL_DETECTION:
            elderly = ages[msg.key] > 65
            readings[elderly] += 1
            falls[elderly] += _any.decode(msg.value)["fall_detected"]
    assert readings[True] + readings[False] == 100_000
    total_rate = (falls[True] + falls[False]) / 100_000
    assert 0 < total_rate <= 0.001  # the seed fell 50 % of the time
    elderly_rate = falls[True] / readings[True]
    young_rate = falls[False] / readings[False]
    assert elderly_rate <= 2 * FALL_P_ELDERLY
    assert elderly_rate > young_rate


def test_conditions_shape_baselines() -> None:
    sim = make("vitals", patients=300, seed=9)
    history = {m.key: _any.decode(m.value)["medical_history"] for m in sim.reference()}
    spo2: dict[bytes, list[int]] = {}
    systolic: dict[bytes, list[int]] = {}
    for msg in islice(sim.events(), 300 * 4 * 20):
        body = _any.decode(msg.value)
        if msg.topic == topics.BLOOD_OXYGEN:
            spo2.setdefault(msg.key, []).append(body["spo2"])
        elif msg.topic == topics.BLOOD_PRESSURE:
            systolic.setdefault(msg.key, []).append(body["systolic"])
    copd = [mean(v) for k, v in spo2.items() if "COPD" in history[k]]
    others = [mean(v) for k, v in spo2.items() if "COPD" not in history[k]]
    assert copd and mean(copd) < 95 < mean(others)
    hyper = [mean(v) for k, v in systolic.items() if "hypertension" in history[k]]
    normo = [mean(v) for k, v in systolic.items() if "hypertension" not in history[k]]
    assert hyper and mean(hyper) > mean(normo) + 15


def test_some_patient_deteriorates_early_so_alerts_fire() -> None:
    sim = make("vitals", patients=20, seed=0)
    alarming = set()
    for msg in islice(sim.events(), 20 * 4 * 300):  # five minutes at 1 s
        body = _any.decode(msg.value)
        if (body.get("spo2", 100) < 90 or body.get("heart_rate", 70) > 120
                or body.get("heart_rate", 70) < 45 or body.get("systolic", 120) >= 180):
            alarming.add(msg.key)
    assert alarming
    assert len(alarming) < 20  # most patients stay stable


def test_device_messages_in_fahrenheit_with_optional_location() -> None:
    sim = make("device", patients=40, seed=1)
    msgs = [_any.decode(m.value) for m in islice(sim.events(), 4000)]
    temps = [m["bodyTemperature"] for m in msgs]
    assert 96.0 < mean(temps) < 100.0
    with_gps = sum("latitude" in m for m in msgs)
    assert 0 < with_gps < len(msgs)
    assert all(m["diastolic"] < m["systolic"] for m in msgs)
