"""Scale-out on a real broker: three processor processes (each a stateless and a stateful
stage worker) share six partitions; one is killed with ``kill -9`` mid-stream and restarted
later. The warehouse must end with exactly the rows and alert transitions one processor gives
on the embedded log for the same input.
"""

from __future__ import annotations

import collections
import signal
import subprocess
import time
from pathlib import Path

import pytest
from test_pipeline_kafka import (
    PROCESSED,
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
from vitalstream.log import open_log
from vitalstream.log.base import Log
from vitalstream.processing.processor import INPUT_TOPICS, PROCESSOR_GROUP
from vitalstream.processing.stateful import SCORER_GROUP

WORKERS = 3
PARTITIONS = 6


@pytest.fixture
def kafka_log(kafka_bootstrap: str):
    log = open_log(f"kafka://{kafka_bootstrap}")
    yield log
    log.close()


def _start_worker(bootstrap: str, home: Path, name: str) -> subprocess.Popen[bytes]:
    err = open(home / f"{name}.stderr", "wb")  # noqa: SIM115 - closed with the process
    try:
        return subprocess.Popen(cli_args(bootstrap, home, "process"), env=cli_env(),
                                stdout=subprocess.DEVNULL, stderr=err)
    finally:
        err.close()


def _processed(log: Log) -> int:
    return sum(log.describe_topic(t).records for t in PROCESSED)


def _lag(log: Log) -> int:
    """What either stage still has to read."""
    return (sum(g.lag for g in log.group_lag(PROCESSOR_GROUP, list(INPUT_TOPICS)))
            + sum(g.lag for g in log.group_lag(SCORER_GROUP, [T.REPARTITION_VITALS])))


def _members(bootstrap: str) -> list[set[tuple[str, int]]]:
    """The processor group's members and what each is assigned (empty while it rebalances)."""
    desc = admin(bootstrap).describe_consumer_groups([PROCESSOR_GROUP], request_timeout=30)[PROCESSOR_GROUP].result()
    return [{(tp.topic, tp.partition) for tp in m.assignment.topic_partitions} for m in desc.members]


def test_three_workers_one_killed_and_restarted_warehouse_exact(
    kafka_bootstrap: str, kafka_log: Log, tmp_path: Path, unique_name: str
) -> None:
    t_start = time.monotonic()
    home = tmp_path / "home"
    home.mkdir()
    fresh_broker(kafka_bootstrap, home)
    messages = simulated(4000)
    expected = reference_outputs(tmp_path, messages)
    assert expected.alerts

    # The reference data first, then the events in paced slices over ~25 s, while workers run.
    reference = [m for m in messages if m.topic in T.REFERENCE_TOPICS]
    events = [m for m in messages if m.topic not in T.REFERENCE_TOPICS]
    produce(kafka_log, reference)
    workers = {f"worker-{i}": _start_worker(kafka_bootstrap, home, f"worker-{i}") for i in range(WORKERS)}
    feeder = Feeder(kafka_bootstrap, events)
    try:
        # Three members, two partitions each, and the same partitions of every input topic
        # (range assignor: co-partitioned, so a patient's vitals meet in one worker).
        def shared() -> bool:
            members = _members(kafka_bootstrap)
            return len(members) == WORKERS and all(members)

        wait_for("three workers sharing the partitions", shared, 60)
        feeder.start()
        assignments = _members(kafka_bootstrap)
        for owned in assignments:
            per_topic = collections.defaultdict(set)
            for topic, part in owned:
                per_topic[topic].add(part)
            parts = set(map(frozenset, per_topic.values()))
            assert len(parts) == 1 and len(next(iter(parts))) == PARTITIONS // WORKERS, owned
        assert set().union(*assignments) == {(t, p) for t in INPUT_TOPICS for p in range(PARTITIONS)}

        # Mid-stream: some output exists, and the feeder is still producing.
        wait_for("the first processed records", lambda: _processed(kafka_log) > 2000, 60)
        assert not feeder.done.is_set(), "the input was fully produced before the kill"
        kill_9(workers.pop("worker-1"))
        killed_at = time.monotonic()
        # The two survivors take over the dead member's partitions after its session expires.
        wait_for("two workers owning all partitions", lambda: len(_members(kafka_bootstrap)) == WORKERS - 1
              and len(set().union(*_members(kafka_bootstrap))) == len(INPUT_TOPICS) * PARTITIONS, 60)
        time.sleep(max(0.0, 3 - (time.monotonic() - killed_at)))
        workers["worker-1b"] = _start_worker(kafka_bootstrap, home, "worker-1b")
        wait_for("the restarted worker to rejoin", lambda: len(_members(kafka_bootstrap)) == WORKERS
              and all(_members(kafka_bootstrap)), 60)

        wait_for("the input to be produced", feeder.done.is_set, 90)
        assert not feeder.errors, feeder.errors
        wait_for("the processor group to catch up", lambda: _lag(kafka_log) == 0, 90)
    finally:
        for proc in workers.values():
            proc.send_signal(signal.SIGTERM)  # finish the batch, commit, leave the group
        codes = {name: proc.wait(timeout=60) for name, proc in workers.items()}
        feeder.join(timeout=30)
    assert codes == dict.fromkeys(codes, 0), {
        n: (home / f"{n}.stderr").read_text()[-2000:] for n, c in codes.items() if c
    }

    # At least once on the topics: the killed worker's last batch may repeat, and so may its
    # alerts if it died between making them durable and writing the state that explains them
    # (never the other way round: no transition is lost). The warehouse keeps each once.
    got = read_outputs(kafka_log, f"check-{unique_name}")
    for topic, ids in expected.processed.items():
        assert set(got.processed[topic]) == set(ids), topic
    assert set(got.transitions()) == set(expected.transitions())
    assert len({a.alert_id for a in got.alerts}) == len(got.transitions())  # repeats are the same alert

    # Drain into the warehouse: exactly the expected rows and alerts.
    cli(kafka_bootstrap, home, "sink", "warehouse", "--until-idle", timeout=120)
    assert_warehouse_matches(home, expected)
    repeats = sum(len(v) for v in got.processed.values()) - sum(len(v) for v in expected.processed.values())
    print(f"scale-out on Kafka: {len(messages)} records, {repeats} processed twice after the kill, "
          f"{time.monotonic() - t_start:.0f}s")
