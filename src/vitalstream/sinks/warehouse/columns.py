"""JSON documents of one table -> one Arrow table, once per batch, for every backend.

The documents (the records' values, or the ones :mod:`.documents` builds) are parsed straight
into typed columns: one C++ pass over the batch, no Python object per value. Each column reads
its JSON field (``Column.source``) with its portable type; ``json`` columns hold the value's
JSON text. Many documents of a table without ``json`` columns (the vitals: ~95 % of the rows)
are read by DuckDB's JSON reader (an in-memory database of the reading thread's own, never the warehouse): measured
here 1.4 CPU-µs per 500-byte vital against 3.3 with Arrow's reader, the same columns. A batch
DuckDB does not read whole (a malformed document, a value it cannot cast) is read again by
Arrow's reader, the reference: DuckDB casts more leniently (``"7"`` to an int) but only ever
sees what Arrow would read the same way or what the processor already validated.

A document that does not convert (not JSON, a value of the wrong type, a time Arrow cannot
parse) or lacks its key is left out and counted: the batch loads without it. The processor has
validated and dead-lettered bad input before it reached a processed topic, so this is rare and
the slow path (one document at a time) costs nothing otherwise.

:func:`one_per_key` keeps the document of a key the table holds (``keep``): the first of the
batch for an event, the last for reference data, as the merge would if it saw them in order.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import weakref
from collections.abc import Mapping, Sequence
from functools import cache

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from . import schema as S

logger = logging.getLogger(__name__)

ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(), "int": pa.int32(), "bigint": pa.int64(), "double": pa.float64(),
    "bool": pa.bool_(), "timestamptz": pa.timestamp("us", tz="UTC"), "json": pa.string(),
}
_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()
_BLOCK = 1 << 20  # the JSON reader's block size (see _read)
_DUCK_TYPES = {"text": "VARCHAR", "int": "INTEGER", "bigint": "BIGINT", "double": "DOUBLE", "bool": "BOOLEAN",
               "timestamptz": "TIMESTAMPTZ"}
# DuckDB's reader costs ~3 ms a call to set up (Arrow's far less): worth it from ~1,500 documents
DUCK_MIN_DOCS = 2000
_local = threading.local()  # per thread: its DuckDB reader (a connection is not shared between threads)


@cache
def arrow_schema(table: S.Table) -> pa.Schema:
    """The table's columns as Arrow fields (column names, not JSON field names)."""
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type]) for c in table.columns])


# a line holding nothing but JSON null, wherever it is in the buffer
_BARE_NULL = re.compile(rb"(?:^|\n)[ \t\r]*null[ \t\r]*(?:\n|$)")


@cache
def _parse_options(table: S.Table) -> pj.ParseOptions:
    return pj.ParseOptions(explicit_schema=_field_schema(table), unexpected_field_behavior="ignore")


def to_arrow(table: S.Table, docs: Sequence[bytes]) -> tuple[pa.Table, int]:
    """The columns of ``docs`` (one row per document that converts) and how many were left out."""
    given = len(docs)
    if fields := _json_fields(table):
        docs = [d for d in (_json_as_text(fields, d) for d in docs) if d is not None]
    rows = _read(table, docs)
    if rows is None:  # some document does not convert: find it, keep the others
        parts = [p for p in (_arrow_read(table, [d]) for d in docs) if p is not None]
        rows = pa.concat_tables(parts) if parts else None
    return _finish(table, rows, given)


def tables_to_arrow(docs: Mapping[str, Sequence[bytes]]) -> tuple[dict[str, pa.Table], int]:
    """:func:`to_arrow` of every table's documents, and how many were left out in all. Tables
    with the same columns (the vital tables) are read in one pass and sliced apart: a batch
    spreads over many of them, and each read has a fixed cost."""
    groups: dict[tuple[S.Column, ...], list[str]] = {}
    for name in docs:
        groups.setdefault(S.BY_TABLE[name].columns, []).append(name)
    out: dict[str, pa.Table] = {}
    left_out = 0
    for columns, names in groups.items():
        rows = None
        if len(names) > 1 and all(c.type != "json" for c in columns):
            rows = _read(S.BY_TABLE[names[0]], [d for n in names for d in docs[n]])
        start = 0
        for name in names:
            table, given = S.BY_TABLE[name], len(docs[name])
            if rows is None:
                out[name], n = to_arrow(table, docs[name])
            else:
                out[name], n = _finish(table, rows.slice(start, given), given)
                start += given
            left_out += n
    return out, left_out


def _finish(table: S.Table, rows: pa.Table | None, given: int) -> tuple[pa.Table, int]:
    """Named as the table's columns, rows without a key (or window time) left out, one per key."""
    rows = arrow_schema(table).empty_table() if rows is None else _rename(table, rows)
    needed = [*table.key, *([table.window] if table.window else [])]
    if any(rows.column(k).null_count for k in needed):
        valid = pc.is_valid(rows.column(needed[0]))
        for k in needed[1:]:
            valid = pc.and_(valid, pc.is_valid(rows.column(k)))
        rows = rows.filter(valid)
    left_out = given - rows.num_rows
    if left_out:
        logger.warning("%s: left out %d documents that do not convert or lack %s", table.name, left_out,
                       "/".join(needed))
    return one_per_key(table, rows), left_out


