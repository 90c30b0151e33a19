"""Per-patient state is right whoever produced the input and however it was partitioned
(issue 12), on a real broker.

Twelve patients' heart rate comes from Apache Kafka's own Java console producer (default
murmur2 partitioner, key = patient id); their SpO2 half from ``vitalstream produce`` and half
from a librdkafka producer with the ``consistent`` (CRC32) partitioner older vitalstream
versions used; and their bedside monitors' ``device_data`` from kafka-python (murmur2), keyed
by *device* id and resolved to the patient through ``patient-metadata``. Two or three workers
per stage are running *before* the data arrives. Every alert and NEWS2 score must equal, field
by field, what one worker gives for the same input, and every patient must score NEWS2 6
("medium": pulse 135 → 3, SpO2 91 → 3).

A second test scales the processor 1 → 3 → 2 workers and kills one with ``kill -9``
mid-stream: no alert transition is lost, and none lands twice in the warehouse.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import warnings
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from test_pipeline_kafka import (
    Feeder,
    admin,
    assert_warehouse_matches,
    cli,
    cli_args,
    cli_env,
    fresh_broker,
    kill_9,
    produce,
    read_outputs,
    reference_outputs,
    simulated,
    wait_for,
)

from vitalstream import topics as T
from vitalstream.clinical import ManualClock
from vitalstream.events.canonical import Alert, News2Score
from vitalstream.log import open_log
from vitalstream.log.base import Log
from vitalstream.processing import SCORER_GROUP, VitalsProcessor
from vitalstream.processing.processor import INPUT_TOPICS, PROCESSOR_GROUP
from vitalstream.runtime import run_worker

REPO_ROOT = Path(__file__).resolve().parents[3]
PATIENTS = [f"patient-{i:04d}" for i in range(101, 113)]
WALL = datetime(2030, 1, 1, tzinfo=UTC)  # stands in for the wall-clock fields when comparing


# -- the Java console producer ---------------------------------------------------------------
def _java_classpath() -> str:
    """The broker's jars, which include kafka-tools (``scripts/services/kafka.sh install``)."""
    pom = (REPO_ROOT / "scripts" / "services" / "kafka" / "pom.xml").read_text()
    version = re.search(r"<kafka.version>(.+?)</kafka.version>", pom).group(1)  # type: ignore[union-attr]
    services = Path(os.environ.get("VITALSTREAM_SERVICES_DIR") or REPO_ROOT / ".services")
    jars = services / "kafka" / f"jars-{version}"
    if shutil.which("java") is None or not (jars / f"kafka-tools-{version}.jar").exists():
        problem = (f"Kafka's Java console producer is not installed in {jars}: run "
                   "`scripts/services/kafka.sh install` (needs java and mvn)")
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)
    return f"{jars}/*"


def java_produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    """``kafka-console-producer.sh`` with ``parse.key``: the Java client's default partitioner."""
    lines = b"".join(key + b"\t" + value + b"\n" for key, value in records)
    done = subprocess.run(
        ["java", "-Xmx256m", "-cp", _java_classpath(), "org.apache.kafka.tools.ConsoleProducer",
         "--bootstrap-server", bootstrap, "--topic", topic,
         "--property", "parse.key=true", "--property", "key.separator=\t"],
        input=lines, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-2000:]


# -- the input -------------------------------------------------------------------------------
def _input(start: datetime) -> dict[str, list[tuple[bytes, bytes]]]:
    """(key, value) per topic. Monitor readings (normal) five minutes before the ward round:
    pulse 135 and SpO2 91 for every patient."""
    t0 = start.replace(second=0, microsecond=0)
    out: dict[str, list[tuple[bytes, bytes]]] = {T.PATIENT_METADATA: [], T.DEVICE_DATA: [],
                                                 T.HEART_RATE: [], T.BLOOD_OXYGEN: []}
    for n, pid in enumerate(PATIENTS):
        device = f"monitor-{n:02d}"
        out[T.PATIENT_METADATA].append((pid.encode(), json.dumps({
            "patient_id": pid, "age": 40 + n, "gender": "F", "medical_history": "none",
            "emergency_contact": "n/a", "blood_type": "O+", "allergies": "none",
            "last_checkup_date": "2024-01-01", "device_id": device}).encode()))
        for k in range(3):
            t = t0 - timedelta(minutes=5) + timedelta(seconds=20 * k)
            out[T.DEVICE_DATA].append((device.encode(), json.dumps({
                "deviceId": device, "timestamp": int(t.timestamp()), "heartRate": 80, "systolic": 120,
                "diastolic": 75, "oxygenSaturation": 98, "bodyTemperature": 98.6}).encode()))
        for k in range(5):
            t = (t0 + timedelta(seconds=2 + 10 * k)).isoformat().replace("+00:00", "Z")
            out[T.HEART_RATE].append((pid.encode(), json.dumps({
                "event_id": f"00000000-0000-4000-8000-{n:06d}{k:06d}", "patient_id": pid,
                "timestamp": t, "data_type": "heart_rate", "heart_rate": 135}).encode()))
            t = (t0 + timedelta(seconds=7 + 10 * k)).isoformat().replace("+00:00", "Z")
            out[T.BLOOD_OXYGEN].append((pid.encode(), json.dumps({
                "event_id": f"00000000-0000-4000-9000-{n:06d}{k:06d}", "patient_id": pid,
                "timestamp": t, "data_type": "blood_oxygen", "spo2": 91}).encode()))
    return out


