"""The binary COPY path: exact times (before and after 2000), JSON columns, and a value the
server refuses (a NUL in a text), which is left out while the rest of the batch loads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contract.sink_contract import T0, Offsets, eid, vital
from vitalstream import topics as T
from vitalstream.sinks.warehouse import WarehouseSink, open_warehouse


def test_times_json_and_a_refused_value(pg_schema_url) -> None:
    o = Offsets()
    old = datetime(1969, 7, 20, 20, 17, 40, 123456, tzinfo=UTC)  # before both epochs
    docs = [vital(1, "p1", "heart_rate", old, heart_rate=61),
            vital(2, "p1", "heart_rate", T0 + timedelta(microseconds=7), heart_rate=62),
            vital(3, "p1", "heart_rate", T0, heart_rate=63, meta={"medical_history": "a\u0000b"}),
            vital(4, "p1", "heart_rate", T0, heart_rate=64)]
    sink = WarehouseSink(open_warehouse(pg_schema_url))
    sink.process([o.record(T.PROCESSED_HEART_RATE, d, "p1") for d in docs])
    alert = {"alert_id": "a1", "patient_id": "p1", "rule": "fever", "severity": "low", "state": "raised",
             "values": {"temperature_c": 38.5}, "event_time": T0.isoformat(), "raise_time": T0.isoformat(),
             "event_id": eid(2)}
    sink.process([o.record(T.ALERTS, alert, "p1")])
    wh = sink.warehouse
    rows = wh.rows("SELECT event_id, event_time FROM processed_heart_rate_data ORDER BY event_id")
    assert [(r["event_id"], r["event_time"]) for r in rows] == [
        (eid(1), old), (eid(2), T0 + timedelta(microseconds=7)), (eid(4), T0)]
    assert sink.skipped == 1
    assert wh.rows("SELECT \"values\" ->> 'temperature_c' AS t FROM alerts") == [{"t": "38.5"}]
    sink.close()
