"""build_sinks on the embedded pipeline, replay from the lake, and the CLI commands."""

from __future__ import annotations

import itertools
import json
import threading

from typer.testing import CliRunner

from vitalstream import topics as T
from vitalstream.config import load
from vitalstream.log import open_log
from vitalstream.processing import VitalsProcessor
from vitalstream.replay import replay_from_lake
from vitalstream.runtime import run_worker
from vitalstream.simulate import make
from vitalstream.sinks import build_sinks
from vitalstream.sinks.lake import read_lake
from vitalstream.sinks.warehouse import open_warehouse


def _pipeline(home):
    settings = load(environ={}, overrides={"home": str(home)})
    log = open_log(settings.log_url)
    T.ensure_all(log)
    with log.producer() as p:
        for profile in ("vitals", "smartwatch"):
            sim = make(profile, patients=5, seed=3)
            for o in [*sim.reference(), *itertools.islice(sim.events(), 400)]:
                p.send(o.topic, o.value, key=o.key, timestamp_ms=o.timestamp_ms)
        p.flush()
    stop = threading.Event()
    run_worker(log, VitalsProcessor(log, stop=stop), stop, until_idle=True, max_wait_s=0.05)
    for w in build_sinks(log, settings):
        run_worker(log, w, threading.Event(), until_idle=True, max_wait_s=0.05)
    return settings, log


def test_build_sinks_lands_everything_and_replay_rebuilds(tmp_path) -> None:
    settings, log = _pipeline(tmp_path / "home")
    archived = list(read_lake(settings.lake_url, T.HEART_RATE))
    assert len(archived) == 100  # the vitals profile spreads 400 events over four topics
    landing = list(read_lake(settings.lake_url, T.PROCESSED_SMARTWATCH))
    assert len(landing) == 400
    with open_warehouse(settings.warehouse_url) as wh:
        assert wh.count("processed_heart_rate_data") == 100
        assert wh.count("smartwatch_events") == 400
        assert wh.count("patient_metadata") == 5
    # replay the archive into a fresh topic: same keys, values, timestamps
    log.create_topic(T.TopicSpec("replayed", 6))
    assert replay_from_lake(log, settings.lake_url, T.HEART_RATE, to_topic="replayed") == 100
    with log.consumer("check", ["replayed"]) as c:
        got = []
        while batch := c.poll(timeout=0.3):
            got += batch
    assert sorted((r.key, r.value, r.timestamp_ms) for r in got) == \
        sorted((r.key, r.value, r.timestamp_ms) for r in archived)
    log.close()


def test_cli_report_query_and_migrate(tmp_path) -> None:
    from vitalstream.cli import app

    home = tmp_path / "home"
    _pipeline(home)[1].close()
    runner = CliRunner()
    base = ["--home", str(home)]
    r = runner.invoke(app, [*base, "report", "irregular-heart-rate", "--format", "json", "--limit", "5"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.output.splitlines() if line.startswith("{")]
    assert rows and all(x["heart_rate"] > 100 or x["heart_rate"] < 60 for x in rows)
    r = runner.invoke(app, [*base, "query", "SELECT count(*) AS n FROM smartwatch_events", "--format", "csv"])
    assert r.exit_code == 0 and r.stdout.split() == ["n", "400"], r.output
    r = runner.invoke(app, [*base, "warehouse", "migrate"])
    assert r.exit_code == 0 and "already at version" in r.output
    r = runner.invoke(app, [*base, "report", "news2", "--since", "not-a-time"])
    assert r.exit_code != 0
