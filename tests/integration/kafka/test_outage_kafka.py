"""Kafka that is down: a clear error within seconds at start-up, and a processor that rides out
a broker disappearing mid-run (retrying with backoff, logging once per interval) and loses
nothing.

The mid-run outage needs a broker this test may stop, never the shared one: it starts a
private single-node broker with ``scripts/services/kafka.sh`` in its own services directory,
on free ports, reusing the broker jars the shared one was installed from.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_pipeline_kafka import (
    EXE,
    PROCESSED,
    cli_args,
    cli_env,
    produce,
    read_outputs,
    reference_outputs,
    simulated,
)

from preconditions import missing
from vitalstream import topics as T
from vitalstream.log import open_log
from vitalstream.log.base import Log
from vitalstream.processing.processor import INPUT_TOPICS, PROCESSOR_GROUP
from vitalstream.processing.stateful import SCORER_GROUP

REPO_ROOT = Path(__file__).resolve().parents[3]
KAFKA_SH = REPO_ROOT / "scripts" / "services" / "kafka.sh"
UNREACHABLE = "127.0.0.1:1"  # nothing listens on port 1: connection refused at once


# -- start-up against a broker that is not there -------------------------------------------
@pytest.mark.parametrize("command", [
    ["process"],
    ["up", "--until-idle", "--no-simulate", "--quiet"],
    ["sink", "warehouse", "--until-idle"],
    ["topics", "list"],
])
def test_unreachable_broker_fails_fast_with_a_clear_error(tmp_path: Path, command: list[str]) -> None:
    t0 = time.monotonic()
    done = subprocess.run(cli_args(UNREACHABLE, tmp_path, *command), env=cli_env(),
                          capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - t0
    assert done.returncode == 2, done.stderr
    assert elapsed < 15, f"took {elapsed:.1f}s"  # 5 s connect timeout + interpreter start-up
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: Kafka at {UNREACHABLE} is not reachable within 5s"), last
    assert "is the broker running" in last


def test_connect_timeout_in_the_url_shortens_the_wait(tmp_path: Path) -> None:
    t0 = time.monotonic()
    done = subprocess.run(
        [EXE, "--log-url", f"kafka://{UNREACHABLE}?connect_timeout=1", "--home", str(tmp_path), "topics", "list"],
        env=cli_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "not reachable within 1s" in done.stderr.strip().splitlines()[-1]
    assert time.monotonic() - t0 < 10


@pytest.mark.xfail(strict=True, reason=(
    "the start-up probe's librdkafka log lines and error_cb warnings (4 lines) are printed "
    "before the one error line; see the report of issue 5"))
def test_unreachable_broker_prints_only_the_error_line(tmp_path: Path) -> None:
    done = subprocess.run(cli_args(UNREACHABLE, tmp_path, "topics", "list"), env=cli_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


# -- a private broker that goes away mid-run -----------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateBroker:
    """A single-node KRaft broker of this test's own, driven by scripts/services/kafka.sh."""

    def __init__(self, services_dir: Path) -> None:
        self.dir = services_dir
        self.port = _free_port()
        self.env = {
            **os.environ,
            "VITALSTREAM_SERVICES_DIR": str(services_dir),
            "VITALSTREAM_SERVICES_KAFKA_PORT": str(self.port),
            "VITALSTREAM_SERVICES_KAFKA_CONTROLLER_PORT": str(_free_port()),
        }
        self.bootstrap = f"127.0.0.1:{self.port}"

    def run(self, action: str, *args: str) -> None:
        t0 = time.monotonic()
        done = subprocess.run(["bash", str(KAFKA_SH), action, *args], env=self.env,
                              capture_output=True, text=True, timeout=150)
        assert done.returncode == 0, f"kafka.sh {action}: {done.stderr[-2000:]}"
        print(f"private broker {action}: {time.monotonic() - t0:.1f}s")


@pytest.fixture
def private_broker(kafka_bootstrap: str, tmp_path: Path) -> Iterator[PrivateBroker]:
    # The jars the shared broker runs from (installed by `make services-up`): no download.
    shared = Path(os.environ.get("VITALSTREAM_SERVICES_DIR", REPO_ROOT / ".services")) / "kafka"
    jars = sorted(shared.glob("jars-*"))
    if not jars or not (jars[-1] / ".complete").exists():
        missing(f"no Kafka broker jars in {shared} (the outage test runs a private broker): "
                "run `scripts/services/kafka.sh install`")
    services = tmp_path / "services"
    (services / "kafka").mkdir(parents=True)
    for j in jars:
        (services / "kafka" / j.name).symlink_to(j)
    broker = PrivateBroker(services)
    broker.run("start", "--fresh")
    try:
        yield broker
    finally:
        broker.run("stop")


