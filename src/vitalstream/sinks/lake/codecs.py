"""Records ↔ file bytes: Parquet (Arrow) and JSON lines.

Parquet columns: ``topic, partition, offset, timestamp, key, value, headers`` (+ any extra
decoded columns); the value is the raw bytes as received. JSON lines carry the same fields;
bytes that are not UTF-8 are base64 with a ``*_b64`` flag.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ...log.base import Record

if TYPE_CHECKING:  # pyarrow is imported lazily (the lake extra); it ships no type hints
    import pyarrow as pa

ExtraColumns = Callable[[list[Record]], dict[str, Any]]


def _arrow_schema() -> pa.Schema:
    import pyarrow as pa

    header = pa.struct([("key", pa.string()), ("value", pa.binary())])
    return pa.schema([
        ("topic", pa.string()),
        ("partition", pa.int32()),
        ("offset", pa.int64()),
        ("timestamp", pa.timestamp("ms", tz="UTC")),
        ("key", pa.binary()),
        ("value", pa.binary()),
        ("headers", pa.list_(header)),
    ])


def records_table(rows: Sequence[Record], extra: ExtraColumns | None = None) -> pa.Table:
    """The Arrow table of a file: the raw record columns (+ decoded extra columns)."""
    import pyarrow as pa

    schema = _arrow_schema()
    columns = [
        pa.array([r.topic for r in rows], pa.string()),
        pa.array([r.partition for r in rows], pa.int32()),
        pa.array([r.offset for r in rows], pa.int64()),
        pa.array([r.timestamp_ms for r in rows], pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
        pa.array([r.key for r in rows], pa.binary()),
        pa.array([r.value for r in rows], pa.binary()),
        pa.array([[{"key": k, "value": v} for k, v in r.headers] if r.headers else [] for r in rows],
                 schema.field("headers").type),
    ]
    table = pa.Table.from_arrays(columns, schema=schema)
    if extra is not None:
        for name, array in extra(list(rows)).items():
            table = table.append_column(name, array)
    return table


def table_records(table: pa.Table) -> list[Record]:
    """Records back from a lake table (Parquet file or part)."""
    import pyarrow as pa

    ts = table.column("timestamp").cast(pa.int64()).to_pylist()
    headers = table.column("headers").to_pylist()
    return [
        Record(topic, p, o, k, v, t, tuple((h["key"], h["value"]) for h in hs or ()))
        for topic, p, o, k, v, t, hs in zip(
            table.column("topic").to_pylist(), table.column("partition").to_pylist(),
            table.column("offset").to_pylist(), table.column("key").to_pylist(),
            table.column("value").to_pylist(), ts, headers, strict=True,
        )
    ]


def parquet_bytes(table: pa.Table) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


def read_table(fs: Any, path: str) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pq.read_table(pa.BufferReader(fs.cat_file(path)))


def read_parquet(fs: Any, path: str) -> list[Record]:
    return table_records(read_table(fs, path))


def _text(b: bytes | None) -> tuple[str | None, bool]:
    if b is None:
        return None, False
    try:
        return b.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(b).decode("ascii"), True


def jsonl_bytes(rows: Sequence[Record]) -> bytes:
    """One JSON object per record; bytes that are not UTF-8 are base64 with a ``*_b64`` flag."""
    out = []
    for r in rows:
        key, key_b64 = _text(r.key)
        value, value_b64 = _text(r.value)
        line: dict[str, Any] = {
            "topic": r.topic, "partition": r.partition, "offset": r.offset,
            "timestamp": datetime.fromtimestamp(r.timestamp_ms / 1000, UTC).isoformat().replace("+00:00", "Z"),
            "timestamp_ms": r.timestamp_ms, "key": key, "value": value,
        }
        if key_b64:
            line["key_b64"] = True
        if value_b64:
            line["value_b64"] = True
        if r.headers:
            line["headers"] = [[k, base64.b64encode(v).decode("ascii")] for k, v in r.headers]
        out.append(json.dumps(line, separators=(",", ":"), ensure_ascii=False))
    return ("\n".join(out) + "\n").encode("utf-8")


def jsonl_records(data: bytes) -> list[Record]:
    out = []
    for line in data.decode("utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        key = d.get("key")
        value = d["value"]
        kb = None if key is None else (base64.b64decode(key) if d.get("key_b64") else key.encode("utf-8"))
        vb = base64.b64decode(value) if d.get("value_b64") else value.encode("utf-8")
        headers = tuple((k, base64.b64decode(v)) for k, v in d.get("headers", ()))
        out.append(Record(d["topic"], d["partition"], d["offset"], kb, vb, d["timestamp_ms"], headers))
    return out


def file_records(fs: Any, path: str) -> list[Record]:
    """The records of a final file or part, by its extension."""
    if path.endswith(".jsonl"):
        return jsonl_records(fs.cat_file(path))
    return read_parquet(fs, path)
