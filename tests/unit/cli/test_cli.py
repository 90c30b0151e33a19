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
    """Ctrl-C (twice, as an impatient user does): batches finish, offsets commit, exit 0."""
    import signal
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith("VITALSTREAM_")}
    args = [EXE, "--home", str(tmp_path), "up"] + (["--quiet"] if quiet else [])
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until events flow
        time.sleep(1)
        r = vs(tmp_path, "status", "--json")
        if r.returncode == 0 and any(t["records"] for t in json.loads(r.stdout)["topics"]
                                     if t["topic"].startswith("processed-")):
            break
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("vitalstream up did not stop within 60 s of Ctrl-C") from None
    assert proc.returncode == 0, err.decode()[-2000:]
    lags = {g["group"]: g["lag"] for g in json.loads(vs(tmp_path, "status", "--json").stdout)["groups"]}
    assert "vitalstream-processor" in lags
