"""PHI at rest (issue 11.6): the home and every file vitalstream creates are owner-only."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from ops_cli import vs

LINE = {"event_id": "00000000-0000-4000-8000-0000000000b1", "patient_id": "p-perm",
        "timestamp": "2024-04-01T08:00:00Z", "data_type": "heart_rate", "heart_rate": 72}


def _modes(root: Path) -> dict[str, int]:
    out = {".": stat.S_IMODE(root.stat().st_mode)}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(dirpath) / name
            out[str(p.relative_to(root))] = stat.S_IMODE(p.stat().st_mode)
    return out


def test_everything_a_pipeline_creates_is_owner_only(tmp_path) -> None:
    home = tmp_path / "deep" / "home"
    lines = (json.dumps(LINE) + "\n" + json.dumps(dict(LINE, heart_rate=-1)) + "\n").encode()
    assert vs(home, "produce", "heart-rate-data", "--key-field", "patient_id", stdin=lines).returncode == 0
    r = vs(home, "up", "--until-idle", "--quiet")
    assert r.returncode == 0, r.stderr
    modes = _modes(home)
    names = set(modes)
    assert "log.db" in names and "warehouse.duckdb" in names
    assert any(n.startswith("lake/") and not Path(home / n).is_dir() for n in names), names
    wide = {n: oct(m) for n, m in modes.items() if m & 0o077}
    assert not wide, wide
    assert modes["."] == 0o700
    assert stat.S_IMODE((tmp_path / "deep").stat().st_mode) & 0o077 == 0  # parents made too


def test_an_existing_wide_home_gets_a_warning_not_a_silent_change(tmp_path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    home.chmod(0o755)
    r = vs(home, "status")
    assert r.returncode == 0, r.stderr
    assert b"warning:" in r.stderr and f"chmod 700 {home}".encode() in r.stderr
    assert stat.S_IMODE(home.stat().st_mode) == 0o755  # the operator decides
    assert stat.S_IMODE((home / "log.db").stat().st_mode) & 0o077 == 0  # new files still private
    home.chmod(0o700)
    assert b"warning" not in vs(home, "status").stderr


def test_warehouse_dead_letters_keep_where_and_why_but_the_payload_only_when_configured(tmp_path) -> None:
    bad = (json.dumps(dict(LINE, heart_rate=-1)) + "\n").encode()
    for setting, kept in (({}, False), ({"VITALSTREAM_WAREHOUSE_DEAD_LETTER_PAYLOADS": "true"}, True)):
        home = tmp_path / str(kept)
        assert vs(home, "produce", "heart-rate-data", "--key-field", "patient_id", stdin=bad).returncode == 0
        assert vs(home, "up", "--until-idle", "--quiet", env=setting).returncode == 0
        r = vs(home, "query", "SELECT reason, field, source_topic, source_offset, key, value FROM dead_letters",
               "--format", "json")
        (row,) = [json.loads(x) for x in r.stdout.splitlines()]
        assert row["field"] == "heart_rate" and row["source_topic"] == "heart-rate-data"
        assert row["source_offset"] == 0 and row["reason"]
        if kept:
            assert row["key"] == "p-perm" and json.loads(row["value"])["heart_rate"] == -1
        else:
            assert row["key"] is None and row["value"] is None
