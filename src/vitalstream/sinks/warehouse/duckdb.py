"""DuckDB, the embedded default: ``duckdb:///path/warehouse.duckdb`` (``duckdb:///:memory:``).

A batch is loaded as an Arrow table of JSON documents, parsed by DuckDB itself (``from_json``
with the table's column types) and upserted with ``INSERT ... ON CONFLICT DO UPDATE``.

DuckDB lets one process write a database file at a time. So that ``vitalstream report`` and
``vitalstream query`` work while the sink runs, the sink closes the file after each small batch,
i.e. whenever it has caught up (``?hold=false``: after every batch; ``?hold=true``: never —
fastest, but exclusive). A lock held by another process is a
transient error: the sink waits and retries; readers open it read-only and retry briefly.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ...errors import ConfigError, require
from ..base import WarehouseUnavailable
from . import schema as S
from .base import BadBatch, Result, Session, Warehouse

logger = logging.getLogger(__name__)

# Keep the file open while catching up (big batches), release it when caught up (small ones).
RELEASE_BELOW = 2000
LOCK_WAIT_S = 10.0  # how long to wait for another process to let go of the file

# Every use of a DuckDB file in this process, and a whole scheduled model run (dbt), take turns:
# DuckDB 2.0 shares one database between a process's connections, but connections of two
# threads opening, writing and closing it at once met "file already attached" and lost table
# functions (python_arrow_scan) mid-batch. See docs/warehouse.md, "Single writer".
PROCESS_LOCK = threading.RLock()


def _IN_USE(duckdb: Any) -> type[Exception]:
    """DuckDB's "file already attached" error (older releases have none: never matches)."""
    return getattr(duckdb, "ResourceInUseException", _NeverRaised)


class _NeverRaised(Exception):
    pass


def upsert_sql(table: S.Table, stage: str) -> tuple[str, str, str, str]:
    """(parse into vs_typed, count duplicate keys, upsert, upsert of the kept document per key)."""
    q = S.q
    structure = "{" + ", ".join(f'"{c.source}": "{S.Dialect.DUCKDB.sql_type(c.type)}"'
                                for c in table.columns) + "}"
    typed = ", ".join(f"j.{q(c.source)} AS {q(c.name)}" for c in table.columns)
    cols = ", ".join(q(c) for c in table.column_names)
    keys, conflict = table.key_sql, table.on_conflict_sql()
    parse = (f"CREATE OR REPLACE TEMP TABLE vs_typed AS SELECT {typed}, n FROM "
             f"(SELECT from_json(v, '{structure}') AS j, n FROM {stage})")
    dups = f"SELECT count(*) - count(DISTINCT ({keys})) FROM vs_typed"
    plain = f"INSERT INTO {q(table.name)} ({cols}) SELECT {cols} FROM vs_typed {conflict}"
    # Sorting is the expensive part, so only a batch that repeats a key pays for it.
    one_per_key = (f"INSERT INTO {q(table.name)} ({cols}) SELECT {cols} FROM (SELECT DISTINCT ON "
                   f"({keys}) * FROM vs_typed ORDER BY {keys}, {table.kept_order}) {conflict}")
    return parse, dups, plain, one_per_key