def _read(table: S.Table, docs: Sequence[bytes]) -> pa.Table | None:
    """The columns of every document (named by JSON field), or None if one does not convert."""
    if not docs:
        return None
    if len(docs) >= DUCK_MIN_DOCS and not _json_fields(table) and (rows := _duck_read(table, docs)) is not None:
        return rows
    return _arrow_read(table, docs)


@cache
def _duck_columns(table: S.Table) -> dict[str, str]:
    return {c.source: _DUCK_TYPES[c.type] for c in table.columns}


@cache
def _field_schema(table: S.Table) -> pa.Schema:
    return pa.schema([pa.field(c.source, ARROW_TYPES[c.type]) for c in table.columns])


def _duck_read(table: S.Table, docs: Sequence[bytes]) -> pa.Table | None:
    """DuckDB's JSON reader over the documents, one per line (None: read them with Arrow's)."""
    con = getattr(_local, "duckdb", None)
    if con is None:
        try:
            import duckdb
        except ImportError:  # the lake extra brings it; without it Arrow reads everything
            return None
        con = duckdb.connect()  # in memory, this thread's own
        # closed with its thread, or at exit before the interpreter tears DuckDB's bindings down
        weakref.finalize(threading.current_thread(), con.close)
        con.execute("SET threads = 1")  # a batch is small; the other core runs the loader
        con.execute("SET TimeZone = 'UTC'")
        _local.duckdb, _local.error = con, duckdb.Error
    buf = b"\n".join(docs)
    if buf.count(b"\n") != len(docs) - 1:
        return None  # a document spans lines: Arrow's path blanks them
    try:
        rel = con.read_json(io.BytesIO(buf), columns=_duck_columns(table), format="newline_delimited")
        rows = rel.to_arrow_table()
    except _local.error:
        return None
    if rows.num_rows != len(docs):
        return None
    return rows.cast(_field_schema(table))


def _arrow_read(table: S.Table, docs: Sequence[bytes]) -> pa.Table | None:
    if not docs:
        return None
    buf = b"\n".join(docs)
    if buf.count(b"\n") != len(docs) - 1 or b"\r" in buf:
        # A newline in a JSON document can only be whitespace between tokens (inside a string it
        # must be escaped), so it can be blanked; the reader wants one document per line.
        buf = b"\n".join(d.replace(b"\n", b" ").replace(b"\r", b" ") for d in docs)
    if _BARE_NULL.search(buf):
        return None  # Arrow's reader kills the process on a document that is just null (pyarrow 26)
    try:
        # One thread, blocks of ~1 MB: a 20,000-document batch read as one 7 MB block cost ~15 %
        # more CPU per document (cache misses). A block must hold the longest document.
        block = max(min(len(buf) + 1, _BLOCK), max(map(len, docs)) + 1, 1 << 16)
        read = pj.ReadOptions(use_threads=False, block_size=block)
        rows = pj.read_json(io.BytesIO(buf), read_options=read, parse_options=_parse_options(table))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return rows if rows.num_rows == len(docs) else None  # an empty or a multi-document value


def _rename(table: S.Table, rows: pa.Table) -> pa.Table:
    if rows.schema.equals(arrow_schema(table)):
        return rows
    return pa.Table.from_arrays(rows.columns, schema=arrow_schema(table))


@cache
def _json_fields(table: S.Table) -> tuple[str, ...]:
    return tuple(c.source for c in table.columns if c.type == "json")


def _json_as_text(fields: tuple[str, ...], doc: bytes) -> bytes | None:
    """The document with each ``json`` field's value replaced by its JSON text."""
    try:
        obj = _dec.decode(doc)
    except msgspec.DecodeError:
        return None
    if not isinstance(obj, dict):
        return None
    for f in fields:  # per document: the few json fields, not every column
        value = obj.get(f)
        if value is not None:
            obj[f] = _enc.encode(value).decode()
    return _enc.encode(obj)


def one_per_key(table: S.Table, rows: pa.Table) -> pa.Table:
    """One row per key: the first of the batch (``keep="first"``) or the last."""
    if rows.num_rows < 2:
        return rows
    keys = list(table.key)
    if len(keys) == 1:
        distinct = pc.count_distinct(rows.column(keys[0])).as_py()
    else:
        distinct = rows.group_by(keys).aggregate([]).num_rows
    if distinct == rows.num_rows:
        return rows
    n = rows.append_column("vs_n", pa.array(range(rows.num_rows), pa.int64()))
    how = "min" if table.keep == "first" else "max"
    kept = n.group_by(keys).aggregate([("vs_n", how)]).column(f"vs_n_{how}")
    return rows.take(pc.take(kept, pc.sort_indices(kept)))  # in batch order
