"""PostgreSQL, for production: ``postgresql://user:password@host:port/db``.

A batch is COPYed into a temporary ``jsonb`` staging table and moved into each target with one
``INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE`` (last document per key wins), all in one
transaction. A lost connection or a server that is down or shutting down is transient: the
connection is dropped, :class:`~vitalstream.sinks.WarehouseUnavailable` raised, and the next
call reconnects. Migrations hold an advisory lock so concurrent sinks migrate once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from ...errors import require
from ...redact import redact_url
from ..base import WarehouseUnavailable
from . import schema as S
from .base import BadBatch, Result, Session, Warehouse

logger = logging.getLogger(__name__)

_MIGRATION_LOCK = 0x76697461  # "vita": pg_advisory_xact_lock key for migrations


def _extract(c: S.Column) -> str:
    if c.type == "json":
        return f"(v -> '{c.source}')"
    return f"(v ->> '{c.source}')::{S.Dialect.POSTGRESQL.sql_type(c.type)}"


def upsert_sql(table: S.Table) -> str:
    q = S.q
    cols = ", ".join(q(c) for c in table.column_names)
    typed = ", ".join(f"{_extract(c)} AS {q(c.name)}" for c in table.columns)
    keys = table.key_sql
    return (
        f"INSERT INTO {q(table.name)} ({cols}) SELECT {cols} FROM ("
        f"SELECT DISTINCT ON ({keys}) {typed}, n FROM vs_stage ORDER BY {keys}, {table.kept_order}) s "
        f"{table.on_conflict_sql()}"
    )


def _copy_text(values: list[bytes]) -> bytes:
    """COPY text format: ``n<TAB>json`` lines, with COPY's escapes."""
    out = []
    for n, v in enumerate(values):
        if b"\\" in v or b"\n" in v or b"\r" in v or b"\t" in v:
            v = v.replace(b"\\", b"\\\\").replace(b"\n", b"\\n").replace(b"\r", b"\\r").replace(b"\t", b"\\t")
        out.append(b"%d\t%s" % (n, v))
    out.append(b"")
    return b"\n".join(out)


class PostgresWarehouse(Warehouse):
    dialect = S.Dialect.POSTGRESQL

    def __init__(self, url: str, read_only: bool = False, connect_timeout: float = 5.0) -> None:
        self.psycopg = require("psycopg", "postgres")
        self.url = url
        self.dsn = url.replace("postgres://", "postgresql://", 1)
        self.read_only = read_only
        self.connect_timeout = connect_timeout
        self._conn: Any = None
        self._sql = {t.name: upsert_sql(t) for t in S.TABLES}

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
        except (pg.OperationalError, pg.InterfaceError) as exc:
            if isinstance(exc, pg.errors.QueryCanceled) and not conn.closed:
                raise
            self._drop()
            raise WarehouseUnavailable(
                f"postgresql {redact_url(self.url)}: {type(exc).__name__}") from exc
        except (pg.errors.SerializationFailure, pg.errors.DeadlockDetected) as exc:
            raise WarehouseUnavailable(f"postgresql: {type(exc).__name__}, retrying") from exc
        except (pg.DataError, pg.IntegrityError) as exc:
            raise BadBatch(f"postgresql rejected a value: {type(exc).__name__}") from exc

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
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

    def upsert(self, docs: dict[str, list[bytes]]) -> None:
        def load(cur: Any) -> None:
            cur.execute("CREATE TEMP TABLE IF NOT EXISTS vs_stage (n BIGINT, v JSONB) ON COMMIT DELETE ROWS")
            for name, values in docs.items():
                with cur.copy("COPY vs_stage (n, v) FROM STDIN") as copy:
                    copy.write(_copy_text(values))
                cur.execute(self._sql[name])
                cur.execute("TRUNCATE vs_stage")

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
