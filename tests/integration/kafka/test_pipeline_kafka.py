"""The whole pipeline on a real Kafka broker: simulated and invalid records in, ``vitalstream up``
(processor and sinks as processes) until idle, and exactly the expected rows out.

The expected output is not written by hand: the same input goes through one processor on the
embedded log in this process, and Kafka must give the same processed event ids, alert
transitions and dead letters. Topic names are fixed (the seeds' names), so each test starts with
``vitalstream topics reset`` and forgets vitalstream's consumer groups; the other modules of this
directory reuse these helpers.
"""

from __future__ import annotations

import collections
import functools
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from preconditions import missing
from vitalstream import topics as T
from vitalstream.deadletter import DeadLetter
from vitalstream.events import decode, normalise
from vitalstream.events.canonical import Alert, ProcessedVital
from vitalstream.log import Record, open_log
from vitalstream.log.base import Log
from vitalstream.processing import VitalsProcessor
from vitalstream.processing.processor import PROCESSOR_GROUP
from vitalstream.runtime import run_worker
from vitalstream.simulate import Outgoing, make
from vitalstream.sinks.warehouse import open_warehouse

EXE = str(Path(sys.executable).parent / "vitalstream")
PROCESSED = tuple(t.name for t in T.CATALOGUE if t.role == "processed")
# Every consumer group vitalstream itself runs; a test starts with none of them on the broker.
OWN_GROUPS = (PROCESSOR_GROUP, "vitalstream-lake", "vitalstream-lake-landing", "vitalstream-warehouse")

# Hand-written records the processor must dead-letter (topic, key, value).
INVALID: tuple[tuple[str, bytes, bytes], ...] = (
    (T.HEART_RATE, b"patient-0001", b"{not json"),
    (T.BLOOD_OXYGEN, b"patient-0002", b'{"patient_id":"patient-0002","data_type":"blood_oxygen"}'),
    (T.HEART_RATE, b"patient-0003", b'{"event_id":"x","patient_id":"patient-0003",'
                                    b'"timestamp":"2024-04-01T00:00:00.000Z","data_type":"heart_rate",'
                                    b'"heart_rate":"fast"}'),
    (T.SMARTWATCH, b"sw-0001", b'["a", "list"]'),
    (T.DEVICE_DATA, b"device-0001", b'{"deviceId":"device-0001","timestamp":"yesterday"}'),
    (T.BLOOD_PRESSURE, b"", b"\xff\xfe binary"),
)


# -- running the CLI -------------------------------------------------------------------------
def cli_env() -> dict[str, str]:
    """The environment of a CLI run: none of the caller's VITALSTREAM_* settings leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VITALSTREAM_")}
    env["VITALSTREAM_LOG_LEVEL"] = "WARNING"
    return env


def cli_args(bootstrap: str, home: Path, *args: str) -> list[str]:
    return [EXE, "--log-url", f"kafka://{bootstrap}", "--home", str(home), *args]


def cli(bootstrap: str, home: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cli_args(bootstrap, home, *args), env=cli_env(), capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"vitalstream {' '.join(args)}: {done.stderr[-3000:]}"
    return done


# -- a clean broker --------------------------------------------------------------------------
@functools.cache
def admin(bootstrap: str) -> Any:  # confluent_kafka ships no type hints
    """One confluent-kafka admin client per broker for the whole session (each new client
    prints a librdkafka notice when it is freed)."""
    from confluent_kafka.admin import AdminClient

    return AdminClient({"bootstrap.servers": bootstrap})


def forget_groups(bootstrap: str, groups: Iterable[str] = OWN_GROUPS) -> None:
    """Delete vitalstream's consumer groups, so a test never resumes another test's offsets."""
    from confluent_kafka import KafkaException

    client = admin(bootstrap)
    existing = {g.group_id for g in client.list_consumer_groups(request_timeout=30).result().valid}
    todo = [g for g in groups if g in existing]
    if not todo:
        return
    for group, future in client.delete_consumer_groups(todo, request_timeout=30).items():
        try:
            future.result()
        except KafkaException as exc:  # still has members: a process of an earlier test lingers
            raise AssertionError(f"cannot delete consumer group {group}: {exc}") from exc


def broker_in_use(bootstrap: str) -> str | None:
    """Which of vitalstream's groups has live members (another pipeline runs on this broker)."""
    groups = admin(bootstrap).describe_consumer_groups(list(OWN_GROUPS), request_timeout=30)
    for name, future in groups.items():
        if future.result().members:
            return name
    return None


