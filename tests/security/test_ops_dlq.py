"""Dead-letter replay through the operator's eyes (issue 11.4): validate first, keep the key and
partition, mark what was sent, never multiply; `dlq list` says which record failed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from ops_cli import jsonl, vs

from vitalstream.log.base import partition_for

GOOD = {"event_id": "00000000-0000-4000-8000-0000000000a1", "patient_id": "p-replay-7",
        "timestamp": "2024-04-01T08:00:00Z", "data_type": "blood_oxygen", "spo2": 97}
PARTITIONS = 6  # the default


def _dlq(home: Path) -> list[dict]:
    r = vs(home, "dlq", "list", "--json", "--limit", "0")
    assert r.returncode == 0, r.stderr
    return jsonl(r.stdout)


def _seed_invalid(home: Path) -> None:
    bad = dict(GOOD, spo2=140)
    lines = (json.dumps(bad) + "\n" + "garbage{\n").encode()
    r = vs(home, "produce", "blood-oxygen-data", "--raw", "--key-field", "patient_id", stdin=lines)
    assert r.returncode == 0, r.stderr
    assert vs(home, "process", "--until-idle").returncode == 0


def test_list_shows_key_event_id_preview_and_original_value(tmp_path) -> None:
    home = tmp_path / "h"
    _seed_invalid(home)
    vs(home, "produce", "dlq-topic", "--raw", stdin=b"\xff\xfe\x00binary\n")  # not UTF-8
    rows = _dlq(home)
    spo2 = next(d for d in rows if d["field"] == "spo2")
    assert spo2["key"] == "p-replay-7" and spo2["event_id"] == GOOD["event_id"]
    assert spo2["value_encoding"] == "utf-8" and json.loads(spo2["value"])["spo2"] == 140
    binary = next(d for d in rows if d["value_encoding"] == "base64")
    import base64
    assert base64.b64decode(binary["value"]) == b"\xff\xfe\x00binary"
    table = vs(home, "dlq", "list", "--wide").stdout.decode()
    assert "p-replay-7" in table and "garbage{" in table  # key and payload preview


def test_repeated_replay_never_multiplies(tmp_path) -> None:
    home = tmp_path / "h"
    _seed_invalid(home)
    assert len(_dlq(home)) == 2
    for _ in range(4):  # was 2 -> 4 -> 8 -> 16
        r = vs(home, "dlq", "replay", "--source", "blood-oxygen-data")
        assert r.returncode == 1 and b"2 still invalid (not sent)" in r.stdout, r.stdout
        assert vs(home, "process", "--until-idle").returncode == 0
        assert len(_dlq(home)) == 2


def test_dry_run_sends_nothing_and_says_what_would_happen(tmp_path) -> None:
    home = tmp_path / "h"
    _seed_invalid(home)
    ref = next(d for d in _dlq(home) if d["field"] == "spo2")["offset"]
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps(GOOD))
    before = json.loads(vs(home, "topics", "describe", "blood-oxygen-data", "--json").stdout)
    r = vs(home, "dlq", "replay", ref, "--value-file", str(fixed), "--dry-run")
    assert r.returncode == 0 and f"{ref}: would send to blood-oxygen-data".encode() in r.stdout, r.stdout
    r = vs(home, "dlq", "replay", "--source", "blood-oxygen-data", "--dry-run")
    assert b"still invalid" in r.stdout and b"would replay 0" in r.stdout
    after = json.loads(vs(home, "topics", "describe", "blood-oxygen-data", "--json").stdout)
    assert after == before
    assert not any(d["replayed"] for d in _dlq(home))


def test_fixed_value_marks_entry_and_is_skipped_unless_again(tmp_path) -> None:
    home = tmp_path / "h"
    _seed_invalid(home)
    spo2 = next(d for d in _dlq(home) if d["field"] == "spo2")
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps(GOOD))
    # a fixed value is for ONE entry: --source alone would send it for every entry
    r = vs(home, "dlq", "replay", "--source", "blood-oxygen-data", "--value-file", str(fixed))
    assert r.returncode == 2 and b"ONE dead letter" in r.stderr
    r = vs(home, "dlq", "replay", spo2["offset"], "--value-file", str(fixed))
    assert r.returncode == 0 and b"replayed 1" in r.stdout, r.stdout
    assert next(d for d in _dlq(home) if d["offset"] == spo2["offset"])["replayed"] is True
    r = vs(home, "dlq", "replay", spo2["offset"], "--value-file", str(fixed))
    assert r.returncode == 0 and b"replayed 0" in r.stdout and b"1 skipped" in r.stdout
    r = vs(home, "dlq", "replay", spo2["offset"], "--value-file", str(fixed), "--again")
    assert b"replayed 1" in r.stdout
    out = vs(home, "consume", "blood-oxygen-data", "--from-beginning", "--envelope", "--timeout", "1")
    sent = [e for e in jsonl(out.stdout) if "replay_of" in e["headers"]]
    assert len(sent) == 2
    # same key, and so the partition the original record was on
    assert {e["key"] for e in sent} == {"p-replay-7"}
    assert {e["partition"] for e in sent} == {int(spo2["source"].split(":")[1])}


def test_keyless_edge_dead_letter_replays_to_the_devices_partition(tmp_path) -> None:
    """File/HTTP edges dead-letter without a key; replay gives the key the edge would have."""
    home = tmp_path / "h"
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(dict(GOOD, spo2=-3)) + "\n")
    r = vs(home, "ingest", "jsonl", str(src), "--topic", "blood-oxygen-data")
    assert r.returncode == 0, r.stderr
    (entry,) = _dlq(home)
    assert entry["key"] is None and entry["stage"] == "ingest.file"
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps(GOOD))
    assert b"replayed 1" in vs(home, "dlq", "replay", entry["offset"], "--value-file", str(fixed)).stdout
    out = jsonl(vs(home, "consume", "blood-oxygen-data", "--from-beginning", "--envelope",
                   "--timeout", "1").stdout)
    (rec,) = out
    assert rec["key"] == "p-replay-7"
    assert rec["partition"] == partition_for(b"p-replay-7", PARTITIONS)  # where the key puts it


def test_replay_requires_a_selection_and_a_real_entry(tmp_path) -> None:
    home = tmp_path / "h"
    _seed_invalid(home)
    r = vs(home, "dlq", "replay")
    assert r.returncode == 2 and b"give PARTITION:OFFSET or --source" in r.stderr
    r = vs(home, "dlq", "replay", "5:999")
    assert r.returncode == 2 and b"no dead letter at 5:999" in r.stderr
