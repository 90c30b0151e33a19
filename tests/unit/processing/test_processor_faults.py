"""The processor under kill -9 and with several worker processes, on the embedded log."""

from __future__ import annotations

import collections
import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import msgspec

from vitalstream import topics as T
from vitalstream.events.canonical import Alert, ProcessedVital
from vitalstream.log import open_log
from vitalstream.processing.processor import INPUT_TOPICS, PROCESSOR_GROUP
from vitalstream.simulate import make
from vitalstream.testing import faultpoint

EXE = str(Path(sys.executable).parent / "vitalstream")
VITAL_TOPICS = (T.HEART_RATE, T.BLOOD_OXYGEN, T.BLOOD_PRESSURE, T.FALL_DETECTION, T.SMARTWATCH)


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
                if m.topic in VITAL_TOPICS:
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


def _input_ids(records) -> set[str]:  # type: ignore[no-untyped-def]
    from vitalstream.events import decode, normalise

    return {v.event_id for r in records if r.topic in VITAL_TOPICS
            for v in normalise(r.topic, decode(r.topic, r.value))}


def _assert_killed_mid_batch(home: Path, mark: dict) -> None:
    """The batch the worker stopped in is durable downstream but not committed upstream."""
    from vitalstream.log import read_all

    log = open_log(f"sqlite:///{home}/log.db")
    try:
        position = {f"{g.topic}:{g.partition}": g.committed or 0
                    for g in log.group_lag(PROCESSOR_GROUP, list(INPUT_TOPICS))}
        assert {tp: position[tp] for tp in mark["first"]} == mark["first"]  # not committed
        batch = [r for r in read_all(log, list(INPUT_TOPICS))
                 if mark["first"].get(f"{r.topic}:{r.partition}", 1 << 62) <= r.offset
                 < mark["next"].get(f"{r.topic}:{r.partition}", 0)]
        assert len(batch) == mark["records"]
        processed, _ = _outputs(home)
        assert _input_ids(batch) <= {v.event_id for v in processed}  # but its outputs are durable
    finally:
        log.close()


def test_kill_9_mid_batch_loses_nothing_and_raises_no_alert_twice(tmp_path) -> None:
    ids = _load(tmp_path, 20_000)
    for round_, batch in enumerate((2, 3, 2)):
        # the worker stops between its batch-th durable write and that commit: kill -9 it there
        paused = tmp_path / f"paused-{round_}"
        # Batches of a fixed size: by default a batch is sized by the time the processor takes,
        # so a faster one drains the rest in fewer batches than the round's pause point.
        env = {**_env(), faultpoint.ENV: f"{batch}:{paused}",
               "VITALSTREAM_PROCESS_MAX_BATCH": "4000", "VITALSTREAM_PROCESS_MAX_BATCH_MS": "0"}
        proc = subprocess.Popen([EXE, "--home", str(tmp_path), "process"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            [mark] = faultpoint.wait_paused(paused, alive=lambda proc=proc: proc.poll() is None)
            os.kill(mark["pid"], signal.SIGKILL)  # the worker process itself, then its supervisor
        finally:
            proc.kill()
            proc.wait()
        _assert_killed_mid_batch(tmp_path, mark)
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
        assert all(not (x == "raised" and y == "raised") for x, y in itertools.pairwise(states))


def _until(what: str, cond, proc: subprocess.Popen, timeout: float) -> None:  # type: ignore[no-untyped-def, type-arg]
    deadline = time.monotonic() + timeout
    while not cond():
        assert proc.poll() is None, f"the processor exited while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out after {timeout:g}s waiting for {what}"
        time.sleep(0.1)


def _split(owned: dict[int, set[tuple[str, int]]]) -> bool:
    """Two members, each owning some partitions, none owned twice, every number owned."""
    sets = list(owned.values())
    return (len(sets) == 2 and all(sets) and not sets[0] & sets[1]
            and {p for _, p in sets[0] | sets[1]} == set(range(T.DEFAULT_PARTITIONS)))


def test_two_workers_split_the_partitions(tmp_path) -> None:
    log = open_log(f"sqlite:///{tmp_path}/log.db")
    T.ensure_all(log)
    noted = tmp_path / "noted"
    # no pause: each worker only notes its assignments and that it got to a first batch
    env = {**_env(), faultpoint.ENV: f"1:{noted}", faultpoint.SECONDS_ENV: "0"}
    proc = subprocess.Popen([EXE, "--home", str(tmp_path), "process", "--workers", "2"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # both members split the partitions before there is anything to read, so no rebalance
        # moves a batch in flight (which would legitimately process it twice)
        # (the stateless stage's group; `--workers 2` also runs two scorers in a group of their own)
        _until("both workers to own partitions", lambda: _split(faultpoint.owned(noted, PROCESSOR_GROUP)), proc, 120)
        ids = _load(tmp_path, 10_000)
        _until("the input to be processed", lambda: all(
            g.lag == 0 for g in log.group_lag(PROCESSOR_GROUP, list(INPUT_TOPICS))), proc, 300)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        log.close()
    assert proc.returncode == 0, err.decode()[-2000:]
    marks = faultpoint.paused(noted, PROCESSOR_GROUP)
    assert len({m["pid"] for m in marks}) == 2 and all(m["records"] for m in marks)  # both worked
    processed, alerts = _outputs(tmp_path)
    counts = collections.Counter(v.event_id for v in processed)
    assert set(counts) == ids and max(counts.values()) == 1  # each record processed once
    assert len({a.alert_id for a in alerts}) == len(alerts)