def _produce_mixed(bootstrap: str, home: Path, data: dict[str, list[tuple[bytes, bytes]]]) -> None:
    from confluent_kafka import Producer

    # kafka-python, default partitioner (murmur2), keyed by device id
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # its own use of importlib.resources
        from kafka import KafkaProducer

        kp = KafkaProducer(bootstrap_servers=bootstrap)
        for key, value in data[T.DEVICE_DATA]:
            kp.send(T.DEVICE_DATA, value=value, key=key)
        kp.flush()
        kp.close()
    # Kafka's Java client
    java_produce(bootstrap, T.HEART_RATE, data[T.HEART_RATE])
    # SpO2: half through `vitalstream produce`, half as older vitalstream placed it (CRC32)
    spo2 = data[T.BLOOD_OXYGEN]
    half = len(spo2) // 2
    lines = home / "spo2.jsonl"
    lines.write_bytes(b"".join(value + b"\n" for _, value in spo2[:half]))
    cli(bootstrap, home, "produce", T.BLOOD_OXYGEN, "--key-field", "patient_id", "--file", str(lines))
    old = Producer({"bootstrap.servers": bootstrap, "partitioner": "consistent"})
    for key, value in spo2[half:]:
        old.produce(T.BLOOD_OXYGEN, value, key)
    assert old.flush(30) == 0
    placed = {zlib.crc32(k) % 6 for k, _ in spo2[half:]}
    assert len(placed) > 1  # the records really are spread by another partitioner


def _expected(tmp: Path, data: dict[str, list[tuple[bytes, bytes]]]) -> tuple[dict, dict]:
    """The same input through one worker (both stages in one process) on the embedded log."""
    log = open_log(f"sqlite:///{tmp}/reference-log.db")
    try:
        T.ensure_all(log)
        with log.producer() as p:
            for topic in (T.PATIENT_METADATA, T.DEVICE_DATA, T.HEART_RATE, T.BLOOD_OXYGEN):
                for key, value in data[topic]:
                    p.send(topic, value, key=key)
        stop = threading.Event()
        run_worker(log, VitalsProcessor(log, clock=ManualClock(WALL), stop=stop), stop, until_idle=True,
                   max_wait_s=0.05)
        return _scoring_outputs(log)
    finally:
        log.close()


def _scoring_outputs(log: Log) -> tuple[dict[str, Alert], dict[str, News2Score]]:
    """Alerts by id and the newest version of every NEWS2 score, wall-clock fields aside."""
    want = sum(p.high - p.low for t in (T.ALERTS, T.NEWS2) for p in log.describe_topic(t).partitions)
    records = []
    deadline = time.monotonic() + 60
    with log.consumer(f"check-scores-{time.monotonic_ns()}", [T.ALERTS, T.NEWS2]) as c:
        while len(records) < want and time.monotonic() < deadline:
            records += c.poll(max_records=20_000, timeout=0.5)
    assert len(records) == want
    alerts: dict[str, Alert] = {}
    scores: dict[str, News2Score] = {}
    for r in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        if r.topic == T.ALERTS:
            a = msgspec.json.decode(r.value, type=Alert)
            alerts[a.alert_id] = msgspec.structs.replace(a, raise_time=WALL)
        else:
            s = msgspec.json.decode(r.value, type=News2Score)
            scores[s.score_id] = msgspec.structs.replace(s, computed_time=WALL)
    return alerts, scores


# -- running workers -------------------------------------------------------------------------
def _start(bootstrap: str, home: Path, name: str, *args: str) -> subprocess.Popen[bytes]:
    err = open(home / f"{name}.stderr", "wb")  # noqa: SIM115 - closed with the process
    try:
        return subprocess.Popen(cli_args(bootstrap, home, "process", *args), env=cli_env(),
                                stdout=subprocess.DEVNULL, stderr=err)
    finally:
        err.close()


def _members(bootstrap: str, group: str) -> int:
    desc = admin(bootstrap).describe_consumer_groups([group], request_timeout=30)[group].result()
    return sum(1 for m in desc.members if m.assignment.topic_partitions)


def _lag(log: Log) -> int:
    # the stateless stage first: once it has no lag, its repartitioned records are durable
    first = sum(g.lag for g in log.group_lag(PROCESSOR_GROUP, list(INPUT_TOPICS)))
    return first + sum(g.lag for g in log.group_lag(SCORER_GROUP, [T.REPARTITION_VITALS]))


