"""DuckDB, the embedded default: ``duckdb:///path/warehouse.duckdb`` (``duckdb:///:memory:``).

**Loading.** A batch arrives as Arrow tables (:mod:`.columns`) and is appended in bulk, one
statement per table, all in one transaction:

* the high-volume tables (vitals, alerts, NEWS2 scores: ``Table.window``) have no key index
  (migration 5). A vital row is inserted unless a row with its ``event_id`` is among the rows
  whose ``event_time`` is at least the batch's earliest minus ``dedup_window_s`` (default 60):
  an anti-join over a bounded, recent slice that DuckDB's zone maps find without reading older
  row groups. An alert or score replaces the rows of its key in that slice (its id covers its
  event time, so its rows can be nowhere else). A re-delivered record has the same event time
  as its stored copy, so a replay is recognised however old it is; the window only bounds how
  far apart the times of a *conflicting* duplicate may be (docs/warehouse.md, "Idempotent loads").
  A vital batch whose ids :mod:`.recent` knows to be new skips that scan: it is appended as is;
* the other tables (reference data and its history, notes, dead letters: small or slow) keep
  their primary key and ``INSERT ... ON CONFLICT``.

**The file.** DuckDB lets one process write a database file at a time. The sink keeps its
connection while it writes, but lets the file go ``RELEASE_AFTER_S`` after it opened it and
leaves it free for ``READER_GAP_S`` before opening it again, so ``vitalstream report`` and
``query`` (which retry for up to ``LOCK_WAIT_S``) get in while a stream flows, and a trickle of
small batches opens the file about once a second rather than once per batch. ``?hold=true``
keeps the file (fastest, exclusive: the dashboard reads through the writer's own connection);
``?hold=false`` lets it go after every batch.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from ...errors import ConfigError, require
from ..base import WarehouseUnavailable
from . import schema as S
from .base import BadBatch, Result, Session, Warehouse
from .recent import LOADS_TABLE_SQL, Added, RecentIds

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger(__name__)

RELEASE_AFTER_S = 1.0  # longest the sink keeps the file at a time
READER_GAP_S = 0.1  # then free this long: readers retry every 5-50 ms
LOCK_WAIT_S = 10.0  # how long to wait for another process to let go of the file
DEDUP_WINDOW_S = 60.0
DEDUP_CACHE_ROWS = 1_000_000  # ids of recent vital rows known in the process (recent.py), ~60 MB
DEDUP_CACHE_KEEP_S = 300.0  # event time they cover behind the newest (at least the window)
# DuckDB checkpoints when the WAL passes 16 MB by default: at the sink's rate that was every
# other batch, and each checkpoint re-compresses the tables' open row groups (~3 µs a row in
# all). The sink's file is checkpointed when it lets it go (about once a second) anyway.
CHECKPOINT_THRESHOLD = "64MB"
VACUUM_EVERY = 30  # of the sink's connections, one lets DuckDB merge row groups at checkpoints (load)

# Every use of a DuckDB file in this process, and a whole scheduled model run (dbt), take turns:
# DuckDB 2.0 shares one database between a process's connections, but connections of two
# threads opening, writing and closing it at once met "file already attached" and lost table
# functions (python_arrow_scan) mid-batch. See docs/warehouse.md, "Single writer".
PROCESS_LOCK = threading.RLock()
_STAGE = "vs_batch"
# the vital tables: appended as is when recent.py knows their batch's ids are new
_INDEXED = frozenset(t.name for t in S.TABLES if t.window is not None and t.keep == "first")


def _IN_USE(duckdb: Any) -> type[Exception]:
    """DuckDB's "file already attached" error (older releases have none: never matches)."""
    return getattr(duckdb, "ResourceInUseException", _NeverRaised)


class _NeverRaised(Exception):
    pass