def _lag(log: Log) -> int:
    # the stateless stage first: once it has no lag, its repartitioned records are durable
    first = sum(g.lag for g in log.group_lag(PROCESSOR_GROUP, list(INPUT_TOPICS)))
    return first + sum(g.lag for g in log.group_lag(SCORER_GROUP, [T.REPARTITION_VITALS]))


def _wait(what: str, cond: Callable[[], object], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out after {timeout:g}s waiting for {what}"
        time.sleep(0.5)


def test_processor_rides_out_a_broker_outage_and_loses_nothing(
    private_broker: PrivateBroker, tmp_path: Path
) -> None:
    bootstrap = private_broker.bootstrap
    home = tmp_path / "home"
    home.mkdir()
    messages = simulated(1500)
    expected = reference_outputs(tmp_path, messages)
    reference = [m for m in messages if m.topic in T.REFERENCE_TOPICS]
    events = [m for m in messages if m.topic not in T.REFERENCE_TOPICS]
    half = len(events) // 2

    stderr_path = home / "processor.stderr"
    with open(stderr_path, "wb") as err:
        env = {**cli_env(), "VITALSTREAM_LOG_LEVEL": "INFO"}
        proc = subprocess.Popen(cli_args(bootstrap, home, "process"), env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        with open_log(f"kafka://{bootstrap}") as log:
            _wait("the processor's topics", lambda: {*PROCESSED, T.REPARTITION_VITALS} <= set(log.list_topics()), 60)
            # profiles before the devices' vitals, as in a real deployment: a vital that reaches
            # the processor before its device's profile is scored under the device id (a timing
            # race of its own, not what this test is about)
            produce(log, reference)
            _wait("the reference data to be read", lambda: _lag(log) == 0, 60)
            produce(log, events[:half])
            _wait("the first half to be processed", lambda: _lag(log) == 0, 60)
        before = stderr_path.read_text()

        down_at = time.monotonic()  # the clients see the outage from the moment stop begins
        private_broker.run("stop")
        time.sleep(15)
        assert proc.poll() is None, "the processor exited while the broker was down"
        private_broker.run("start")  # same storage: the topics and committed offsets are back
        outage = time.monotonic() - down_at

        with open_log(f"kafka://{bootstrap}") as log:
            produce(log, events[half:])
            _wait("the second half to be processed", lambda: _lag(log) == 0, 120)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0, stderr_path.read_text()[-3000:]
            got = read_outputs(log, "check-outage")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    # Nothing lost, and no alert transition twice.
    for topic, ids in expected.processed.items():
        assert set(got.processed[topic]) == set(ids), topic
    assert max(got.transitions().values()) == 1

    # The outage was reported, but not once per retry: each kind of client error at most once
    # per 30 s interval per client, plus librdkafka's own (deduplicated) connection lines.
    during = stderr_path.read_text()[len(before):]
    warnings = [line for line in during.splitlines() if " WARNING " in line or " ERROR " in line]
    assert warnings, "the outage went unreported"
    per_kind: dict[str, int] = {}
    for line in warnings:
        # per client: the component process ([prepare-0], [score-0]) and the client in it
        m = re.search(r"(\[[\w-]+\] ).*?(kafka (consumer|producer|admin)\b.*?: (_?[A-Z_]+): )", line)
        if m:
            kind = m.group(1) + m.group(2)
            per_kind[kind] = per_kind.get(kind, 0) + 1
    intervals = int(outage // 30) + 1
    assert per_kind and all(n <= intervals for n in per_kind.values()), per_kind
    # librdkafka's own lines, per component process, client and broker connection: the drop,
    # then the first failure and a summary of the identical ones it suppressed (about two per
    # interval), never a line per reconnect attempt. Their total depends on how many clients
    # were open when the broker went (a private restore reader may or may not be), so the bound
    # is per connection, not a total (a total of 60 failed once with 62 lines).
    per_connection: dict[tuple[str, ...], int] = {}
    for line in warnings:
        m = re.search(r"\[([\w-]+)\] vitalstream\.log\.kafka\.librdkafka: \w+ \[(rdkafka#[\w-]+)\] \[thrd:([^\]]+)\]", line)
        if m:
            per_connection[m.groups()] = per_connection.get(m.groups(), 0) + 1
    assert per_connection and all(n <= 2 * intervals + 2 for n in per_connection.values()), per_connection
    print(f"outage of {outage:.0f}s: {len(warnings)} warning lines, at most {max(per_connection.values())} per connection")

    # The same alerts as without the outage: after the broker returns the groups rebalance, and
    # the stateful stage restores its patients from the alert-state partitions it owns, read
    # to their end offsets (not to a first empty poll), so nothing is raised twice.
    assert set(got.transitions()) == set(expected.transitions())
