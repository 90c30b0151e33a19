"""The clinical work every peer does per valid reading, written once so all peers agree.

What a careful engineer would write without vitalstream: per patient, a small JSON-able state
(Quix keeps it in its state store, the plain loops in a dict) with

* threshold rules with **persistence** and **hysteresis**, vitalstream's default thresholds
  (``vitalstream.clinical.rules``): raise when the rule breached in 3 of the patient's last 5
  readings of that vital, clear after 2 consecutive readings past the clear threshold; a fall
  raises at once and clears on the next ``fall_detected: false``;
* a **NEWS2-style** partial score from the latest heart rate, SpO2 (scale 1) and systolic
  pressure (the parameters the smartwatch sends), emitted when it changes.

Simpler than vitalstream's engine (no 30 s persistence alternative, no suppression window, no
escalation, no freshness rule): the bench prints every implementation's output counts side by
side, so the difference shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

K_OF_N = (3, 5)
CLEAR_SAMPLES = 2

Check = Callable[[dict[str, Any]], bool]
# data_type -> (rule, breached(reading), cleared(reading))
RULES: dict[str, tuple[tuple[str, Check, Check], ...]] = {
    "heart_rate": (
        ("tachycardia", lambda d: d["heart_rate"] > 100, lambda d: d["heart_rate"] <= 95),
        ("bradycardia", lambda d: d["heart_rate"] < 60, lambda d: d["heart_rate"] >= 62),
    ),
    "blood_oxygen": (("low_spo2", lambda d: d["spo2"] < 90, lambda d: d["spo2"] >= 92),),
    "blood_pressure": (
        ("hypertensive_crisis", lambda d: d["systolic"] >= 180 or d["diastolic"] >= 120,
         lambda d: d["systolic"] < 170 and d["diastolic"] < 110),
    ),
}
_NEWS2_FIELD = {"heart_rate": "heart_rate", "blood_oxygen": "spo2", "blood_pressure": "systolic"}


def _band(value: int, bands: tuple[tuple[int, int], ...], top: int) -> int:
    for limit, points in bands:
        if value <= limit:
            return points
    return top


def news2_points(field: str, value: int) -> int:
    """NEWS2 points of one parameter (RCP 2017; SpO2 scale 1)."""
    if field == "heart_rate":
        return _band(value, ((40, 3), (50, 1), (90, 0), (110, 1), (130, 2)), 3)
    if field == "spo2":
        return _band(value, ((91, 3), (93, 2), (95, 1)), 0)
    return _band(value, ((90, 3), (100, 2), (110, 1), (219, 0)), 3)  # systolic


def new_state() -> dict[str, Any]:
    return {"rules": {}, "news2": {}, "score": None}


def observe(state: dict[str, Any], d: dict[str, Any], data_type: str) -> list[dict[str, Any]]:
    """Update ``state`` with one valid, enriched reading; return the alerts and NEWS2 records
    it causes (each a dict with ``record_type`` "alert" or "news2")."""
    out: list[dict[str, Any]] = []
    rules = state["rules"]
    if data_type == "fall_detection":
        active = rules.get("fall", False)
        if d["fall_detected"] and not active:
            out.append(_alert(d, "fall", True))
        rules["fall"] = bool(d["fall_detected"])
        return out
    for rule, breached, cleared in RULES[data_type]:
        r = rules.get(rule) or {"window": [], "active": False, "clear_run": 0}
        window = r["window"]
        window.append(breached(d))
        del window[:-K_OF_N[1]]
        if not r["active"]:
            if sum(window) >= K_OF_N[0]:
                r["active"], r["clear_run"] = True, 0
                out.append(_alert(d, rule, d[_NEWS2_FIELD[data_type]]))
        elif cleared(d):
            r["clear_run"] += 1
            if r["clear_run"] >= CLEAR_SAMPLES:
                r["active"], r["window"] = False, []
        else:
            r["clear_run"] = 0
        rules[rule] = r
    field = _NEWS2_FIELD[data_type]
    state["news2"][field] = news2_points(field, d[field])
    score = sum(state["news2"].values())
    if score != state["score"]:
        state["score"] = score
        out.append({"record_type": "news2", "patient_id": d["patient_id"], "score": score,
                    "parameters": dict(state["news2"]), "event_id": d["event_id"], "event_time": d["timestamp"]})
    return out


def _alert(d: dict[str, Any], rule: str, value: Any) -> dict[str, Any]:
    return {"record_type": "alert", "patient_id": d["patient_id"], "rule": rule, "value": value,
            "event_id": d["event_id"], "event_time": d["timestamp"], "age": d.get("age")}
