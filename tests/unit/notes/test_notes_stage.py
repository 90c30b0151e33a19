"""The notes stage on the embedded log: processed entries, dead letters, never an exception."""

from __future__ import annotations

import threading

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vitalstream import topics as T
from vitalstream.deadletter import DeadLetter
from vitalstream.log import open_log
from vitalstream.log.base import Record
from vitalstream.notes.stage import NotesStage, entry_id
from vitalstream.runtime import run_worker


@pytest.fixture
def log(tmp_path):
    log = open_log(f"sqlite:///{tmp_path}/log.db")
    T.ensure_all(log)
    yield log
    log.close()


def _read(log, topic: str) -> list[Record]:
    with log.consumer(f"check-{topic}", [topic]) as c:
        out: list[Record] = []
        while batch := c.poll(max_records=10_000, timeout=0.2):
            out += batch
    return out


def _note(pid: str, text: str, ts: str = "2024-01-01 12:00") -> bytes:
    return msgspec.json.encode({"patient_id": pid, "medical_entry": text, "timestamp": ts})


def test_entries_become_processed_entries_and_bad_rows_dead_letters(log, extractor) -> None:
    rows = [
        _note("1", "Patient shows signs of flu. Prescribed Tylenol 500 mg twice daily."),
        _note("2", "Denies chest pain. Family history of diabetes."),
        b'1,"Patient shows signs of another cough.",2024-01-02 08:30',  # the seed's CSV row
        _note("3", "   "),  # empty entry
        _note("", "signs of flu"),  # missing patient
        _note("4", "signs of flu", "yesterday"),  # unparseable timestamp
        b"\xff\xfe not utf-8",
    ]
    with log.producer() as p:
        for v in rows:
            p.send(T.MEDICAL_ENTRIES, v, key=b"k")
    stop = threading.Event()
    stage = NotesStage(log, extractor=extractor, stop=stop)
    run_worker(log, stage, stop, until_idle=True, max_wait_s=0.05)
    out = sorted((msgspec.json.decode(r.value) for r in _read(log, T.PROCESSED_ENTRIES)),
                 key=lambda d: d["timestamp"] + d["patient_id"])  # partitions by key: any order
    assert [d["patient_id"] for d in out] == ["1", "2", "1"]
    first = out[0]
    assert set(first) >= {"entry_id", "patient_id", "timestamp", "processed_timestamp", "medical_entry",
                          "problems", "medications"}
    assert first["entry_id"] == entry_id("1", "2024-01-01 12:00", first["medical_entry"])
    assert first["timestamp"] == "2024-01-01T12:00:00Z"
    assert first["problems"] == [{"text": "flu", "start": 23, "end": 26, "assertion": "present", "name": "influenza"}]
    [med] = first["medications"]
    assert (med["name"], med["dose"], med["unit"], med["frequency"]) == ("acetaminophen", 500, "mg", "twice daily")
    assert {p["text"]: p["assertion"] for p in out[1]["problems"]} == {"chest pain": "absent", "diabetes": "family"}
    dead = [DeadLetter.from_record(r) for r in _read(log, T.DEAD_LETTERS)]
    assert len(dead) == 4 and all(d.stage == "notes.validate" and d.source_topic == T.MEDICAL_ENTRIES for d in dead)
    assert {d.field for d in dead} >= {"medical_entry", "patient_id", "timestamp"}
    assert stage.stats["entries"] == 3 and stage.stats["dead_letters"] == 4


def test_a_failing_extractor_dead_letters_only_its_entry(log, extractor) -> None:
    class Fussy:
        def extract_many(self, texts):
            if any("boom" in t for t in texts):
                raise RuntimeError("boom: patient text")
            return extractor.extract_many(texts)

        def extract(self, text):
            return self.extract_many([text])[0]

    with log.producer() as p:
        for text in ("signs of flu", "boom", "denies cough"):
            p.send(T.MEDICAL_ENTRIES, _note("7", text), key=b"7")
    stop = threading.Event()
    run_worker(log, NotesStage(log, extractor=Fussy(), stop=stop), stop, until_idle=True, max_wait_s=0.05)
    assert len(_read(log, T.PROCESSED_ENTRIES)) == 2
    [dead] = [DeadLetter.from_record(r) for r in _read(log, T.DEAD_LETTERS)]
    assert dead.stage == "notes.extract" and "patient text" not in dead.reason  # no PHI in the reason


@pytest.fixture(scope="module")
def shared_log(tmp_path_factory):
    log = open_log(f"sqlite:///{tmp_path_factory.mktemp('notes')}/log.db")
    T.ensure_all(log)
    yield log
    log.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(
    st.text(max_size=400).map(lambda t: _note("p1", t)),
    st.binary(max_size=200),
    st.dictionaries(st.sampled_from(["patient_id", "medical_entry", "timestamp", "x"]),
                    st.one_of(st.text(max_size=50), st.integers(), st.none())).map(msgspec.json.encode),
))
def test_any_value_is_a_processed_entry_or_a_dead_letter(shared_log, extractor, value: bytes) -> None:
    def counts() -> tuple[int, int]:
        return (shared_log.describe_topic(T.PROCESSED_ENTRIES).records,
                shared_log.describe_topic(T.DEAD_LETTERS).records)

    before = counts()
    stage = NotesStage(shared_log, extractor=extractor)
    try:
        stage.process([Record(T.MEDICAL_ENTRIES, 0, 0, b"k", value, 0)])  # never raises
    finally:
        stage.close()
    after = counts()
    assert (after[0] - before[0]) + (after[1] - before[1]) == 1


def test_bench_scenario_measures_the_stage(tmp_path, extractor) -> None:
    from vitalstream.bench.stages import notes

    out = notes(f"sqlite:///{tmp_path}/bench.db", 300)
    assert out["complete"] and out["stats"]["entries"] == 300 and out["events_per_cpu_s"] > 0
