"""The sink's release checkpoints merge row groups only on every ``VACUUM_EVERY``-th connection
(duckdb.py, ``load``): the rows are all there, and the small row groups the other
checkpoints leave are merged again."""

from __future__ import annotations

from datetime import timedelta

from contract.sink_contract import T0, Offsets, vital
from vitalstream import topics as T
from vitalstream.sinks.warehouse import WarehouseSink, open_warehouse
from vitalstream.sinks.warehouse import duckdb as duck

_TABLE = "processed_heart_rate_data"


def _vacuum_tasks(wh: duck.DuckDbWarehouse) -> int:
    return int(wh._connect().execute("SELECT current_setting('max_vacuum_tasks')").fetchone()[0])


def _row_groups(wh: duck.DuckDbWarehouse) -> int:
    sql = f"SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('{_TABLE}')"
    return int(wh.query(sql)[1][0][0])


def test_every_nth_connection_merges_row_groups_and_no_row_is_lost(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(duck, "VACUUM_EVERY", 4)
    sink = WarehouseSink(open_warehouse(f"duckdb:///{tmp_path}/w.duckdb"))
    wh = sink.warehouse
    assert isinstance(wh, duck.DuckDbWarehouse)
    o = Offsets()
    seen, groups = [], []
    for i in range(8):  # one batch per connection: each release checkpoints it
        sink.process([o.record(T.PROCESSED_HEART_RATE, vital(100 * i + k, "p1", "heart_rate",
                                                             T0 + timedelta(seconds=100 * i + k)), "p1")
                      for k in range(50)])
        seen.append(_vacuum_tasks(wh))
        with duck.PROCESS_LOCK:
            wh._drop()  # as the release timer does
        groups.append(_row_groups(wh))  # a read-only turn: no vacuum setting of its own
    # the first loading connection merges (what an earlier run left), then every 4th
    assert [t > 0 for t in seen] == [i % 4 == 0 for i in range(len(seen))], seen
    assert wh.count(_TABLE) == 400
    assert groups[3] > groups[1] > 1  # checkpoints without a merge left a row group each
    assert groups[4] < groups[3]  # the 5th connection (a merging one) merged them again
    sink.close()
