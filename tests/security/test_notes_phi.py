"""Clinical notes are PHI: the notes stage logs no note text, dead letters carry no text in their
reason, and a document-store outage never shows the URL's password."""

from __future__ import annotations

import logging
import threading

import msgspec
import pytest

from vitalstream import topics as T
from vitalstream.log import open_log
from vitalstream.log.base import Record
from vitalstream.notes.extractor import shared_extractor
from vitalstream.notes.stage import NotesStage
from vitalstream.runtime import run_worker

SECRET_TEXT = "Zebulon Quarterfield has syphilis and takes metformin 500 mg"


def test_notes_stage_logs_no_note_text(tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    log = open_log(f"sqlite:///{tmp_path}/log.db")
    T.ensure_all(log)
    with log.producer() as p:
        p.send(T.MEDICAL_ENTRIES, msgspec.json.encode(
            {"patient_id": "p1", "medical_entry": SECRET_TEXT, "timestamp": "2024-01-01 12:00"}), key=b"p1")
        p.send(T.MEDICAL_ENTRIES, msgspec.json.encode(
            {"patient_id": "p1", "medical_entry": SECRET_TEXT, "timestamp": "not a time"}), key=b"p1")
    stop = threading.Event()
    with caplog.at_level(logging.DEBUG):
        run_worker(log, NotesStage(log, extractor=shared_extractor(), stop=stop), stop, until_idle=True,
                   max_wait_s=0.05)
    with log.consumer("check", [T.DEAD_LETTERS]) as c:
        dead = c.poll(max_records=10, timeout=0.5)
    log.close()
    assert len(dead) == 1
    reason = dict(dead[0].headers)["dlq.reason"]
    assert b"Zebulon" not in reason and b"syphilis" not in reason
    assert "Zebulon" not in caplog.text and "syphilis" not in caplog.text


def test_docstore_outage_hides_the_password() -> None:
    pytest.importorskip("pymongo")
    from vitalstream.sinks.docstore import DocStoreUnavailable, MongoDocStore

    sink = MongoDocStore("mongodb://vs:hunter2@127.0.0.1:1/", timeout_ms=300)
    doc = {"entry_id": "e1", "patient_id": "p1", "timestamp": "2024-01-01T12:00:00Z", "medical_entry": SECRET_TEXT}
    with pytest.raises(DocStoreUnavailable) as err:
        sink.write([Record(T.PROCESSED_ENTRIES, 0, 0, b"p1", msgspec.json.encode(doc), 0)])
    sink.close()
    assert "hunter2" not in str(err.value) and "Zebulon" not in str(err.value)
