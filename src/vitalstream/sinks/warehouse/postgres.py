"""PostgreSQL, for production: ``postgresql://user:password@host:port/db``.

A batch arrives as Arrow tables (:mod:`.columns`, one row per key). Each is sent with one binary
``COPY`` into a temporary staging table of the same columns, then merged into its table with one
``INSERT ... SELECT ... ON CONFLICT (key)`` (``DO NOTHING`` for the tables that keep a key's
first row, ``DO UPDATE`` for the others), all in one transaction; the tables keep their primary
keys (a B-tree probe per row is cheap here, unlike DuckDB's conflict check). The connection and
its staging tables stay open between batches. A lost connection or a server that is down or
shutting down is transient: the connection is dropped,
:class:`~vitalstream.sinks.WarehouseUnavailable` raised, and the next call reconnects.
Migrations hold an advisory lock so concurrent sinks migrate once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ...errors import require
from ...redact import redact_url
from ..base import WarehouseUnavailable
from . import schema as S
from .base import BadBatch, Result, Session, Warehouse

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger(__name__)

_MIGRATION_LOCK = 0x76697461  # "vita": pg_advisory_xact_lock key for migrations


# COPY's binary format per portable type. A timestamptz is sent as what PostgreSQL's binary
# format holds, int8 microseconds since 2000-01-01 UTC: computed in Arrow, no datetime per value.
_COPY_TYPES = {"text": "text", "int": "int4", "bigint": "int8", "double": "float8", "bool": "bool",
               "timestamptz": "int8", "json": "text"}
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in Unix microseconds


def _stage(table: S.Table) -> str:
    return S.q(f"vs_stage_{table.name}")


def stage_sql(table: S.Table) -> str:
    """The session's staging table for ``table``: its columns, JSON as text, emptied at commit."""
    cols = ", ".join(f"{S.q(c.name)} {'TEXT' if c.type == 'json' else S.Dialect.POSTGRESQL.sql_type(c.type)}"
                     for c in table.columns)
    return f"CREATE TEMP TABLE IF NOT EXISTS {_stage(table)} ({cols}) ON COMMIT DELETE ROWS"


def merge_sql(table: S.Table) -> str:
    """Staged rows (one per key) into ``table``: the first row of a key stays, or the new one wins."""
    q = S.q
    cols = ", ".join(q(c) for c in table.column_names)
    typed = ", ".join(f"{q(c.name)}::jsonb" if c.type == "json" else q(c.name) for c in table.columns)
    return f"INSERT INTO {q(table.name)} ({cols}) SELECT {typed} FROM {_stage(table)} {table.on_conflict_sql()}"


def copy_rows(table: S.Table, data: pa.Table) -> list[tuple[Any, ...]]:
    """``data`` as rows of COPY values (see ``_COPY_TYPES``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cols = []
    for c in table.columns:
        col = data.column(c.name)
        if c.type == "timestamptz":
            col = pc.subtract(col.cast(pa.int64()), _PG_EPOCH_US)
        cols.append(col.to_pylist())
    return list(zip(*cols, strict=True))


class PostgresWarehouse(Warehouse):
    dialect = S.Dialect.POSTGRESQL

    def __init__(self, url: str, read_only: bool = False, connect_timeout: float = 5.0) -> None:
        self.psycopg = require("psycopg", "postgres")
        self.url = url
        self.dsn = url.replace("postgres://", "postgresql://", 1)
        self.read_only = read_only
        self.connect_timeout = connect_timeout
        self._conn: Any = None
        self._staged: set[str] = set()  # staging tables this connection has
        self._sql = {t.name: (stage_sql(t), f"COPY {_stage(t)} FROM STDIN (FORMAT BINARY)", merge_sql(t))
                     for t in S.TABLES}

    def _connect(self) -> Any:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        try:
            self._conn = self.psycopg.connect(self.dsn, connect_timeout=max(1, int(self.connect_timeout)),
                                              autocommit=False)
        except self.psycopg.OperationalError as exc:
            raise WarehouseUnavailable(f"postgresql {redact_url(self.url)}: cannot connect") from exc
        return self._conn

    def _run(self, fn: Callable[[Any], Result]) -> Result:
        pg = self.psycopg
        conn = self._connect()
        try:
            with conn.transaction(), conn.cursor() as cur:
                return fn(cur)
        except BaseException as exc:
            self._staged.clear()  # staging tables a rolled-back transaction created are gone
            if isinstance(exc, (pg.OperationalError, pg.InterfaceError)):
                if isinstance(exc, pg.errors.QueryCanceled) and not conn.closed:
                    raise
                self._drop()
                raise WarehouseUnavailable(
                    f"postgresql {redact_url(self.url)}: {type(exc).__name__}") from exc
            if isinstance(exc, (pg.errors.SerializationFailure, pg.errors.DeadlockDetected)):
                raise WarehouseUnavailable(f"postgresql: {type(exc).__name__}, retrying") from exc
            if isinstance(exc, (pg.DataError, pg.IntegrityError)):
                raise BadBatch(f"postgresql rejected a value: {type(exc).__name__}") from exc
            raise

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self._staged.clear()
        if conn is not None:
            try:
                conn.close()
            except Exception:  # the connection is already broken
                pass

    # -- Warehouse --------------------------------------------------------------------------
    def _transaction(self, fn: Callable[[Session], Result]) -> Result:
        return self._run(lambda cur: fn(Session(cur, self.dialect)))

    def _lock_migrations(self, db: Session) -> None:
        db.execute("SELECT pg_advisory_xact_lock(?)", [_MIGRATION_LOCK])

    def load(self, batch: Mapping[str, pa.Table]) -> None:
        def load(cur: Any) -> None:
            for name, data in batch.items():
                if not data.num_rows:
                    continue
                table = S.BY_TABLE[name]
                create, copy_sql, merge = self._sql[name]
                if name not in self._staged:
                    cur.execute(create)
                    self._staged.add(name)
                with cur.copy(copy_sql) as copy:
                    copy.set_types([_COPY_TYPES[c.type] for c in table.columns])
                    for row in copy_rows(table, data):
                        copy.write_row(row)
                cur.execute(merge)

        self._run(load)

    def query(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        if params:
            sql = self.dialect.bind(sql)

        def run(cur: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
            cur.execute(sql, list(params) if params else None)
            if cur.description is None:
                return [], []
            return [d.name for d in cur.description], [tuple(r) for r in cur.fetchall()]

        return self._run(run)

    def close(self) -> None:
        self._drop()
