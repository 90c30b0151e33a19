"""Every code and unit mapping of the FHIR export (BRIEF §4), including °F -> Cel."""

from __future__ import annotations

import pytest

from vitalstream.fhir import codes as C


@pytest.mark.parametrize(("measure", "loinc", "unit", "profile"), [
    ("heart_rate", ["8867-4"], "/min", "heartrate"),
    ("respiratory_rate", ["9279-1"], "/min", "resprate"),
    ("spo2", ["2708-6", "59408-5"], "%", "oxygensat"),
    ("blood_pressure", ["85354-9"], "mm[Hg]", "bp"),
    ("systolic", ["8480-6"], "mm[Hg]", None),
    ("diastolic", ["8462-4"], "mm[Hg]", None),
    ("temperature", ["8310-5"], "Cel", "bodytemp"),
    ("steps", ["41950-7"], "/d", None),
])
def test_each_measure_has_its_loinc_code_ucum_unit_and_profile(measure, loinc, unit, profile) -> None:
    m = C.MEASURES[measure]
    assert [c.code for c in m.codings] == loinc
    assert all(c.system == "http://loinc.org" for c in m.codings)
    assert m.unit == unit
    assert m.profile == (None if profile is None else f"http://hl7.org/fhir/StructureDefinition/{profile}")
    q = C.quantity(measure, 1)
    assert q["system"] == "http://unitsofmeasure.org" and q["code"] == unit


def test_vital_signs_are_categorised_as_such_and_steps_as_activity() -> None:
    assert {m.category for n, m in C.MEASURES.items() if n != "steps"} == {"vital-signs"}
    assert C.MEASURES["steps"].category == "activity"


@pytest.mark.parametrize(("value", "unit", "celsius"), [
    (98.6, "°F", 37.0), (32.0, "[degF]", 0.0), (104.0, "degF", 40.0), (95.0, "F", 35.0),
    (37.5, "Cel", 37.5), (37.5, "°C", 37.5), (37.5, None, 37.5),
])
def test_temperature_is_exported_in_celsius(value, unit, celsius) -> None:
    assert C.to_canonical("temperature", value, unit) == pytest.approx(celsius)
    q = C.quantity("temperature", value, unit)
    assert q["code"] == "Cel" and q["value"] == pytest.approx(celsius)


def test_other_unit_conversions() -> None:
    assert C.to_canonical("systolic", 16.0, "kPa") == pytest.approx(120.0, abs=0.1)
    assert C.to_canonical("spo2", 0.97, "1") == pytest.approx(97.0)
    assert C.to_canonical("heart_rate", 72, "bpm") == 72
    assert isinstance(C.to_canonical("heart_rate", 72, "bpm"), int)


def test_an_unknown_unit_is_refused_not_guessed() -> None:
    with pytest.raises(C.UnitError, match="cannot convert unit 'K'"):
        C.to_canonical("temperature", 310.0, "K")


def test_news2_uses_a_documented_local_code_system() -> None:
    cs = C.news2_code_system()
    assert cs["resourceType"] == "CodeSystem" and cs["url"] == C.NEWS2_SYSTEM
    defined = {c["code"] for c in cs["concept"]}
    assert {"news2-total", "news2-spo2-scale", "news2-clinical-risk"} <= defined
    assert {c.code for c in C.NEWS2_SUBSCORES.values()} <= defined
    from vitalstream.clinical.news2 import PARAMETERS

    assert set(C.NEWS2_SUBSCORES) == set(PARAMETERS)  # one component per NEWS2 parameter
