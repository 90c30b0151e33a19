"""Issue 11, archive safety: a topic reset or a lost log must never overwrite the lake.

The attack as reported: archive records, `vitalstream topics reset --yes` (or lose `log.db`),
produce again — offsets restart at 0 — and run the lake sink: it used to overwrite the
archived files (55,000 records became 14,025, exit 0). Now it refuses in one line with exit
code 2, and with `--new-incarnation` archives the new records beside the old ones.
"""

from __future__ import annotations

import collections
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner, Result

from vitalstream import topics as T
from vitalstream.cli import app
from vitalstream.log import open_log
from vitalstream.sinks.lake import list_files, open_lake, read_lake

T0 = 1_711_958_400_000  # 2024-04-01T08:00Z


def cli(home: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["--home", str(home), *args])


def produce(home: Path, phase: str, n: int) -> str:
    """``n`` heart-rate records a minute apart from T0 (the same event hours every phase, so
    the same file names as before if names did not carry the incarnation); returns the topic id."""
    with open_log(f"sqlite:///{home}/log.db") as log:
        T.ensure_all(log)
        with log.producer() as p:
            for i in range(n):
                p.send(T.HEART_RATE, json.dumps({"phase": phase, "i": i}).encode(), key=f"p{i % 7}".encode(),
                       timestamp_ms=T0 + i * 60_000)
            p.flush()
        return log.describe_topic(T.HEART_RATE).topic_id


def lake_url(home: Path) -> str:
    return f"file://{home}/lake"


def archived(home: Path) -> collections.Counter[str]:
    return collections.Counter(json.loads(r.value)["phase"] for r in read_lake(lake_url(home), T.HEART_RATE))


def lake_files(home: Path) -> dict[str, bytes]:
    loc = open_lake(lake_url(home))
    return {f.path: loc.fs.cat_file(f.path) for f in list_files(loc, T.HEART_RATE)}


def refused(result: Result, *names: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for name in (T.HEART_RATE, "--new-incarnation", *names):
        assert name in lines[0], (name, lines[0])
    assert "Traceback" not in result.output


def archive_then_replace_the_log(home: Path, replace: Callable[[], object]) -> tuple[str, str, dict[str, bytes]]:
    first_id = produce(home, "first", 300)  # five event hours: final files and staged parts
    assert cli(home, "sink", "lake", "--until-idle").exit_code == 0
    assert archived(home) == {"first": 300}
    before = lake_files(home)
    replace()
    second_id = produce(home, "second", 200)
    assert second_id != first_id
    return first_id, second_id, before


def check_refused_then_both_kept(home: Path, first_id: str, second_id: str, before: dict[str, bytes]) -> None:
    refused(cli(home, "sink", "lake", "--until-idle"), first_id, second_id)
    refused(cli(home, "sink", "lake", "--until-idle"), first_id)  # and again: nothing changed
    assert lake_files(home) == before
    assert archived(home) == {"first": 300}

    r = cli(home, "sink", "lake", "--until-idle", "--new-incarnation")
    assert r.exit_code == 0, r.output
    after = lake_files(home)
    assert {p: after[p] for p in before} == before  # every archived file byte-identical
    assert archived(home) == {"first": 300, "second": 200}  # nothing lost, nothing doubled
    phases = [json.loads(r.value)["phase"] for r in read_lake(lake_url(home), T.HEART_RATE)]
    assert phases == ["first"] * 300 + ["second"] * 200  # oldest incarnation first
    # the new incarnation is known now: the sink runs without the option
    r = cli(home, "sink", "lake", "--until-idle")
    assert r.exit_code == 0, r.output
    assert lake_files(home) == after


def test_topics_reset_cannot_overwrite_the_archive(tmp_path) -> None:
    home = tmp_path / "home"

    def reset() -> None:
        r = cli(home, "topics", "reset", "--yes")
        assert r.exit_code == 0, r.output

    check_refused_then_both_kept(home, *archive_then_replace_the_log(home, reset))


def test_a_lost_log_cannot_overwrite_the_archive(tmp_path) -> None:
    home = tmp_path / "home"

    def lose_log() -> None:
        for p in home.glob("log.db*"):
            p.unlink()

    check_refused_then_both_kept(home, *archive_then_replace_the_log(home, lose_log))


def test_up_refuses_before_starting_anything(tmp_path) -> None:
    home = tmp_path / "home"
    first_id, _second_id, before = archive_then_replace_the_log(
        home, lambda: cli(home, "topics", "reset", "--yes"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VITALSTREAM_")}
    env.update({"VITALSTREAM_HOME": str(home), "VITALSTREAM_LOG_LEVEL": "WARNING"})
    cmd = [sys.executable, "-c", "from vitalstream.cli import main; main()", "up", "--until-idle", "--quiet"]
    p = subprocess.run(cmd, env=env, capture_output=True, timeout=120)
    assert p.returncode == 2, p.stderr.decode()[-2000:]
    err = p.stderr.decode()
    assert first_id in err and "--new-incarnation" in err and "Traceback" not in err
    assert lake_files(home) == before
    p = subprocess.run([*cmd, "--new-incarnation"], env=env, capture_output=True, timeout=240)
    assert p.returncode == 0, p.stderr.decode()[-2000:]
    assert archived(home) == {"first": 300, "second": 200}


def test_the_lake_on_disk_is_owner_only(tmp_path) -> None:
    home = tmp_path / "home"
    produce(home, "first", 300)
    assert cli(home, "sink", "lake", "--until-idle").exit_code == 0
    entries = 0
    for d, _, names in os.walk(home / "lake"):
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700, d
        for n in names:
            assert stat.S_IMODE(os.stat(os.path.join(d, n)).st_mode) == 0o600, n
            entries += 1
    assert entries >= 5
