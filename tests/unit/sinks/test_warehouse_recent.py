"""The ids of recent vital rows the DuckDB warehouse knows in its process (sinks/warehouse/recent.py):
new batches append without the anti-join, and nothing it does not know can slip in twice — after a
restart, while another writer takes turns on the file, after a failed load, beyond its bounds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contract.sink_contract import T0, Offsets, eid, vital
from vitalstream import topics as T
from vitalstream.errors import ConfigError
from vitalstream.sinks.warehouse import WarehouseSink, open_warehouse
from vitalstream.sinks.warehouse import schema as S
from vitalstream.sinks.warehouse.columns import to_arrow
from vitalstream.sinks.warehouse.duckdb import DuckDbWarehouse

HR = "processed_heart_rate_data"


def _hr(o: Offsets, n: int, seconds: float, hr: int = 70):  # type: ignore[no-untyped-def]
    return o.record(T.PROCESSED_HEART_RATE, vital(n, "p1", "heart_rate", T0 + timedelta(seconds=seconds),
                                                  heart_rate=hr), "p1")


def _rows(wh) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    return [tuple(r) for r in wh.query(f"SELECT event_id, heart_rate FROM {HR} ORDER BY event_id, heart_rate")[1]]


def _counts(wh: DuckDbWarehouse) -> tuple[int, int]:
    assert wh.recent is not None
    return wh.recent.appended, wh.recent.checked


def test_new_batches_append_and_a_replay_is_checked_against_the_table(tmp_path) -> None:
    sink = WarehouseSink(open_warehouse(f"duckdb:///{tmp_path}/w.duckdb"))
    wh = sink.warehouse
    assert isinstance(wh, DuckDbWarehouse)
    o = Offsets()
    first = [_hr(o, i, i) for i in range(20)]
    sink.process(first)
    sink.process([_hr(o, 100 + i, 20 + i) for i in range(20)])
    assert _counts(wh) == (2, 0)
    sink.process(first)  # replayed (a commit lost to a crash): its ids are known
    assert _counts(wh) == (2, 1)
    sink.process([_hr(o, 5, 30, hr=99), _hr(o, 200, 31)])  # one id reused within the window
    assert len(_rows(wh)) == 41 and (eid(5), 99) not in _rows(wh)
    sink.close()


def test_a_restarted_sink_reads_the_recent_ids_from_the_table(tmp_path) -> None:
    url = f"duckdb:///{tmp_path}/w.duckdb"
    o = Offsets()
    batch = [_hr(o, i, i) for i in range(30)]
    sink = WarehouseSink(open_warehouse(url))
    sink.process(batch)
    sink.close()  # or killed: nothing of the index survives the process
    again = WarehouseSink(open_warehouse(url))
    again.process(batch[10:])  # the uncommitted tail, read again
    assert _counts(again.warehouse) == (0, 1)  # type: ignore[arg-type]
    again.process([_hr(o, 500, 40)])
    assert _counts(again.warehouse) == (1, 1)  # type: ignore[arg-type]
    assert _rows(again.warehouse) == sorted([(eid(i), 70) for i in range(30)] + [(eid(500), 70)])
    again.close()


def test_writers_taking_turns_on_the_file_never_duplicate(tmp_path) -> None:
    """Two sink processes on one file (each lets it go after every batch): what one loaded, the
    other does not know; warehouse_loads tells it, and it reads the table again."""
    url = f"duckdb:///{tmp_path}/w.duckdb?hold=false"
    a, b = WarehouseSink(open_warehouse(url)), WarehouseSink(open_warehouse(url))
    o = Offsets()
    a.process([_hr(o, i, i) for i in range(10)])
    handed_over = [_hr(o, 100 + i, 10 + i) for i in range(10)]
    b.process(handed_over)  # a partition moved to b, which loaded it...
    a.process([_hr(o, 200, 25), *handed_over])  # ...and a re-reads it (its commit was lost)
    assert _counts(a.warehouse) == (1, 1)  # type: ignore[arg-type]
    assert len(_rows(a.warehouse)) == 21
    a.close()
    b.close()


def test_a_failed_load_is_not_remembered(tmp_path) -> None:
    wh = open_warehouse(f"duckdb:///{tmp_path}/w.duckdb")
    assert isinstance(wh, DuckDbWarehouse)
    wh.migrate()
    o = Offsets()
    vitals = to_arrow(S.BY_TABLE[HR], [r.value for r in (_hr(o, i, i) for i in range(10)) if r.value])[0]
    with pytest.raises(KeyError):  # the transaction fails after the vitals were appended in it
        wh.load({HR: vitals, "no_such_table": vitals})
    assert wh.count(HR) == 0  # rolled back
    wh.load({HR: vitals})
    wh.load({HR: vitals})
    assert wh.count(HR) == 10 and _counts(wh) == (2, 1)  # the failed one was appended, then rolled back
    wh.close()


def test_the_index_stays_within_its_bounds_and_exact_beyond_them(tmp_path) -> None:
    url = f"duckdb:///{tmp_path}/w.duckdb?dedup_cache_rows=25&dedup_window_s=60"
    sink = WarehouseSink(open_warehouse(url))
    wh = sink.warehouse
    assert isinstance(wh, DuckDbWarehouse) and wh.recent is not None
    o = Offsets()
    batches = [[_hr(o, 100 * m + i, 60 * m + i) for i in range(10)] for m in range(8)]  # a minute apart
    for batch in batches:
        sink.process(batch)
        assert wh.recent.size() <= 25
    for batch in batches:  # all of it again, the oldest long gone from the index
        sink.process(batch)
    assert len(_rows(wh)) == 80
    late = [_hr(o, 9000, 5)]  # new, but older than what the index covers: the table decides
    sink.process(late)
    assert len(_rows(wh)) == 81
    sink.close()


def test_the_setting() -> None:
    assert DuckDbWarehouse("duckdb:///:memory:?dedup_cache_rows=0").recent is None
    assert DuckDbWarehouse("duckdb:///:memory:").recent is not None
    with pytest.raises(ConfigError, match="dedup_cache_rows"):
        DuckDbWarehouse("duckdb:///:memory:?dedup_cache_rows=many")