def fresh_broker(bootstrap: str, home: Path) -> None:
    """vitalstream's topics empty and recreated, its groups gone (other topics untouched).

    The topic and group names are the seeds' own, so a broker another vitalstream pipeline is
    using (a colleague's benchmark on a shared development broker) cannot be reset under it.
    """
    busy = broker_in_use(bootstrap)
    if busy is not None:
        problem = (f"Kafka at {bootstrap} is in use by another vitalstream pipeline (group {busy} "
                   "has members); point VITALSTREAM_TEST_KAFKA at a broker of your own")
        missing(problem)
    forget_groups(bootstrap)
    done = cli(bootstrap, home, "topics", "reset", "--yes")
    assert "vitalstream topics" in done.stdout


# -- input -----------------------------------------------------------------------------------
def simulated(events_per_profile: int, patients: int = 30, start: datetime | None = None,
              profiles: Iterable[str] = ("vitals", "smartwatch", "device")) -> list[Outgoing]:
    """Reference records first, then events, for each profile.

    Events start a few minutes ago: records carry their event time, and the broker's one-week
    retention would delete records stamped with the simulators' default start (2024) while a
    test reads them.
    """
    start = start or datetime.now(UTC) - timedelta(minutes=30)
    out: list[Outgoing] = []
    for profile in profiles:
        sim = make(profile, patients=patients, seed=11, start=start)
        out += [*sim.reference(), *itertools.islice(sim.events(), events_per_profile)]
    return out


def produce(log: Log, messages: Iterable[Outgoing], invalid: Iterable[tuple[str, bytes, bytes]] = ()) -> None:
    with log.producer() as p:
        for m in messages:
            p.send(m.topic, m.value, key=m.key, timestamp_ms=m.timestamp_ms)
        for topic, key, value in invalid:
            p.send(topic, value, key=key or None)
        p.flush()