def load_sql(table: S.Table, stage: str = _STAGE) -> tuple[str, ...]:
    """The statements that load ``stage`` (the batch's rows, one per key) into ``table``; a
    windowed table's take the window's lower bound as their one parameter."""
    q = S.q
    cols = ", ".join(q(c) for c in table.column_names)
    insert = f"INSERT INTO {q(table.name)} ({cols}) SELECT {cols} FROM {stage}"
    if table.window is None:
        return (f"{insert} {table.on_conflict_sql()}",)
    [key] = table.key
    recent = f"{q(table.window)} >= ?"
    if table.keep == "first":
        return (f"{insert} b WHERE NOT EXISTS (SELECT 1 FROM {q(table.name)} s "
                f"WHERE s.{q(key)} = b.{q(key)} AND s.{recent})",)
    return (f"DELETE FROM {q(table.name)} WHERE {recent} AND {q(key)} IN (SELECT {q(key)} FROM {stage})",
            insert)


def append_sql(table: S.Table, stage: str = _STAGE) -> str:
    """The statement that appends ``stage`` (the table's columns, by name) to ``table`` as is.
    Short on purpose: DuckDB parses every statement anew, and parsing the column list twice cost
    ~0.3 ms a statement, ten statements a batch."""
    return f"INSERT INTO {S.q(table.name)} BY NAME SELECT * FROM {stage}"


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
        self.release_after_s = 0.0 if hold in ("0", "false") else RELEASE_AFTER_S
        try:
            self.window = timedelta(seconds=float(query.get("dedup_window_s", DEDUP_WINDOW_S)))
        except ValueError:
            raise ConfigError(f"warehouse url {url!r}: dedup_window_s must be seconds") from None
        if self.window < timedelta(0):
            raise ConfigError(f"warehouse url {url!r}: dedup_window_s must be >= 0")
        try:
            cache_rows = int(query.get("dedup_cache_rows", DEDUP_CACHE_ROWS))
        except ValueError:
            raise ConfigError(f"warehouse url {url!r}: dedup_cache_rows must be a number of rows") from None
        # 0: every batch is checked against the table (the anti-join alone)
        keep = timedelta(seconds=DEDUP_CACHE_KEEP_S) + self.window
        self.recent = RecentIds(self.window, keep, cache_rows) if cache_rows > 0 and not read_only else None
        self.read_only = read_only
        self.url = url
        from .encryption import key_from

        self._key = key_from(query)  # None: not encrypted (docs/security.md)
        self._conn: Any = None
        self._tuned: Any = None  # the connection load() set up
        self._loading = 0  # connections load() set up so far
        self._timer: threading.Timer | None = None  # lets a held file go (see the module doc)
        self._free_until = 0.0
        self._opened = 0  # connections opened so far (the timer's is still the one open?)
        self._sql = {t.name: load_sql(t) for t in S.TABLES}
        self._append = {t.name: append_sql(t) for t in S.TABLES}

    # -- connection -------------------------------------------------------------------------
    def _connect(self) -> Any:
        if self._conn is not None:
            return self._conn
        read_only = False
        if self.path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            read_only = self.read_only and os.path.exists(self.path)
        gap = self._free_until - time.monotonic()
        if gap > 0:  # this process just let the file go: leave a waiting reader its turn
            time.sleep(gap)
        # DuckDB allows one process at a time. A running sink holds the file for about a
        # second at a time: try often, with jitter, for up to LOCK_WAIT_S to land in a gap,
        # before calling it unavailable.
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
        if not read_only:
            conn.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
        self._conn = conn
        self._opened += 1
        return conn

    def _release(self, wrote: bool) -> None:
        """After a call: keep the file (``hold``; a write within ``release_after_s`` of
        opening it, or a call while a write holds it) or let it go now."""
        if self.hold or self._conn is None:
            return
        if self._timer is not None:  # a write holds the file until the timer fires
            return
        if wrote and self.release_after_s > 0:
            self._timer = threading.Timer(self.release_after_s, self._expire, args=(self._opened,))
            self._timer.daemon = True
            self._timer.start()
            return
        self._drop()

    def _expire(self, opened: int) -> None:
        with PROCESS_LOCK:  # after the batch in progress, if any
            if self._conn is not None and self._opened == opened:
                self._timer = None
                self._drop()
                self._free_until = time.monotonic() + READER_GAP_S

    def _run(self, fn: Callable[[Any], Result], wrote: bool = False) -> Result:
        with PROCESS_LOCK:
            return self._run_locked(fn, wrote)

    def _run_locked(self, fn: Callable[[Any], Result], wrote: bool) -> Result:
        ok = False
        try:
            conn = self._connect()
            try:
                out = fn(conn)
                ok = True
                return out
            except self.duckdb.IOException as exc:
                self._drop()
                raise WarehouseUnavailable(f"duckdb {self.path}: {exc}") from exc
            except (self.duckdb.ConversionException, self.duckdb.InvalidInputException) as exc:
                raise BadBatch(f"duckdb rejected a value: {type(exc).__name__}") from exc
        finally:
            self._release(wrote and ok)

    def _drop(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        try:
            if self._conn is not None:
                self._conn.close()
        finally:
            self._conn = None

    # -- Warehouse --------------------------------------------------------------------------
    def _transaction(self, fn: Callable[[Session], Result], wrote: bool = False) -> Result:
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

        return self._run(run, wrote)

    def _migrate(self, db: Session) -> list[int]:
        done = super()._migrate(db)
        for sql in LOADS_TABLE_SQL:  # bookkeeping, like schema_migrations: no version of its own
            db.execute(sql)
        if done:  # a migration may rewrite vital rows (their ids): every process reads them again
            db.execute("UPDATE warehouse_loads SET writer = 'migrate', seq = seq + 1")
        return done

    def load(self, batch: Mapping[str, pa.Table]) -> None:
        import pyarrow.compute as pc

        recent = self.recent if any(n in _INDEXED and t.num_rows for n, t in batch.items()) else None
        added: list[Added] = []

        def load(db: Session) -> None:
            conn = db.cursor
            if not self.hold and self._tuned is not conn:
                # A batch's inserts are small: a second DuckDB thread cost more in hand-offs than
                # it saved (~20 % more CPU per row measured), and the log's consumer needs the
                # other core. The setting lasts while this connection is open (about a second).
                conn.execute("SET threads = 1")
                # Each checkpoint (one per release) writes the rows since as new row groups, and
                # DuckDB's vacuum merged them again and again, binary-counter style (~4x that
                # checkpoint's CPU). Merging only on every VACUUM_EVERY-th loading connection
                # rewrites a row once more and bounds the small row groups (the first merges
                # what an earlier run left).
                if self._loading % VACUUM_EVERY:
                    conn.execute("SET max_vacuum_tasks = 0")
                self._loading += 1
                self._tuned = conn
            if recent is not None:
                recent.begin(conn)
            for name, vs_batch in batch.items():
                # The statements read ``vs_batch``, this local, through DuckDB's replacement scan
                # of Python variables: no catalog change, unlike register() (~1 ms a table).
                if not vs_batch.num_rows:
                    continue
                table = S.BY_TABLE[name]
                statements, params = self._sql[name], []
                if table.window is not None:
                    params = [pc.min(vs_batch.column(table.window)).as_py() - self.window]
                if recent is not None and name in _INDEXED:
                    fresh, add = recent.check(conn, table, vs_batch)
                    added.append(add)
                    if fresh:  # provably no stored row repeats an id of the batch (recent.py)
                        statements = (self._append[name],)
                for sql in statements:
                    conn.execute(sql, params if "?" in sql else None)

        try:
            self._transaction(load, wrote=True)
        except BaseException:
            if recent is not None:
                recent.forget()
            raise
        if recent is not None:
            recent.committed(added)

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
