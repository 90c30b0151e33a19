"""kill -9 the sink processes mid-batch while events flow; restart; exactly once.

Scale: ``VITALSTREAM_FAULT_EVENTS`` raw + processed events (default 200,000 of each).
"""

from __future__ import annotations

import json
import os
import threading

import pytest

from contract.sink_contract import check_exactly_once, produce_events, sink_env, start_sink
from vitalstream import topics as T
from vitalstream.log import open_log, read_all
from vitalstream.sinks.lake import LAKE_GROUP, read_lake
from vitalstream.sinks.warehouse import open_warehouse
from vitalstream.testing import faultpoint

EVENTS = int(os.environ.get("VITALSTREAM_FAULT_EVENTS", "200000"))


def _assert_killed_mid_batch(log, mark: dict, warehouse_url: str, lake_url: str) -> None:  # type: ignore[no-untyped-def]
    """The batch the sink stopped in is durable where it lands, and its offsets uncommitted."""
    group = mark["group"]
    position = {f"{g.topic}:{g.partition}": g.committed or 0 for g in log.group_lag(group, [
        tp.rsplit(":", 1)[0] for tp in mark["first"]])}
    assert {tp: position[tp] for tp in mark["first"]} == mark["first"], group  # not committed
    wanted = {(tp.rsplit(":", 1)[0], int(tp.rsplit(":", 1)[1]), o)
              for tp, first in mark["first"].items() for o in range(first, mark["next"][tp])}
    assert len(wanted) == mark["records"]
    if group == LAKE_GROUP:
        topics = {t for t, _, _ in wanted}
        stored = {(r.topic, r.partition, r.offset) for t in topics for r in read_lake(lake_url, t)}
        assert wanted <= stored, f"{len(wanted - stored)} records of the batch not in the lake"
    else:
        ids = {json.loads(r.value)["event_id"] for r in read_all(log, [T.PROCESSED_HEART_RATE])
               if (r.topic, r.partition, r.offset) in wanted}
        with open_warehouse(warehouse_url) as wh:
            _, rows = wh.query("SELECT event_id FROM processed_heart_rate_data")
        assert ids and ids <= {str(r[0]) for r in rows}, "the batch is not in the warehouse"


def kill_nine_while_flowing(tmp_path, warehouse_url: str, n: int, rounds: int = 4) -> int:
    """Kill -9 both sinks ``rounds`` times, each time exactly between a durable write and its
    commit, while events flow; then run them to the end and check exactly once.
    Returns how many sink processes were killed mid-batch (needs ``n`` >= ~50,000)."""
    home = tmp_path / "home"
    lake_url = f"file://{tmp_path}/lake?rotate_records=20000"
    env = sink_env(home, warehouse_url, lake_url)
    log = open_log(f"sqlite:///{home}/log.db")
    T.ensure_all(log)
    producer = threading.Thread(target=produce_events, args=(log, n), kwargs={"chunk": 10_000, "pause": 0.2})
    producer.start()
    kills = 0
    try:
        for round_ in range(rounds):
            # batch 1 is the one the last kill left uncommitted; batch 2 is a fresh one
            paused = tmp_path / f"paused-{round_}"
            round_env = {**env, faultpoint.ENV: f"{1 + round_ % 2}:{paused}"}
            procs = [start_sink("lake", round_env), start_sink("warehouse", round_env)]
            try:
                marks = faultpoint.wait_paused(paused, len(procs),
                                               alive=lambda procs=procs: all(p.poll() is None for p in procs))
            finally:
                for p in procs:
                    p.kill()
                    p.wait()
            for mark in marks:
                _assert_killed_mid_batch(log, mark, warehouse_url, lake_url)
                kills += 1
        producer.join()
        for name in ("lake", "warehouse"):
            p = start_sink(name, env, "--until-idle")
            _, err = p.communicate(timeout=240)
            assert p.returncode == 0, err.decode()[-2000:]
    finally:
        producer.join()
        log.close()
    check_exactly_once(warehouse_url, lake_url, n)
    return kills


@pytest.mark.slow
def test_kill_nine_duckdb_and_file_lake(tmp_path) -> None:
    kills = kill_nine_while_flowing(tmp_path, f"duckdb:///{tmp_path}/warehouse.duckdb", EVENTS)
    assert kills == 8  # every one of them landed mid-batch (checked in the helper)
