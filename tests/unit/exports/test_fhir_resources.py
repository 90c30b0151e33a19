"""FHIR resources: vital-signs profile elements, deterministic ids, pseudonyms or identifiers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from vitalstream.fhir import resources as R
from vitalstream.privacy.pseudonym import Pseudonymiser

KEY = Pseudonymiser(b"unit-test-key-0123456789", "k1")
ROW = {"event_id": "ev-1", "patient_id": "patient-0001", "source": "vitals",
       "event_time": datetime(2024, 4, 1, 8, 0, tzinfo=UTC), "heart_rate": 72, "spo2": 97,
       "systolic": 128, "diastolic": 84, "temperature_c": 37.2, "device_id": "W-1"}


def by_code(observations: list[dict]) -> dict[str, dict]:
    return {o["code"]["coding"][0]["code"]: o for o in observations}


def test_a_reading_becomes_vital_signs_observations() -> None:
    obs = by_code(R.vital_observations(ROW, R.Subjects(KEY)))
    assert set(obs) == {"8867-4", "2708-6", "8310-5", "85354-9"}
    for o in obs.values():
        assert o["status"] == "final"
        assert o["category"][0]["coding"][0]["code"] == "vital-signs"
        assert o["meta"]["profile"][0].startswith("http://hl7.org/fhir/StructureDefinition/")
        assert o["subject"]["reference"].startswith("Patient/")
        assert o["device"]["reference"].startswith("Device/")
        assert o["effectiveDateTime"] == "2024-04-01T08:00:00.000Z"
    assert obs["8867-4"]["valueQuantity"] == {"value": 72, "unit": "beats/minute",
                                              "system": "http://unitsofmeasure.org", "code": "/min"}
    assert [c["code"] for c in obs["2708-6"]["code"]["coding"]] == ["2708-6", "59408-5"]
    assert obs["8310-5"]["valueQuantity"]["code"] == "Cel"
    bp = obs["85354-9"]
    assert "valueQuantity" not in bp
    assert [(c["code"]["coding"][0]["code"], c["valueQuantity"]["value"], c["valueQuantity"]["code"])
            for c in bp["component"]] == [("8480-6", 128, "mm[Hg]"), ("8462-4", 84, "mm[Hg]")]


def test_ids_are_deterministic_and_distinct_per_measure() -> None:
    first = [o["id"] for o in R.vital_observations(ROW, R.Subjects(KEY))]
    again = [o["id"] for o in R.vital_observations(dict(ROW), R.Subjects(KEY))]
    assert first == again and len(set(first)) == len(first)
    other = [o["id"] for o in R.vital_observations({**ROW, "event_id": "ev-2"}, R.Subjects(KEY))]
    assert not set(first) & set(other)
    assert R.patient("patient-0001", R.Subjects(KEY))["id"] == R.patient("patient-0001", R.Subjects(KEY))["id"]


def test_a_fall_or_an_unmeasured_field_gives_no_observation() -> None:
    assert R.vital_observations({**ROW, "heart_rate": None, "spo2": None, "systolic": None,
                                 "temperature_c": None, "fall_detected": True}, R.Subjects(KEY)) == []


def test_pseudonym_mode_never_shows_the_patient_id() -> None:
    subjects = R.Subjects(KEY)
    p = R.patient("patient-0001", subjects, {"gender": "female"})
    assert "patient-0001" not in str(p) and p["gender"] == "female"
    assert p["identifier"][0]["system"] == "urn:vitalstream:pseudonym:k1"
    assert p["identifier"][0]["value"].startswith("k1.")
    assert "W-1" not in str(R.device("W-1", subjects))
    assert "patient-0001" not in str(R.vital_observations(ROW, subjects))


def test_identifier_mode_exports_the_patient_id() -> None:
    subjects = R.Subjects(identifier_system="urn:example:mrn")
    p = R.patient("patient-0001", subjects)
    assert p["identifier"] == [{"system": "urn:example:mrn", "value": "patient-0001"}]
    assert R.vital_observations(ROW, subjects)[0]["subject"]["reference"] == f"Patient/{p['id']}"
    assert p["id"] != R.patient("patient-0001", R.Subjects(KEY))["id"]


def test_news2_total_subscores_and_absent_parameters() -> None:
    score = {"score_id": "s1", "patient_id": "patient-0001", "total": 3, "band": "low-medium", "scale": 1,
             "subscores": {"heart_rate": 0, "spo2": 3}, "missing": ["respiratory_rate"], "partial": True,
             "event_time": "2024-04-01T08:00:00+00:00"}
    obs = R.news2_observation(score, R.Subjects(KEY))
    assert obs["valueInteger"] == 3 and obs["code"]["coding"][0]["code"] == "news2-total"
    assert obs["category"][0]["coding"][0]["code"] == "survey" and "meta" not in obs
    comps = {c["code"]["coding"][0]["code"]: c for c in obs["component"]}
    assert comps["news2-pulse"]["valueInteger"] == 0 and comps["news2-spo2"]["valueInteger"] == 3
    assert comps["news2-respiration-rate"]["dataAbsentReason"]["coding"][0]["code"] == "not-performed"
    assert "valueInteger" not in comps["news2-temperature"]  # partial, never scored 0 silently
    assert comps["news2-clinical-risk"]["valueString"] == "low-medium"
    assert obs["id"] == R.news2_observation(dict(score), R.Subjects(KEY))["id"]


def test_steps_are_one_daily_total() -> None:
    obs = R.steps_observation("patient-0002", date(2024, 4, 1), 420, R.Subjects(KEY), device="W-1")
    assert obs["code"]["coding"][0]["code"] == "41950-7"
    assert obs["valueQuantity"] == {"value": 420, "unit": "steps/day", "system": "http://unitsofmeasure.org",
                                    "code": "/d"}
    assert obs["effectivePeriod"] == {"start": "2024-04-01T00:00:00.000Z", "end": "2024-04-02T00:00:00.000Z"}
    assert obs["id"] == R.steps_observation("patient-0002", date(2024, 4, 1), 999, R.Subjects(KEY))["id"]


def test_transaction_bundle_puts_by_id() -> None:
    resources = [R.patient("patient-0001", R.Subjects(KEY)), *R.vital_observations(ROW, R.Subjects(KEY))]
    b = R.bundle(resources, "transaction", "https://fhir.example/r4/")
    assert b["type"] == "transaction" and len(b["entry"]) == len(resources)
    e = b["entry"][0]
    assert e["request"] == {"method": "PUT", "url": f"Patient/{resources[0]['id']}"}
    assert e["fullUrl"] == f"https://fhir.example/r4/Patient/{resources[0]['id']}"
    assert "request" not in R.bundle(resources, "collection", "x")["entry"][0]
    with pytest.raises(ValueError, match="collection or transaction"):
        R.bundle(resources, "batch", "x")


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        R.fhir_time(datetime(2024, 4, 1, 8, 0))
