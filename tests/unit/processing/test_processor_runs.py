"""The processor works a run of one topic stage by stage (decode, normalise, dedup, outputs):
its dead letters still come out one per bad record, in the records' order, with the reason of
the stage that rejected it."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

from vitalstream import topics as T
from vitalstream.clinical import ManualClock
from vitalstream.deadletter import DeadLetter
from vitalstream.log import open_log
from vitalstream.processing import VitalsProcessor, processor
from vitalstream.runtime import run_worker

T0 = datetime(2024, 4, 1, 8, 0, tzinfo=UTC)


def _hr(i: int, hr: int) -> bytes:
    return json.dumps({"event_id": f"e{i}", "patient_id": "p1", "data_type": "heart_rate", "heart_rate": hr,
                       "timestamp": (T0 + timedelta(seconds=i)).isoformat().replace("+00:00", "Z")}).encode()


def _values() -> list[bytes]:
    values = [_hr(i, 70) for i in range(40)]  # a run long enough for the run-at-once ids
    values[5] = b"not json"  # decode
    values[9] = _hr(2, 99)  # the identity of record 2 with another value: a conflict
    values[20] = _hr(20, 400)  # decodes as JSON, fails validation
    values[30] = _hr(3, 70)  # an exact repeat of record 3: dropped, no dead letter
    return values


def _dead_letters(tmp_path, values: list[bytes]):  # type: ignore[no-untyped-def]
    log = open_log(f"sqlite:///{tmp_path}/log.db")
    try:
        T.ensure_all(log)
        with log.producer() as p:
            for v in values:
                p.send(T.HEART_RATE, v, key=b"p1")
            p.flush()
        stop = threading.Event()
        proc = VitalsProcessor(log, clock=ManualClock(T0 + timedelta(hours=1)), stop=stop)
        run_worker(log, proc, stop, until_idle=True, max_wait_s=0.05)
        with log.consumer("check", [T.DEAD_LETTERS, T.PROCESSED_HEART_RATE]) as c:
            got = []
            while batch := c.poll(timeout=0.3):
                got += batch
        dead = [DeadLetter.from_record(r) for r in got if r.topic == T.DEAD_LETTERS]
        return proc, dead, sum(r.topic == T.PROCESSED_HEART_RATE for r in got)
    finally:
        log.close()


def test_dead_letters_of_a_run_keep_the_records_order(tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc, dead, processed = _dead_letters(tmp_path, _values())
    assert [(d.source_offset, d.stage) for d in dead] == [
        (5, "process.validate"), (9, "process.dedup"), (20, "process.validate")]
    assert dead[1].reason == "conflicting duplicate" and dead[2].field == "heart_rate"
    assert processed == 36
    assert (proc.stats["duplicates"], proc.stats["conflicts"], proc.stats["dead_letters"]) == (1, 1, 3)


def test_a_record_the_normaliser_rejects_is_dead_lettered_alone(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A poison event that fails normalising (none of today's validated events does: a fault
    put into the normaliser) costs the run nothing but its own dead letter, in its place."""
    many = processor._NORMALISERS[T.HEART_RATE]

    def poisoned(topic, events):  # type: ignore[no-untyped-def]
        if any(e.event_id == "e12" for e in events):
            raise RuntimeError("poison")
        return many(topic, events)

    monkeypatch.setitem(processor._NORMALISERS, T.HEART_RATE, poisoned)
    proc, dead, processed = _dead_letters(tmp_path, _values())
    assert [(d.source_offset, d.stage) for d in dead] == [
        (5, "process.validate"), (9, "process.dedup"), (12, "process.normalise"), (20, "process.validate")]
    assert dead[2].error_class == "RuntimeError" and processed == 35 and proc.stats["dead_letters"] == 4