def wait_for(what: str, cond, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out after {timeout:g}s waiting for {what}"
        time.sleep(0.5)


def kill_9(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker processes (the supervisor's children), then the supervisor."""
    children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert children, "the worker processes had not started"
    for pid in children:
        os.kill(int(pid), signal.SIGKILL)
    proc.kill()
    proc.wait()


class Feeder(threading.Thread):
    """Produces ``messages`` in ``slices`` paced slices (``pause`` s apart) while workers run;
    ``done`` is set at the end, ``errors`` holds what went wrong (for the test thread)."""

    def __init__(self, bootstrap: str, messages: list[Outgoing], slices: int = 50, pause: float = 0.5) -> None:
        super().__init__(name="feed", daemon=True)
        self.bootstrap, self.messages, self.slices, self.pause = bootstrap, messages, slices, pause
        self.done = threading.Event()
        self.errors: list[BaseException] = []

    def run(self) -> None:
        try:
            with open_log(f"kafka://{self.bootstrap}") as log:
                step = -(-len(self.messages) // self.slices)
                for i in range(self.slices):
                    produce(log, self.messages[i * step:(i + 1) * step])
                    time.sleep(self.pause)
        except BaseException as exc:  # reported by the test thread
            self.errors.append(exc)
        finally:
            self.done.set()


def seed0_and_seed4_ids(messages: Iterable[Outgoing]) -> set[str]:
    """Event ids of the seed-0 and seed-4 vitals, derived without the processor."""
    topics = {T.HEART_RATE, T.BLOOD_OXYGEN, T.BLOOD_PRESSURE, T.FALL_DETECTION, T.SMARTWATCH}
    return {v.event_id for m in messages if m.topic in topics for v in normalise(m.topic, decode(m.topic, m.value))}


# -- output ----------------------------------------------------------------------------------
class Outputs(msgspec.Struct):
    processed: dict[str, list[str]]  # processed topic -> event ids, in the order read
    alerts: list[Alert]
    dead: list[DeadLetter]

    def transitions(self) -> collections.Counter[tuple[str, str, str, str]]:
        return collections.Counter((a.patient_id, a.rule, a.state, a.event_id) for a in self.alerts)

    def dead_summary(self) -> collections.Counter[tuple[str, str]]:
        return collections.Counter((d.source_topic or "", d.stage) for d in self.dead)


def read_outputs(log: Log, group: str) -> Outputs:
    """Everything on the processed, alert and dead-letter topics (a private ``check-`` group)."""
    topics = [*PROCESSED, T.ALERTS, T.DEAD_LETTERS]
    want = sum(p.high - p.low for t in topics for p in log.describe_topic(t).partitions)
    records: list[Record] = []
    deadline = time.monotonic() + 60
    with log.consumer(group, topics) as c:
        while len(records) < want and time.monotonic() < deadline:
            records += c.poll(max_records=20_000, timeout=0.5)
    assert len(records) == want, f"read {len(records)} of {want} output records"
    out = Outputs({t: [] for t in PROCESSED}, [], [])
    for r in records:
        if r.topic == T.ALERTS:
            out.alerts.append(msgspec.json.decode(r.value, type=Alert))
        elif r.topic == T.DEAD_LETTERS:
            out.dead.append(DeadLetter.from_record(r))
        else:
            out.processed[r.topic].append(msgspec.json.decode(r.value, type=ProcessedVital).event_id)
    return out


def reference_outputs(tmp: Path, messages: list[Outgoing],
                      invalid: Iterable[tuple[str, bytes, bytes]] = ()) -> Outputs:
    """The same input through one processor on the embedded log: what Kafka must give."""
    log = open_log(f"sqlite:///{tmp}/reference-log.db")
    try:
        T.ensure_all(log)
        produce(log, messages, invalid)
        stop = threading.Event()
        run_worker(log, VitalsProcessor(log, stop=stop), stop, until_idle=True, max_wait_s=0.05)
        return read_outputs(log, "check-reference")
    finally:
        log.close()


def warehouse_outputs(home: Path) -> dict[str, object]:
    with open_warehouse(f"duckdb:///{home}/warehouse.duckdb", read_only=True) as wh:
        tables = {T.BY_NAME[t].table: t for t in PROCESSED}
        processed = {
            tables[table]: [r["event_id"] for r in wh.rows(f'SELECT event_id FROM "{table}"')]
            for table in tables
        }
        alerts = wh.rows("SELECT alert_id, patient_id, rule, state, event_id FROM alerts")
        dead = wh.rows("SELECT source_topic, stage, reason FROM dead_letters")
    return {"processed": processed, "alerts": alerts, "dead": dead}


def assert_warehouse_matches(home: Path, expected: Outputs) -> None:
    """Each expected event id once per table, exactly the expected alert transitions."""
    got = warehouse_outputs(home)
    for topic, ids in expected.processed.items():
        rows = got["processed"][topic]  # type: ignore[index]
        assert len(rows) == len(set(rows)), f"{topic}: an event id twice"
        assert set(rows) == set(ids), (
            f"{topic}: {len(set(ids) - set(rows))} missing, {len(set(rows) - set(ids))} unexpected"
        )
    alerts = got["alerts"]
    transitions = collections.Counter((a["patient_id"], a["rule"], a["state"], a["event_id"]) for a in alerts)  # type: ignore[union-attr]
    assert max(transitions.values(), default=0) <= 1, "an alert transition twice in the warehouse"
    assert set(transitions) == set(expected.transitions())
    dead = collections.Counter((d["source_topic"] or "", d["stage"]) for d in got["dead"])  # type: ignore[union-attr]
    assert dead == expected.dead_summary()
    assert all(d["reason"] for d in got["dead"])  # type: ignore[union-attr]


# -- the test --------------------------------------------------------------------------------
@pytest.fixture
def kafka_log(kafka_bootstrap: str):
    log = open_log(f"kafka://{kafka_bootstrap}")
    yield log
    log.close()


def test_up_until_idle_on_kafka_lands_exactly_the_expected_rows(
    kafka_bootstrap: str, kafka_log: Log, tmp_path: Path, unique_name: str
) -> None:
    home = tmp_path / "home"
    fresh_broker(kafka_bootstrap, home)
    messages = simulated(1500)
    expected = reference_outputs(tmp_path, messages, INVALID)
    assert sum(len(v) for v in expected.processed.values()) > 3000
    assert expected.alerts and len(expected.dead) == len(INVALID)
    # Independent of the processor: seed 0 and seed 4 vitals keep the ids they came with.
    seed_ids = seed0_and_seed4_ids(messages)
    assert seed_ids <= {i for ids in expected.processed.values() for i in ids}

    produce(kafka_log, messages, INVALID)
    t0 = time.monotonic()
    cli(kafka_bootstrap, home, "up", "--until-idle", "--no-simulate", "--quiet", timeout=240)
    elapsed = time.monotonic() - t0

    # The processed topics on Kafka: every expected event once, nothing else (no worker died,
    # so not even an at-least-once repeat).
    got = read_outputs(kafka_log, f"check-{unique_name}")
    for topic, ids in expected.processed.items():
        assert collections.Counter(got.processed[topic]) == collections.Counter(ids), topic
    assert got.transitions() == expected.transitions()
    assert max(got.transitions().values()) == 1
    assert got.dead_summary() == expected.dead_summary()
    assert {d.source_topic for d in got.dead} == {t for t, _, _ in INVALID}
    assert all(d.reason for d in got.dead)

    # The warehouse, loaded by the sinks `up` ran.
    assert_warehouse_matches(home, expected)
    print(f"up --until-idle on Kafka: {len(messages) + len(INVALID)} records in {elapsed:.1f}s")
