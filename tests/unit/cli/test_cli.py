"""The operator commands, run as a user runs them (the installed console script)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

EXE = str(Path(sys.executable).parent / "vitalstream")


def vs(home: Path, *args: str, stdin: bytes | None = None, env: dict | None = None, timeout: float = 120):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("VITALSTREAM_")}
    full_env.update(env or {})
    return subprocess.run([EXE, "--home", str(home), *args], input=stdin, capture_output=True,
                          env=full_env, timeout=timeout)


def _hr_line(i: int) -> str:
    return json.dumps({"event_id": str(uuid.UUID(int=i)), "patient_id": f"p{i % 97}",
                       "timestamp": "2024-04-01T08:00:00Z", "data_type": "heart_rate", "heart_rate": 60 + i % 40})


def test_produce_consume_round_trip_100k_byte_for_byte(tmp_path) -> None:
    src = tmp_path / "in.jsonl"
    lines = [_hr_line(i) for i in range(100_000)]
    src.write_text("\n".join(lines) + "\n")
    r = vs(tmp_path / "h", "produce", "heart-rate-data", "--file", str(src), "--key-field", "patient_id")
    assert r.returncode == 0, r.stderr
    r = vs(tmp_path / "h", "consume", "heart-rate-data", "--from-beginning", "--timeout", "2")
    assert r.returncode == 0, r.stderr
    got = r.stdout.decode().splitlines()
    assert len(got) == 100_000
    assert sorted(got) == sorted(lines)  # byte-for-byte; order is per partition
    # per key, order is kept
    firsts = [json.loads(x)["event_id"] for x in got if json.loads(x)["patient_id"] == "p5"]
    want = [json.loads(x)["event_id"] for x in lines if json.loads(x)["patient_id"] == "p5"]
    assert firsts == want


def test_bad_lines_reported_with_line_number_and_rest_sent(tmp_path) -> None:
    data = (_hr_line(1) + "\n{oops\n" + _hr_line(2) + "\n").encode()
    r = vs(tmp_path, "produce", "heart-rate-data", stdin=data)
    assert r.returncode == 1
    assert b"line 2:" in r.stderr and b"sent 2 records" in r.stderr
    r = vs(tmp_path, "produce", "heart-rate-data", "--strict", stdin=data)
    assert r.returncode == 1 and b"stopped at line 2" in r.stderr
    r = vs(tmp_path, "produce", "heart-rate-data", "--raw", stdin=b"\x00garbage\n")
    assert r.returncode == 0
    r = vs(tmp_path, "consume", "heart-rate-data", "--from-beginning", "--timeout", "1")
    assert r.stdout.count(b"\n") == 4 and b"\x00garbage" in r.stdout


def test_clear_one_line_errors(tmp_path) -> None:
    r = vs(tmp_path, "produce", "not-ours", stdin=b"{}\n")
    assert r.returncode == 2
    assert r.stderr.decode().strip().endswith("pass --create to create it")
    assert b"Traceback" not in r.stderr
    r = vs(tmp_path, "produce", "not-ours", "--create", stdin=b"{}\n")
    assert r.returncode == 0
    r = vs(tmp_path, "status", env={"VITALSTREAM_HTTP_PORT": "eighty"})
    assert r.returncode == 2 and b"VITALSTREAM_HTTP_PORT" in r.stderr and b"Traceback" not in r.stderr
    r = vs(tmp_path, "--log-url", "redis://x", "status")
    assert r.returncode == 2 and b"log_url" in r.stderr and r.stderr.count(b"\n") == 1
    r = vs(tmp_path, "consume", "no-such-topic", "--timeout", "1")
    assert r.returncode == 2 and b"does not exist" in r.stderr


def test_topics_reset_touches_only_our_topics(tmp_path) -> None:
    assert vs(tmp_path, "produce", "theirs", "--create", stdin=b"{}\n").returncode == 0
    assert vs(tmp_path, "produce", "alerts", stdin=b"{}\n").returncode == 0
    r = vs(tmp_path, "topics", "reset", "--yes")
    assert r.returncode == 0, r.stderr
    listed = {t["topic"]: t for t in json.loads(vs(tmp_path, "topics", "list", "--json").stdout)}
    assert listed["theirs"]["records"] == 1 and listed["alerts"]["records"] == 0
    assert listed["patient-metadata"]["compacted"] is True and listed["alerts"]["partitions"] == 6


def test_schemas_export(tmp_path) -> None:
    r = vs(tmp_path, "schemas", "export", str(tmp_path / "schemas"))
    assert r.returncode == 0
    files = list((tmp_path / "schemas").glob("*.schema.json"))
    assert len(files) >= 13 and all(json.loads(f.read_text()) for f in files)


def test_up_until_idle_processes_everything_and_exits_zero(tmp_path) -> None:
    r = vs(tmp_path, "up", "--count", "300", "--until-idle", "--quiet", timeout=240)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    status = json.loads(vs(tmp_path, "status", "--json").stdout)
    counts = {t["topic"]: t["records"] for t in status["topics"]}
    assert counts["processed-heart-rate-data"] > 0 and counts["processed-smartwatch-data"] > 0
    proc = next(g for g in status["groups"] if g["group"] == "vitalstream-processor")
    assert proc["lag"] == 0


@pytest.mark.parametrize("quiet", [True, False])
def test_up_stops_cleanly_on_ctrl_c(tmp_path, quiet) -> None:
    """Ctrl-C (twice, as an impatient user does) while batches are in flight: they finish,
    their offsets commit, exit 0."""
    import signal
    import time

    from vitalstream.testing import faultpoint

    paused = tmp_path / "paused"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VITALSTREAM_")}
    # every worker stops between its 2nd durable write and that batch's commit, so the Ctrl-C
    # lands exactly mid-batch
    env[faultpoint.ENV] = f"2:{paused}"
    args = [EXE, "--home", str(tmp_path), "up"] + (["--quiet"] if quiet else [])
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    waiting = {"vitalstream-processor", "vitalstream-lake"}
    while waiting and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        waiting -= {p["group"] for p in faultpoint.paused(paused)}
    assert not waiting, f"{waiting} never reached their second batch"
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("vitalstream up did not stop within 60 s of Ctrl-C") from None
    assert proc.returncode == 0, err.decode()[-2000:]
    committed_equals_done(tmp_path)


def committed_equals_done(home: Path) -> None:
    """Each worker committed exactly what it made durable before stopping: no batch was left
    done but uncommitted (it would be redone) and nothing was committed ahead of its output."""
    import msgspec

    from vitalstream import topics as T
    from vitalstream.events import InvalidEvent, decode, normalise
    from vitalstream.events.canonical import ProcessedVital
    from vitalstream.log import open_log, read_all
    from vitalstream.processing.processor import PROCESSOR_GROUP, VITAL_INPUTS
    from vitalstream.sinks.lake import LAKE_GROUP, read_lake

    with open_log(f"sqlite:///{home}/log.db") as log:
        # The lake: committed positions are exactly one past the last archived offset.
        committed = {(g.topic, g.partition): g.committed for g in log.group_lag(LAKE_GROUP) if g.committed}
        archived: dict[tuple[str, int], int] = {}
        for topic in T.RAW_TOPICS:
            for r in read_lake(f"file://{home}/lake", topic):
                archived[(r.topic, r.partition)] = max(archived.get((r.topic, r.partition), 0), r.offset + 1)
        assert committed and committed == archived
        # The processor: every processed vital comes from an input below the committed position.
        position = {(g.topic, g.partition): g.committed or 0
                    for g in log.group_lag(PROCESSOR_GROUP, list(VITAL_INPUTS))}
        assert any(position.values())
        done_ids: set[str] = set()
        for r in read_all(log, list(VITAL_INPUTS)):
            if r.offset < position[(r.topic, r.partition)]:
                try:
                    done_ids |= {v.event_id for v in normalise(r.topic, decode(r.topic, r.value))}
                except InvalidEvent:
                    pass  # dead-lettered: no processed output
        outputs = [t for t in log.list_topics() if t.startswith("processed-") and t != "processed-entries"]
        produced = {msgspec.json.decode(r.value, type=ProcessedVital).event_id
                    for r in read_all(log, outputs)}
        assert produced and produced <= done_ids, len(produced - done_ids)


def test_components_stop_when_up_is_killed(tmp_path) -> None:
    """kill -9 of `up` (nobody sets the stop event): its components notice and exit, rather
    than run on unsupervised holding the warehouse file and their partitions."""
    import signal
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith("VITALSTREAM_")}
    proc = subprocess.Popen([EXE, "--home", str(tmp_path), "up", "--quiet", "--no-dashboard"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def children() -> set[int]:
        found = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout
        return {int(p) for p in found.split()}

    deadline = time.monotonic() + 60
    while len(kids := children()) < 3:  # simulators, processor, sinks started
        assert proc.poll() is None and time.monotonic() < deadline, "up did not start its components"
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    def running(pid: int) -> bool:  # exists and is not a zombie waiting to be reaped
        try:
            return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
        except FileNotFoundError:  # gone (and reaped)
            return False

    while alive := {k for k in kids if running(k)}:
        assert time.monotonic() < deadline, f"components still running after their supervisor died: {alive}"
        time.sleep(0.2)
