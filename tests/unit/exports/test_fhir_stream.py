"""The opt-in fhir-observations sink: processed records in, FHIR Observation JSON out."""

from __future__ import annotations

import json
import threading

from vitalstream import topics as T
from vitalstream.config import load
from vitalstream.fhir.stream import FhirObservationSink
from vitalstream.fhir.subjects import subjects_from
from vitalstream.log import open_log, read_all
from vitalstream.runtime import run_worker
from vitalstream.sinks import SINKS, build_sinks


def test_processed_records_become_observations_and_bad_ones_dead_letters(tmp_path) -> None:
    settings = load(environ={"VITALSTREAM_PRIVACY_PSEUDONYM_KEY": "stream-test-key-0123456789"})
    with open_log(f"sqlite:///{tmp_path}/log.db") as log:
        T.ensure_all(log)
        with log.producer() as p:
            p.send(T.PROCESSED_HEART_RATE, json.dumps({
                "event_id": "e1", "patient_id": "patient-0001", "source": "vitals", "heart_rate": 70,
                "event_time": "2024-04-01T08:00:00Z"}).encode(), key=b"patient-0001")
            p.send(T.PROCESSED_HEART_RATE, b"not json", key=b"patient-0002")
            p.flush()
        sink = FhirObservationSink(log, subjects_from(settings))
        run_worker(log, sink, threading.Event(), until_idle=True)
        out = list(read_all(log, [T.FHIR_OBSERVATIONS]))
        dead = list(read_all(log, [T.DEAD_LETTERS]))
    [record] = out
    obs = json.loads(record.value)
    assert obs["resourceType"] == "Observation" and obs["code"]["coding"][0]["code"] == "8867-4"
    assert record.key == obs["subject"]["reference"].encode()
    assert b"patient-0001" not in record.value
    assert len(dead) == 1


def test_the_sink_is_off_unless_enabled(tmp_path) -> None:
    assert "fhir-observations" in SINKS
    with open_log(f"sqlite:///{tmp_path}/log.db") as log:
        off = build_sinks(log, load(environ={}))
        on = build_sinks(log, load(environ={"VITALSTREAM_FHIR_STREAM": "true", "VITALSTREAM_FHIR_PATIENT_REFERENCE":
                                            "identifier"}))
        try:
            assert not any(isinstance(w, FhirObservationSink) for w in off)
            assert any(isinstance(w, FhirObservationSink) for w in on)
        finally:
            for w in off + on:
                w.close()