class DuckDbWarehouse(Warehouse):
    dialect = S.Dialect.DUCKDB

    def __init__(self, url: str, read_only: bool = False) -> None:
        self.duckdb = require("duckdb", "lake")
        parts = urlsplit(url)
        if parts.scheme != "duckdb":
            raise ConfigError(f"warehouse url {url!r}: expected duckdb:///path")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = (parts.netloc + parts.path) if parts.netloc else parts.path
        self.path = ":memory:" if path in ("", "/:memory:", ":memory:") else path
        hold = query.get("hold", "auto").lower()
        if hold not in ("auto", "1", "true", "0", "false"):
            raise ConfigError(f"warehouse url {url!r}: hold must be auto, true or false")
        self.hold = self.path == ":memory:" or hold in ("1", "true")
        self.release_below = 1 << 62 if hold in ("0", "false") else RELEASE_BELOW
        self.read_only = read_only
        self.url = url
        from .encryption import key_from

        self._key = key_from(query)  # None: not encrypted (docs/security.md)
        self._conn: Any = None
        self._sql = {t.name: upsert_sql(t, "vs_stage") for t in S.TABLES}

    # -- connection -------------------------------------------------------------------------
    def _connect(self) -> Any:
        if self._conn is not None:
            return self._conn
        read_only = False
        if self.path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            read_only = self.read_only and os.path.exists(self.path)
        # DuckDB allows one process at a time. A running sink holds the file only for the
        # length of a batch but reopens it as soon as the next one arrives: try often, with
        # jitter, for up to LOCK_WAIT_S to land in a gap, before calling it unavailable.
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                if self._key is None:
                    conn = self.duckdb.connect(self.path, read_only=read_only)
                else:
                    from .encryption import connect

                    conn = connect(self.duckdb, self.path, self._key, read_only)
                break
            except self.duckdb.IOException as exc:  # locked by another process, disk problem
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise WarehouseUnavailable(f"duckdb {self.path}: {exc}") from exc
                time.sleep(random.uniform(0.005, 0.05))
            except _IN_USE(self.duckdb) as exc:
                # Another thread of this process (the scheduled model run) closed the database
                # and DuckDB is still shutting it down: it is free again in moments.
                if time.monotonic() >= deadline:
                    raise WarehouseUnavailable(f"duckdb {self.path}: {exc}") from exc
                time.sleep(random.uniform(0.005, 0.05))
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SET enable_progress_bar = false")
        self._conn = conn
        return conn

    def _release(self, batch: int = 0) -> None:
        if not self.hold and self._conn is not None and batch < self.release_below:
            self._conn.close()
            self._conn = None

    def _run(self, fn: Callable[[Any], Result], batch: int = 0) -> Result:
        with PROCESS_LOCK:
            return self._run_locked(fn, batch)

    def _run_locked(self, fn: Callable[[Any], Result], batch: int = 0) -> Result:
        try:
            conn = self._connect()
            try:
                return fn(conn)
            except self.duckdb.IOException as exc:
                self._drop()
                raise WarehouseUnavailable(f"duckdb {self.path}: {exc}") from exc
            except (self.duckdb.ConversionException, self.duckdb.InvalidInputException) as exc:
                raise BadBatch(f"duckdb rejected a value: {type(exc).__name__}") from exc
        finally:
            self._release(batch)

    def _drop(self) -> None:
        try:
            if self._conn is not None:
                self._conn.close()
        finally:
            self._conn = None

    # -- Warehouse --------------------------------------------------------------------------
    def _transaction(self, fn: Callable[[Session], Result], batch: int = 0) -> Result:
        def run(conn: Any) -> Result:
            conn.execute("BEGIN")
            try:
                out = fn(Session(conn, self.dialect))
                conn.execute("COMMIT")
            except BaseException:
                try:
                    conn.execute("ROLLBACK")
                except self.duckdb.Error:
                    pass
                raise
            return out

        return self._run(run, batch)

    def upsert(self, docs: dict[str, list[bytes]]) -> None:
        import pyarrow as pa

        def load(db: Session) -> None:
            conn = db.cursor
            for name, values in docs.items():
                stage = pa.table({"n": pa.array(range(len(values)), pa.int64()),
                                  "v": pa.array(values, pa.binary()).cast(pa.string())})
                parse, dups, plain, one_per_key = self._sql[name]
                conn.register("vs_stage", stage)
                try:
                    conn.execute(parse)
                finally:
                    conn.unregister("vs_stage")
                repeated = conn.execute(dups).fetchone()[0]
                conn.execute(one_per_key if repeated else plain)
            conn.execute("DROP TABLE IF EXISTS vs_typed")

        self._transaction(load, batch=sum(len(v) for v in docs.values()))

    def query(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        def run(conn: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
            # Arrow keeps TIMESTAMPTZ as aware datetimes without needing pytz.
            rel = conn.sql(sql, params=list(params) or None)
            if rel is None:  # a statement without a result
                return [], []
            table = rel.to_arrow_table()
            cols = table.column_names
            data = [table.column(i).to_pylist() for i in range(table.num_columns)]
            return cols, list(zip(*data, strict=True)) if data else []

        return self._run(run)

    def read_cursor(self) -> Any:
        """A new cursor of this process's open connection, for readers in the process that
        writes (``?hold=true``): each sees the committed batches while the writer goes on."""
        return self._connect().cursor()

    def close(self) -> None:
        with PROCESS_LOCK:
            self._drop()
