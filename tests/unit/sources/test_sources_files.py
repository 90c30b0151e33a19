"""File sources: CSV mapping, JSON lines, dead letters and the resumable checkpoint."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from preconditions import missing
from vitalstream import topics as T
from vitalstream.config import load
from vitalstream.deadletter import DeadLetter
from vitalstream.errors import ConfigError, LogUnavailable
from vitalstream.log import open_log
from vitalstream.sources.files import Checkpoint, ingest_file
from vitalstream.testing import Faults, FaultyLog, read_topic

# The original systems' sample files live outside the repository (see docs); point
# VITALSTREAM_TEST_SEED_DATA at another copy if they are elsewhere.
SEED_DATA = Path(os.environ.get("VITALSTREAM_TEST_SEED_DATA", "/work/shared/seed-data"))
NOTES = ('patient_id,medical_entry,timestamp\n'
         '1,"Patient shows signs of flu. Prescribed ibuprofen.",2024-01-01 12:00\n'
         '2,"Complains of headache, not fever.",2024-01-02 08:30\n'
         '3,,2024-01-02 09:00\n'
         '4,"too many",2024-01-02 09:00,extra\n')


@pytest.fixture
def settings(tmp_path):
    return load(environ={}, overrides={"home": str(tmp_path / "home"), "partitions": 2})


@pytest.fixture
def log(settings):
    with open_log(settings.log_url) as lg:
        yield lg


def test_seed2_notes_csv_into_medical_entries(tmp_path, settings, log) -> None:
    f = tmp_path / "notes.csv"
    f.write_text(NOTES)
    r = ingest_file(log, f, "csv", T.MEDICAL_ENTRIES, settings)
    assert (r.accepted, r.rejected, r.records_done) == (2, 2, 4)
    recs = read_topic(log, T.MEDICAL_ENTRIES)
    assert sorted(x.key for x in recs) == [b"1", b"2"]
    assert json.loads(next(x.value for x in recs if x.key == b"2"))["medical_entry"].startswith("Complains")
    dls = [DeadLetter.from_record(x) for x in read_topic(log, T.DEAD_LETTERS)]
    assert {d.stage for d in dls} == {"ingest.file"}
    headers = sorted(dict(d.original_headers)["file.record"] for d in dls)
    assert headers == [b"3", b"4"]
    assert any("columns" in d.reason for d in dls)


def test_column_mapping(tmp_path, settings, log) -> None:
    f = tmp_path / "renamed.csv"
    f.write_text("pid,note,when\n7,Fever since Monday.,2024-01-03 10:00\n")
    r = ingest_file(log, f, "csv", T.MEDICAL_ENTRIES, settings,
                    mapping={"pid": "patient_id", "note": "medical_entry", "when": "timestamp"})
    assert r.accepted == 1 and read_topic(log, T.MEDICAL_ENTRIES)[0].key == b"7"


@pytest.fixture
def heart_rate_seed() -> Path:
    where = SEED_DATA / "heart-rate-stream"
    if not where.is_dir():
        missing(f"seed data not found at {where}: set VITALSTREAM_TEST_SEED_DATA to the "
                "directory holding heart-rate-stream/")
    return where


def test_seed3_reference_csvs(settings, log, heart_rate_seed) -> None:
    assert ingest_file(log, heart_rate_seed / "users.csv", "csv", T.HR_USERS, settings).accepted == 9999
    assert ingest_file(log, heart_rate_seed / "activities.csv", "csv", T.HR_ACTIVITIES, settings).accepted == 23
    assert read_topic(log, T.HR_ACTIVITIES)[0].key.isdigit()


def test_rerun_does_not_duplicate_and_appends_continue(tmp_path, settings, log) -> None:
    f = tmp_path / "notes.csv"
    f.write_text(NOTES)
    ingest_file(log, f, "csv", T.MEDICAL_ENTRIES, settings, batch_size=1)
    again = ingest_file(log, f, "csv", T.MEDICAL_ENTRIES, settings)
    assert (again.accepted, again.rejected, again.skipped) == (0, 0, 4)
    with f.open("a") as out:
        out.write('5,"Prescribed amoxicillin.",2024-01-04 10:00\n')
    more = ingest_file(log, f, "csv", T.MEDICAL_ENTRIES, settings)
    assert (more.accepted, more.skipped, more.records_done) == (1, 4, 5)
    assert len(read_topic(log, T.MEDICAL_ENTRIES)) == 3
    assert len(read_topic(log, T.DEAD_LETTERS)) == 2


def test_rewritten_file_starts_over(tmp_path, settings, log) -> None:
    f = tmp_path / "notes.csv"
    f.write_text(NOTES)
    ingest_file(log, f, "csv", T.MEDICAL_ENTRIES, settings)
    f.write_text(NOTES.replace("flu", "cold"))
    r = ingest_file(log, f, "csv", T.MEDICAL_ENTRIES, settings)
    assert r.skipped == 0 and r.accepted == 2


def test_crash_mid_file_resumes_after_last_flushed_batch(tmp_path, settings, log) -> None:
    f = tmp_path / "watch.jsonl"
    lines = [json.dumps({"device_id": f"sw-{i % 3}", "hr": 60 + i % 30, "steps": i, "state": "awake",
                         "timestamp": 1711958400 + i}) for i in range(10)]
    f.write_text("\n".join(lines) + "\n")
    # the process "dies" at its third flush: from then on nothing it writes becomes durable
    crash = Faults(at=3, times=None)
    with pytest.raises(LogUnavailable):
        ingest_file(FaultyLog(log, crash, close_inner=False), f, "jsonl", None, settings, batch_size=3)
    assert crash.failed >= 1 and len(read_topic(log, T.SMARTWATCH)) == 6
    r = ingest_file(log, f, "jsonl", None, settings, batch_size=3)
    assert (r.skipped, r.accepted) == (6, 4)
    assert len(read_topic(log, T.SMARTWATCH)) == 10


def test_checkpoint_file_is_small_json_under_home(tmp_path, settings, log) -> None:
    f = tmp_path / "notes.csv"
    f.write_text(NOTES)
    ingest_file(log, f, "csv", T.MEDICAL_ENTRIES, settings)
    where = Checkpoint.location(settings.home_path, f.resolve(), T.MEDICAL_ENTRIES, "csv")
    cp = Checkpoint.load(where)
    assert cp is not None and cp.records == 4 and cp.offset == f.stat().st_size
    assert where.parent == settings.home_path / "checkpoints"


def test_bad_arguments(tmp_path, settings, log) -> None:
    f = tmp_path / "x.csv"
    f.write_text("a\n1\n")
    with pytest.raises(ConfigError):
        ingest_file(log, f, "csv", "alerts", settings)
    with pytest.raises(ConfigError):
        ingest_file(log, f, "csv", None, settings)
    with pytest.raises(ConfigError):
        ingest_file(log, tmp_path / "missing.csv", "csv", T.MEDICAL_ENTRIES, settings)
    with pytest.raises(ConfigError):
        ingest_file(log, f, "xml", T.MEDICAL_ENTRIES, settings)
