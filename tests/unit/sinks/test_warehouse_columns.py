"""Documents -> Arrow columns: DuckDB's JSON reader (the vitals' fast path) gives exactly the
columns Arrow's reader gives, and a batch it cannot read whole goes to Arrow's reader, which
leaves out only the documents that do not convert."""

from __future__ import annotations

from datetime import timedelta

import msgspec

from contract.sink_contract import T0, eid, vital
from vitalstream.sinks.warehouse import columns as C
from vitalstream.sinks.warehouse import schema as S

HR = S.BY_TABLE["processed_heart_rate_data"]


def _docs(n: int) -> list[bytes]:
    out = []
    for i in range(n):
        doc = vital(i, f"p{i % 3}", "heart_rate", T0 + timedelta(seconds=i), heart_rate=60 + i)
        doc.update(latitude=51.5 + i / 10, sleeping=i % 2 == 0, steps=2**40 + i, extra_field={"not": "a column"})
        out.append(msgspec.json.encode(doc))
    return out


def test_duckdb_and_arrow_read_the_same_columns() -> None:
    docs = _docs(C.DUCK_MIN_DOCS)  # enough for to_arrow to take DuckDB's reader
    fast = C._duck_read(HR, docs)
    assert fast is not None, "DuckDB's reader read the batch"
    assert fast.equals(C._arrow_read(HR, docs))
    rows = C.to_arrow(HR, docs)[0].to_pylist()
    assert [r["event_id"] for r in rows] == [eid(i) for i in range(C.DUCK_MIN_DOCS)]
    assert rows[3]["event_time"] == T0 + timedelta(seconds=3) and rows[3]["steps"] == 2**40 + 3


def test_a_batch_duckdb_cannot_read_goes_to_arrow_and_leaves_out_only_the_bad_document() -> None:
    docs = _docs(C.DUCK_MIN_DOCS)
    bad = vital(9, "p1", "heart_rate", T0, heart_rate=70)
    bad["heart_rate"] = "fast"
    docs.insert(2, msgspec.json.encode(bad))
    docs.append(b"not json")
    assert C._duck_read(HR, docs) is None
    rows, left_out = C.to_arrow(HR, docs)
    assert left_out == 2
    assert rows.column("event_id").to_pylist() == [eid(i) for i in range(C.DUCK_MIN_DOCS)]


def test_a_document_spanning_lines_is_read() -> None:
    docs = _docs(3)
    docs[1] = docs[1].replace(b",", b",\n", 1)
    rows, left_out = C.to_arrow(HR, docs)
    assert left_out == 0 and rows.num_rows == 3


def test_a_document_that_is_just_null_is_left_out_not_a_crash() -> None:
    # pyarrow 26's JSON reader kills the process (SIGSEGV) on a bare null with a schema given
    for docs in (_docs(3), _docs(C.DUCK_MIN_DOCS)):
        docs[1:1] = [b"null", b" null\r"]
        rows, left_out = C.to_arrow(HR, docs)
        assert left_out == 2 and rows.num_rows == len(docs) - 2
    assert C._arrow_read(HR, [b"null"]) is None
