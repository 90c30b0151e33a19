"""Odd state (issue 11.9): every CLI error is one line and exit code 2, no traceback unless
--debug; a log that lost its data beside a lake/warehouse that kept theirs is a warning.

An unwritable home is made two ways. (1) A home path under a regular file: the OS refuses
every create (ENOTDIR) for any user, root included, on any filesystem. (2) An existing home
with data made read-only: chmod 0555 for an ordinary user; as root, permission bits do not stop
writes, so the directory is made immutable with ``chattr +i`` (ext4/xfs/btrfs; root has
CAP_LINUX_IMMUTABLE) — the test skips, saying why, where the filesystem cannot do that.
A full disk is /dev/full, which fails every write with ENOSPC.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from ops_cli import assert_one_line_error, vs

LINE = {"event_id": "00000000-0000-4000-8000-0000000000c1", "patient_id": "p-odd",
        "timestamp": "2024-04-01T08:00:00Z", "data_type": "heart_rate", "heart_rate": 72}
COMMANDS = [("status",), ("consume", "heart-rate-data", "--timeout", "1"), ("dlq", "list"),
            ("up", "--for", "2s", "--quiet"), ("produce", "heart-rate-data")]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_home_that_cannot_be_created(tmp_path, args) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    r = vs(blocker / "home", *args, stdin=b"{}\n")
    line = assert_one_line_error(r)
    assert "Not a directory" in line


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[None]:
    if os.geteuid() != 0:
        path.chmod(0o555)
        try:
            yield
        finally:
            path.chmod(0o700)
        return
    try:
        r = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
    except FileNotFoundError:
        pytest.skip("running as root without chattr: cannot make a directory read-only here")
    if r.returncode != 0:
        pytest.skip(f"chattr +i not supported on this filesystem: {r.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_read_only_home_with_data(tmp_path, args) -> None:
    home = tmp_path / "h"
    assert vs(home, "produce", "heart-rate-data", stdin=(json.dumps(LINE) + "\n").encode()).returncode == 0
    with _read_only(home):
        r = vs(home, *args, stdin=b"{}\n")
    assert_one_line_error(r)


def test_full_disk() -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    r = vs(Path("/tmp/unused-home"), "--log-url", "sqlite:////dev/full", "status")
    assert "full" in assert_one_line_error(r)


def test_bad_sql_is_one_line_and_debug_shows_the_traceback(tmp_path) -> None:
    line = assert_one_line_error(vs(tmp_path, "query", "SELEC 1"))
    assert "syntax error" in line
    r = vs(tmp_path, "--debug", "query", "SELEC 1")
    assert r.returncode == 2 and b"Traceback" in r.stderr and b"error: " in r.stderr
    assert_one_line_error(vs(tmp_path, "query", "SELECT * FROM no_such_table"))


def test_missing_log_beside_a_lake_and_warehouse_with_data(tmp_path) -> None:
    home = tmp_path / "h"
    assert vs(home, "produce", "heart-rate-data", "--key-field", "patient_id",
              stdin=(json.dumps(LINE) + "\n").encode()).returncode == 0
    assert vs(home, "up", "--until-idle", "--quiet").returncode == 0
    for f in home.glob("log.db*"):
        f.unlink()
    r = vs(home, "status")
    assert r.returncode == 0
    assert b"warning: the log has no records but the lake and the warehouse hold data" in r.stderr
    doc = json.loads(vs(home, "status", "--json").stdout)
    assert (doc["warnings"] and doc["topics"] == []) or all(t["records"] == 0 for t in doc["topics"])
    fresh = tmp_path / "fresh"
    assert b"warning" not in vs(fresh, "status").stderr  # an empty log alone is normal
