"""NEWS2 and alerts depend only on the input records and their event times (issue 11 item 8).

One input — twelve patients whose heart rate, SpO2 and blood pressure arrive on three seed-0
topics, plus four patients known only through their device (seed-1 ``device_data``, keyed by
device id, resolved to the patient through ``patient-metadata``) — is processed on the
embedded log at batch sizes 1, 7, 300 and 5,000, by the two stages with two workers each,
and by a processor killed with ``kill -9`` mid-stream and restarted. Every run must give the
same alerts and the same newest version of every NEWS2 score, field by field (the wall-clock
fields ``raise_time`` and ``computed_time`` aside).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from vitalstream import topics as T
from vitalstream.clinical import ManualClock
from vitalstream.events.canonical import Alert, News2Score
from vitalstream.log import open_log
from vitalstream.processing import VitalsProcessor
from vitalstream.runtime import run_worker

EXE = str(Path(sys.executable).parent / "vitalstream")
T0 = datetime(2024, 4, 1, 8, 0, tzinfo=UTC)
MINUTES = 12
WALL = datetime(2024, 4, 1, 12, 0, tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _meta(pid: str, device: str, age: int) -> dict[str, object]:
    return {"patient_id": pid, "age": age, "gender": "F", "medical_history": "none",
            "emergency_contact": "n/a", "blood_type": "O+", "allergies": "none",
            "last_checkup_date": "2024-01-01", "device_id": device}


def _level(i: int, second: int, normal: float, abnormal: float, worse: float = 0) -> float:
    """Patient i is abnormal in a window of minutes that depends on i, getting ``worse`` per
    minute (episodes start, escalate, end, come back), normal otherwise."""
    minute = second // 60
    start = 2 + i % 4
    if start <= minute < start + 3 + i % 3 or minute == start + 6:
        return abnormal + worse * (minute - start)
    return normal


def _input() -> list[tuple[str, bytes, bytes, int]]:
    """(topic, key, value, timestamp ms) in the order a producer sends them."""
    out: list[tuple[str, bytes, bytes, int]] = []
    n = 0

    def add(topic: str, key: str, row: dict[str, object], t: datetime) -> None:
        out.append((topic, key.encode(), json.dumps(row).encode(), int(t.timestamp() * 1000)))

    for i in range(12):
        add(T.PATIENT_METADATA, f"p{i:02d}", _meta(f"p{i:02d}", f"watch-{i:02d}", 50 + 3 * i), T0)
    for i in range(4):
        add(T.PATIENT_METADATA, f"pd{i}", _meta(f"pd{i}", f"dev-{i}", 70), T0)
    for second in range(0, MINUTES * 60, 5):
        t = T0 + timedelta(seconds=second)
        for i in range(12):
            pid = f"p{i:02d}"
            n += 1
            base = {"patient_id": pid, "timestamp": _iso(t)}
            if second % 10 == 0:
                add(T.HEART_RATE, pid, {**base, "event_id": f"00000000-0000-4000-8000-{n:012d}",
                                        "data_type": "heart_rate",
                                        "heart_rate": int(_level(i, second, 80 + i, 131 + second % 7, 9))}, t)
            if second % 15 == 0 and not (7 <= second // 60 < 9 and i % 3 == 0):  # a sensor off
                add(T.BLOOD_OXYGEN, pid, {**base, "event_id": f"00000000-0000-4000-9000-{n:012d}",
                                          "data_type": "blood_oxygen",
                                          "spo2": int(_level(i + 1, second, 97, 89 - second % 3, -2))}, t)
            if second % 90 == 0:  # a blood pressure every 90 s: minutes without one
                add(T.BLOOD_PRESSURE, pid, {**base, "event_id": f"00000000-0000-4000-a000-{n:012d}",
                                            "data_type": "blood_pressure",
                                            "systolic": int(_level(i + 2, second, 125, 185)), "diastolic": 80}, t)
        if second % 10 == 5:
            for i in range(4):
                add(T.DEVICE_DATA, f"dev-{i}", {
                    "deviceId": f"dev-{i}", "timestamp": int(t.timestamp()),
                    "heartRate": int(_level(i, second, 75, 128)), "systolic": 120, "diastolic": 75,
                    "oxygenSaturation": int(_level(i + 2, second, 98, 87)),
                    "bodyTemperature": _level(i + 3, second, 98.4, 101.3)}, t)
    return out


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("input")
    log = open_log(f"sqlite:///{home}/log.db")
    T.ensure_all(log)
    with log.producer() as p:
        for topic, key, value, ts in _input():
            p.send(topic, value, key=key, timestamp_ms=ts)
    log.close()
    return home


def _copy(template: Path, dest: Path) -> Path:
    dest.mkdir()
    for f in template.iterdir():
        shutil.copy2(f, dest / f.name)
    return dest


def _outputs(home: Path) -> tuple[dict[str, Alert], dict[str, News2Score]]:
    """Every alert by id, and the newest version of every score id (offset order per
    partition: all versions of a score share the patient's partition)."""
    log = open_log(f"sqlite:///{home}/log.db")
    alerts: dict[str, Alert] = {}
    scores: dict[str, News2Score] = {}
    with log.consumer("check", [T.ALERTS, T.NEWS2]) as c:
        while batch := c.poll(max_records=20_000, timeout=0.5):
            for r in sorted(batch, key=lambda r: (r.topic, r.partition, r.offset)):
                if r.topic == T.ALERTS:
                    a = msgspec.json.decode(r.value, type=Alert)
                    alerts[a.alert_id] = msgspec.structs.replace(a, raise_time=WALL)
                else:
                    s = msgspec.json.decode(r.value, type=News2Score)
                    scores[s.score_id] = msgspec.structs.replace(s, computed_time=WALL)
    log.close()
    return alerts, scores


def _in_process(home: Path, batch: int) -> None:
    log = open_log(f"sqlite:///{home}/log.db")
    stop = threading.Event()
    proc = VitalsProcessor(log, clock=ManualClock(WALL), stop=stop)
    run_worker(log, proc, stop, until_idle=True, max_records=batch, max_wait_s=0.02)
    log.close()


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VITALSTREAM_")}
    env["VITALSTREAM_LOG_LEVEL"] = "WARNING"
    env.update(extra)
    return env


def _cli(home: Path, *args: str, **env: str) -> None:
    done = subprocess.run([EXE, "--home", str(home), "process", *args], env=_env(**env),
                          capture_output=True, timeout=240)
    assert done.returncode == 0, done.stderr.decode()[-2000:]


def _killed_mid_stream(home: Path) -> None:
    """``vitalstream process`` with small batches, kill -9 once outputs exist, then rerun."""
    proc = subprocess.Popen([EXE, "--home", str(home), "process"], env=_env(VITALSTREAM_PROCESS_MAX_BATCH="3"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        log = open_log(f"sqlite:///{home}/log.db")
        deadline = time.monotonic() + 60
        while log.describe_topic(T.NEWS2).records < 100:
            assert time.monotonic() < deadline, "no NEWS2 output within 60 s"
            time.sleep(0.1)
        lag = sum(g.lag for g in log.group_lag("vitalstream-processor"))
        log.close()
        assert lag > 0, "the processor finished before the kill"
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        for pid in children:  # the worker process itself, then its supervisor
            os.kill(int(pid), signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    _cli(home, "--until-idle")


def test_scores_and_alerts_do_not_depend_on_batching_workers_or_a_kill(template: Path, tmp_path: Path) -> None:
    runs: dict[str, tuple[dict[str, Alert], dict[str, News2Score]]] = {}
    for batch in (5000, 300, 7, 1):
        home = _copy(template, tmp_path / f"batch-{batch}")
        _in_process(home, batch)
        runs[f"batch {batch}"] = _outputs(home)
    home = _copy(template, tmp_path / "split")
    _cli(home, "--workers", "2", "--until-idle", VITALSTREAM_PROCESS_MAX_BATCH="300")
    runs["two stages, two workers each"] = _outputs(home)
    home = _copy(template, tmp_path / "kill")
    _killed_mid_stream(home)
    runs["kill -9 and restart"] = _outputs(home)

    ref_alerts, ref_scores = runs.pop("batch 5000")
    # the input is worth comparing: episodes raise, escalate and clear; NEWS2 reaches every band
    assert {a.state for a in ref_alerts.values()} == {"raised", "escalated", "cleared"}
    assert {a.rule for a in ref_alerts.values()} >= {"tachycardia", "low_spo2", "hypertensive_crisis", "fever"}
    assert {s.patient_id for s in ref_scores.values()} == {f"p{i:02d}" for i in range(12)} | {f"pd{i}" for i in range(4)}
    assert {s.band for s in ref_scores.values()} >= {"low", "low-medium", "medium"}
    assert len(ref_scores) == 16 * MINUTES
    for name, (alerts, scores) in runs.items():
        assert sorted(alerts) == sorted(ref_alerts), name
        for aid, alert in alerts.items():
            assert alert == ref_alerts[aid], name
        assert sorted(scores) == sorted(ref_scores), name
        for sid, score in scores.items():
            assert score == ref_scores[sid], (name, score, ref_scores[sid])
