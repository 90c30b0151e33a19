"""DuckDB's columnar loads: the windowed anti-join (no key index), migration 5 on a version-4
warehouse, and how long the sink keeps the file (readers get in, a trickle does not reopen it)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest

from contract.sink_contract import T0, Offsets, eid, vital
from vitalstream import topics as T
from vitalstream.log.base import Record
from vitalstream.sinks.warehouse import WarehouseSink, open_warehouse
from vitalstream.sinks.warehouse import duckdb as duck
from vitalstream.sinks.warehouse import schema as S


def _hr(o: Offsets, n: int, at, hr: int = 70, pid: str = "p1"):  # type: ignore[no-untyped-def]
    return o.record(T.PROCESSED_HEART_RATE, vital(n, pid, "heart_rate", at, heart_rate=hr), pid)


def _ids(wh, table: str = "processed_heart_rate_data") -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    return [tuple(r) for r in wh.query(f"SELECT event_id, heart_rate FROM {table} ORDER BY event_id, heart_rate")[1]]


def test_a_replay_older_than_the_window_adds_nothing(tmp_path) -> None:
    """The window is anchored at the batch's own earliest event time, and a replayed record has
    the event time of its stored copy: a replay is recognised however old it is."""
    url = f"duckdb:///{tmp_path}/w.duckdb?dedup_window_s=60"
    sink = WarehouseSink(open_warehouse(url))
    o = Offsets()
    old = [_hr(o, i, T0 + timedelta(seconds=i)) for i in range(20)]
    sink.process(old)
    for hour in range(1, 4):  # hours of newer data since (the window is one minute)
        sink.process([_hr(o, 1000 * hour + i, T0 + timedelta(hours=hour, seconds=i)) for i in range(50)])
    sink.process(old)  # the old batch again (e.g. a group reset to an old offset)
    sink.process([*old[5:10], _hr(o, 9999, T0 + timedelta(hours=5))])  # mixed with new data
    wh = sink.warehouse
    assert wh.count("processed_heart_rate_data") == 20 + 150 + 1
    assert len({i for i, _ in _ids(wh)}) == 171
    sink.close()


def test_conflicting_duplicates_within_and_beyond_the_window(tmp_path) -> None:
    """A different reading under a stored id: the first stands when the second's batch starts no
    more than ``dedup_window_s`` after the first's event time (or before it); beyond that the
    warehouse no longer looks (the processor dead-letters such repeats while it remembers the
    id) and keeps both rows — the documented limit of the window."""
    url = f"duckdb:///{tmp_path}/w.duckdb?dedup_window_s=60"
    sink = WarehouseSink(open_warehouse(url))
    o = Offsets()
    sink.process([_hr(o, 1, T0, hr=61), _hr(o, 2, T0, hr=62)])
    sink.process([_hr(o, 1, T0 + timedelta(seconds=59), hr=190)])  # within the window: ignored
    sink.process([_hr(o, 1, T0 - timedelta(hours=2), hr=191)])  # earlier than stored: ignored
    assert _ids(sink.warehouse) == [(eid(1), 61), (eid(2), 62)]
    sink.process([_hr(o, 2, T0 + timedelta(minutes=5), hr=192)])  # beyond it: a second row
    assert _ids(sink.warehouse) == [(eid(1), 61), (eid(2), 62), (eid(2), 192)]
    sink.close()


def test_scores_and_alerts_take_the_newest_version_of_their_key(tmp_path) -> None:
    o = Offsets()

    def score(total: int, minute: int):  # type: ignore[no-untyped-def]
        t = T0 + timedelta(minutes=minute)
        return o.record(T.NEWS2, {"patient_id": "p1", "total": total, "band": "low", "subscores": {"spo2": total},
                                  "missing": [], "partial": False, "scale": 1, "event_time": t.isoformat(),
                                  "computed_time": t.isoformat(), "score_id": f"s{minute}"}, "p1")

    sink = WarehouseSink(open_warehouse(f"duckdb:///{tmp_path}/w.duckdb"))
    sink.process([score(1, 0), score(2, 1), score(3, 0)])  # minute 0 re-scored in the batch
    sink.process([score(5, 1)])  # and minute 1 in a later one
    sink.process([score(5, 1)])  # a replay
    rows = sink.warehouse.rows("SELECT score_id, total, subscores FROM news2_scores ORDER BY score_id")
    assert [(r["score_id"], r["total"]) for r in rows] == [("s0", 3), ("s1", 5)]
    assert '"spo2":5' in rows[1]["subscores"].replace(" ", "")
    sink.close()


def _version_4(url: str) -> None:
    """A warehouse as the release before migration 5 left it (vital tables keyed)."""
    with open_warehouse(url) as wh:
        def apply(db) -> None:  # type: ignore[no-untyped-def]
            db.execute(S.migrations_table_sql(wh.dialect))
            for m in S.MIGRATIONS[:4]:
                for stmt in m.statements(wh.dialect):
                    db.execute(stmt)
                db.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [m.version, m.description])

        wh._transaction(apply)
        assert wh.version() == 4


def test_migration_5_drops_the_key_index_and_keeps_every_row(tmp_path) -> None:
    url = f"duckdb:///{tmp_path}/w.duckdb"
    _version_4(url)
    with open_warehouse(url) as wh:
        insert = ("INSERT INTO processed_heart_rate_data (event_id, patient_id, source, data_type, event_time, "
                  "heart_rate) VALUES (?, 'p1', 'vitals', 'heart_rate', ?, ?)")
        for i in (3, 1, 2):
            wh.query(insert, [eid(i), T0 + timedelta(seconds=i), 60 + i])
        with pytest.raises(Exception, match=r"(?i)constraint|duplicate"):
            wh.query(insert, [eid(1), T0, 99])  # keyed before migration 5
        keyed = ("SELECT count(*) FROM information_schema.table_constraints WHERE table_name = ? "
                 "AND constraint_type = 'PRIMARY KEY'")
        assert wh.query(keyed, ["processed_heart_rate_data"])[1][0][0] == 1
        assert wh.migrate() == [5]
        assert wh.query(keyed, ["processed_heart_rate_data"])[1][0][0] == 0
        assert wh.query(keyed, ["patient_metadata"])[1][0][0] == 1  # small tables keep theirs
        # rows kept, now in event-time order; the views work on the rebuilt tables
        assert [r["event_id"] for r in wh.rows("SELECT event_id FROM processed_heart_rate_data")] == \
            [eid(1), eid(2), eid(3)]
        assert wh.count("v_heart_rate") == 3
    sink = WarehouseSink(open_warehouse(url))
    o = Offsets()
    sink.process([_hr(o, 1, T0 + timedelta(seconds=1), hr=150), _hr(o, 4, T0, hr=64)])
    assert _ids(sink.warehouse) == [(eid(1), 61), (eid(2), 62), (eid(3), 63), (eid(4), 64)]
    sink.close()


def _locked_for_others(path: str) -> bool:
    """Can another process open the file right now?"""
    code = f"import duckdb; duckdb.connect({path!r}, read_only=True).close()"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60).returncode != 0


def test_a_trickle_keeps_the_file_and_idle_lets_it_go(tmp_path) -> None:
    path = f"{tmp_path}/w.duckdb"
    sink = WarehouseSink(open_warehouse(f"duckdb://{path}"))
    wh = sink.warehouse
    assert isinstance(wh, duck.DuckDbWarehouse)
    o = Offsets()
    sink.process([_hr(o, 0, T0)])
    conn = wh._conn
    for i in range(1, 6):  # small batches in quick succession: one open file
        sink.process([_hr(o, i, T0 + timedelta(seconds=i))])
        assert wh._conn is conn
    deadline = time.monotonic() + duck.RELEASE_AFTER_S + 5
    while wh._conn is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert wh._conn is None  # let go about RELEASE_AFTER_S after it was opened
    assert not _locked_for_others(path)
    assert wh.count("processed_heart_rate_data") == 6
    sink.close()


def test_readers_get_in_while_the_sink_writes_continuously(tmp_path) -> None:
    path = f"{tmp_path}/w.duckdb"
    sink = WarehouseSink(open_warehouse(f"duckdb://{path}"))
    o = Offsets()
    stop = threading.Event()
    written = []

    def write() -> None:
        i = 0
        while not stop.is_set():
            sink.process([_hr(o, i + k, T0 + timedelta(seconds=i + k)) for k in range(50)])
            i += 50
            written.append(i)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while not written:
            time.sleep(0.01)
        code = ("import sys; from vitalstream.sinks.warehouse import open_warehouse\n"
                "with open_warehouse(sys.argv[1], read_only=True) as wh:\n"
                "    print(wh.count('processed_heart_rate_data'))")
        counts = []
        for _ in range(3):  # the sink never stops writing meanwhile
            out = subprocess.run([sys.executable, "-c", code, f"duckdb://{path}"], capture_output=True,
                                 text=True, timeout=120)
            assert out.returncode == 0, out.stderr[-1000:]
            counts.append(int(out.stdout))
        assert 0 < counts[0] <= counts[-1]
    finally:
        stop.set()
        writer.join(60)
        sink.close()
    assert len(written) > 3


def test_interleaved_topics_keep_log_order_and_a_tombstone_is_counted(tmp_path) -> None:
    """A batch mixing topics in runs (as a poll of several partitions returns them): each table
    gets its rows, the first of a repeated id within the batch stands, and a record without a
    value (a tombstone) is left out and counted, never a crash."""
    sink = WarehouseSink(open_warehouse(f"duckdb:///{tmp_path}/w.duckdb"))
    o = Offsets()
    bp = o.record(T.BP_DEVICE, vital(50, "p2", "blood_pressure", T0, systolic=120, diastolic=80), "p2")
    tombstone = Record(T.PROCESSED_HEART_RATE, 0, 99, b"p1", None, 0, ())  # type: ignore[arg-type]
    sink.process([_hr(o, 1, T0, hr=61), bp, _hr(o, 2, T0, hr=62), tombstone, _hr(o, 1, T0, hr=63)])
    assert _ids(sink.warehouse) == [(eid(1), 61), (eid(2), 62)]
    assert sink.warehouse.count("blood_pressure_device") == 1
    assert sink.skipped == 1
    sink.close()