def _stop(procs: dict[str, subprocess.Popen[bytes]], home: Path) -> None:
    for proc in procs.values():
        proc.send_signal(signal.SIGTERM)  # each stage finishes its batch, commits, leaves
    codes = {name: proc.wait(timeout=60) for name, proc in procs.items()}
    assert codes == dict.fromkeys(codes, 0), {
        n: (home / f"{n}.stderr").read_text()[-2000:] for n, c in codes.items() if c}


@pytest.fixture
def kafka_log(kafka_bootstrap: str):
    log = open_log(f"kafka://{kafka_bootstrap}")
    yield log
    log.close()


# -- the tests -------------------------------------------------------------------------------
@pytest.mark.parametrize("workers", [2, 3])
def test_workers_started_before_mixed_producers_score_like_one_worker(
    kafka_bootstrap: str, kafka_log: Log, tmp_path: Path, workers: int
) -> None:
    _java_classpath()  # skip (or fail in CI) before touching the broker
    home = tmp_path / "home"
    home.mkdir()
    fresh_broker(kafka_bootstrap, home)
    data = _input(datetime.now(UTC) - timedelta(minutes=20))
    expected_alerts, expected_scores = _expected(tmp_path, data)

    proc = _start(kafka_bootstrap, home, "workers", "--workers", str(workers))
    try:
        wait_for(f"{workers} workers per stage", lambda: _members(kafka_bootstrap, PROCESSOR_GROUP) == workers
              and _members(kafka_bootstrap, SCORER_GROUP) == workers, 90)
        # the patients' metadata first (their monitors resolve through it), then the vitals
        with kafka_log.producer() as p:
            for key, value in data[T.PATIENT_METADATA]:
                p.send(T.PATIENT_METADATA, value, key=key)
        wait_for("the metadata to be read", lambda: _lag(kafka_log) == 0, 60)
        time.sleep(1.0)  # the reference tables refresh at the next batch
        _produce_mixed(kafka_bootstrap, home, data)
        wait_for("both stages to catch up", lambda: _lag(kafka_log) == 0, 120)
    finally:
        _stop({"workers": proc}, home)

    alerts, scores = _scoring_outputs(kafka_log)
    assert alerts == expected_alerts
    assert scores == expected_scores
    newest = {}
    for s in scores.values():
        if s.event_time >= newest.get(s.patient_id, s).event_time:
            newest[s.patient_id] = s
    assert set(newest) == set(PATIENTS)  # every monitor resolved to its patient
    assert {(s.total, s.band) for s in newest.values()} == {(6, "medium")}
    assert {(a.patient_id, a.rule, a.state) for a in alerts.values()} == {(p, "tachycardia", "raised") for p in PATIENTS}


def test_scale_one_three_two_with_a_kill_loses_no_alert_transition(
    kafka_bootstrap: str, kafka_log: Log, tmp_path: Path, unique_name: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    fresh_broker(kafka_bootstrap, home)
    messages = simulated(2500, patients=24, profiles=("vitals", "device"))
    expected = reference_outputs(tmp_path, messages)
    assert len(expected.alerts) >= 10

    reference = [m for m in messages if m.topic in T.REFERENCE_TOPICS]
    events = [m for m in messages if m.topic not in T.REFERENCE_TOPICS]
    produce(kafka_log, reference)
    procs = {"w0": _start(kafka_bootstrap, home, "w0")}
    feeder = Feeder(kafka_bootstrap, events, slices=40)
    try:
        wait_for("one worker per stage", lambda: _members(kafka_bootstrap, PROCESSOR_GROUP) == 1
              and _members(kafka_bootstrap, SCORER_GROUP) == 1, 90)
        feeder.start()
        wait_for("the first alerts", lambda: kafka_log.describe_topic(T.ALERTS).records > 0, 60)
        procs["w1"] = _start(kafka_bootstrap, home, "w1")  # scale out to three
        procs["w2"] = _start(kafka_bootstrap, home, "w2")
        wait_for("three workers per stage", lambda: _members(kafka_bootstrap, PROCESSOR_GROUP) == 3
              and _members(kafka_bootstrap, SCORER_GROUP) == 3, 90)
        assert not feeder.done.is_set(), "the input was fully produced before the scale-out"
        kill_9(procs.pop("w1"))  # and back in to two, the hard way, mid-stream
        wait_for("the input to be produced", feeder.done.is_set, 90)
        assert not feeder.errors, feeder.errors
        wait_for("two workers per stage owning everything", lambda: _members(kafka_bootstrap, PROCESSOR_GROUP) == 2
              and _members(kafka_bootstrap, SCORER_GROUP) == 2, 90)
        wait_for("both stages to catch up", lambda: _lag(kafka_log) == 0, 120)
    finally:
        _stop(procs, home)
        feeder.join(timeout=30)

    got = read_outputs(kafka_log, f"check-{unique_name}")
    assert set(got.transitions()) == set(expected.transitions())  # none lost, none invented
    assert len({a.alert_id for a in got.alerts}) == len(got.transitions())  # a repeat is the same alert
    cli(kafka_bootstrap, home, "sink", "warehouse", "--until-idle", timeout=120)
    assert_warehouse_matches(home, expected)  # each transition once
