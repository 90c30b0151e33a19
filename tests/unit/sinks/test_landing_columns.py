"""The smartwatch landing's typed columns: a typed decoder per value in one pass, the same columns
as decoding one value at a time, and a bad value never costs the others their columns."""

import pyarrow as pa

from vitalstream.sinks.lake import smartwatch_columns
from vitalstream.sinks.lake.landing import _one_by_one, _parsed

GOOD = [
    b'{"event_id":"e1","patient_id":"sw-1","source":"smartwatch","event_time":"2026-11-30T06:29:48Z",'
    b'"heart_rate":70,"steps":12,"sleeping":false,"device_id":"sw-1","user_id":"user-1","age":36,"gender":"female"}',
    b'{"event_id":"e2","patient_id":"sw-2","event_time":"2026-11-30T06:29:49.250Z","heart_rate":null,'
    b'"steps":3000000000,"sleeping":true,"extra":{"nested":[1,2]}}',
]


def _table(values: list[bytes]) -> pa.Table:
    return pa.table({"value": pa.array(values, pa.binary())})


def test_one_pass_gives_the_columns_of_one_by_one() -> None:
    fast, slow = _parsed(GOOD), _one_by_one(GOOD)
    assert fast is not None
    for name, column in slow.items():
        assert fast[name].equals(column), name
    out = smartwatch_columns(_table(GOOD))
    assert out["heart_rate"].to_pylist() == [70, None]
    assert out["steps"].to_pylist() == [12, 3_000_000_000]
    assert out["user_id"].to_pylist() == ["user-1", None]


def test_a_bad_value_falls_back_and_keeps_the_others() -> None:
    values = [GOOD[0], b"not json", b'{"heart_rate":{"x":1}}', b'[1,2]', GOOD[1]]
    assert _parsed(values) is None
    out = smartwatch_columns(_table(values))
    assert out["event_id"].to_pylist() == ["e1", None, None, None, "e2"]
    assert out["heart_rate"].to_pylist() == [70, None, None, None, None]


def test_a_value_spanning_lines_cannot_shift_the_rows() -> None:
    # one value holding two documents and an empty one: reading them as lines would keep the
    # count and move e2's columns onto the empty record
    values = [b'{"event_id":"e1"}\n{"event_id":"e2"}', b""]
    assert _parsed(values) is None
    assert smartwatch_columns(_table(values))["event_id"].to_pylist() == [None, None]


def test_no_values_give_empty_typed_columns() -> None:
    out = _parsed([])
    assert out is not None
    assert {name: len(column) for name, column in out.items()} == {name: 0 for name in out}
    assert out["steps"].type == pa.int64() and out["event_time"].type == pa.timestamp("us", tz="UTC")
