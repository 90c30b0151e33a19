"""Dead letters through the operator's eyes: list why, show one, replay a fixed record."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from test_cli import vs

GOOD = {"event_id": "00000000-0000-4000-8000-000000000001", "patient_id": "p1",
        "timestamp": "2024-04-01T08:00:00Z", "data_type": "blood_oxygen", "spo2": 97}


def test_dlq_list_show_replay(tmp_path) -> None:
    bad = dict(GOOD, spo2=140)
    lines = (json.dumps(bad) + "\n" + "garbage{\n").encode()
    # --raw sends every line as it is (a line without the key field goes unkeyed): both are
    # stored, and the processor dead-letters them
    r = vs(tmp_path, "produce", "blood-oxygen-data", "--raw", "--key-field", "patient_id", stdin=lines)
    assert r.returncode == 0 and b"sent 2 records" in r.stderr, r.stderr
    assert vs(tmp_path, "process", "--until-idle").returncode == 0
    listed = [json.loads(x) for x in vs(tmp_path, "dlq", "list", "--json").stdout.splitlines()]
    assert len(listed) == 2
    spo2 = next(d for d in listed if d["field"] == "spo2")
    assert spo2["stage"] == "process.validate" and spo2["source"].startswith("blood-oxygen-data:")
    assert "140" not in spo2["reason"]  # reasons name fields and ranges, not PHI values
    shown = json.loads(vs(tmp_path, "dlq", "show", spo2["offset"]).stdout)
    assert json.loads(shown["value"])["spo2"] == 140 and shown["key"] == "p1"
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps(GOOD))
    r = vs(tmp_path, "dlq", "replay", spo2["offset"], "--value-file", str(fixed))
    assert r.returncode == 0 and b"replayed 1" in r.stdout
    assert vs(tmp_path, "process", "--until-idle").returncode == 0
    out = vs(tmp_path, "consume", "processed-blood-oxygen-data", "--from-beginning", "--timeout", "1").stdout
    assert json.loads(out.splitlines()[0])["spo2"] == 97
