"""The processor under kill -9 and with several worker processes, on the embedded log."""

from __future__ import annotations

import collections
import itertools
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import pytest

from vitalstream import topics as T
from vitalstream.events.canonical import Alert, ProcessedVital
from vitalstream.log import open_log
from vitalstream.simulate import make

EXE = str(Path(sys.executable).parent / "vitalstream")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VITALSTREAM_")}
    env["VITALSTREAM_LOG_LEVEL"] = "WARNING"
    return env


def _load(home: Path, events: int) -> set[str]:
    log = open_log(f"sqlite:///{home}/log.db")
    T.ensure_all(log)
    ids: set[str] = set()
    from vitalstream.events import decode, normalise

    with log.producer() as p:
        for profile in ("vitals", "smartwatch"):
            sim = make(profile, patients=40, seed=3)
            for m in list(sim.reference()) + list(itertools.islice(sim.events(), events)):
                p.send(m.topic, m.value, key=m.key, timestamp_ms=m.timestamp_ms)
                if m.topic in (T.HEART_RATE, T.BLOOD_OXYGEN, T.BLOOD_PRESSURE, T.FALL_DETECTION, T.SMARTWATCH):
                    ids |= {v.event_id for v in normalise(m.topic, decode(m.topic, m.value))}
            p.flush()
    log.close()
    return ids


def _outputs(home: Path):
    log = open_log(f"sqlite:///{home}/log.db")
    processed: list[ProcessedVital] = []
    alerts: list[Alert] = []
    topics = [T.PROCESSED_HEART_RATE, T.PROCESSED_BLOOD_OXYGEN, T.PROCESSED_BLOOD_PRESSURE,
              T.PROCESSED_FALL_DETECTION, T.PROCESSED_SMARTWATCH, T.ALERTS]
    with log.consumer("check", topics) as c:
        while batch := c.poll(max_records=20_000, timeout=0.5):
            for r in batch:
                if r.topic == T.ALERTS:
                    alerts.append(msgspec.json.decode(r.value, type=Alert))
                else:
                    processed.append(msgspec.json.decode(r.value, type=ProcessedVital))
    log.close()
    return processed, alerts


def test_kill_9_mid_stream_loses_nothing_and_raises_no_alert_twice(tmp_path) -> None:
    ids = _load(tmp_path, 20_000)
    rnd = random.Random(7)
    for _ in range(3):
        proc = subprocess.Popen([EXE, "--home", str(tmp_path), "process"], env=_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rnd.uniform(2.0, 5.0))
        # kill the worker process itself (the supervisor's child), then the supervisor
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        for pid in children:
            os.kill(int(pid), signal.SIGKILL)
        proc.kill()
        proc.wait()
    done = subprocess.run([EXE, "--home", str(tmp_path), "process", "--until-idle"], env=_env(),
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    processed, alerts = _outputs(tmp_path)
    assert {v.event_id for v in processed} == ids  # nothing lost (duplicates allowed, deduped by the sinks)
    transitions = collections.Counter((a.patient_id, a.rule, a.state, a.event_id) for a in alerts)
    assert alerts and max(transitions.values()) == 1  # no alert transition emitted twice
    per_rule: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for a in alerts:
        per_rule[(a.patient_id, a.rule)].append(a.state)
    for states in per_rule.values():  # never raised twice without a clear in between
        assert all(not (x == "raised" and y == "raised") for x, y in zip(states, states[1:]))


def test_two_workers_split_the_partitions(tmp_path) -> None:
    ids = _load(tmp_path, 10_000)
    done = subprocess.run([EXE, "--home", str(tmp_path), "process", "--workers", "2", "--until-idle"],
                          env=_env(), capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    processed, alerts = _outputs(tmp_path)
    counts = collections.Counter(v.event_id for v in processed)
    assert set(counts) == ids and max(counts.values()) == 1  # each record processed once
    assert len({a.alert_id for a in alerts}) == len(alerts)
