"""kill -9 the sink processes at random points while events flow; restart; exactly once.

Scale: ``VITALSTREAM_FAULT_EVENTS`` raw + processed events (default 200,000 of each).
"""

from __future__ import annotations

import os
import random
import threading
import time

import pytest

from contract.sink_contract import check_exactly_once, produce_events, sink_env, start_sink
from vitalstream import topics as T
from vitalstream.log import open_log

EVENTS = int(os.environ.get("VITALSTREAM_FAULT_EVENTS", "200000"))


def kill_nine_while_flowing(tmp_path, warehouse_url: str, n: int, seed: int = 7) -> int:
    """Returns how many sink processes were killed with SIGKILL."""
    home = tmp_path / "home"
    lake_url = f"file://{tmp_path}/lake?rotate_records=20000"
    env = sink_env(home, warehouse_url, lake_url)
    log = open_log(f"sqlite:///{home}/log.db")
    T.ensure_all(log)
    producer = threading.Thread(target=produce_events, args=(log, n), kwargs={"chunk": 10_000, "pause": 0.2})
    producer.start()
    rng = random.Random(seed)
    kills = 0
    try:
        while producer.is_alive() or kills < 4:
            procs = [start_sink("lake", env), start_sink("warehouse", env)]
            time.sleep(rng.uniform(1.5, 3.5))  # imports take ~1 s: some kills land mid-batch
            for p in procs:
                p.kill()
                p.wait()
                kills += 1
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
    assert kills >= 8
