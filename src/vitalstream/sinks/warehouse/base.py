"""The warehouse interface: DuckDB or PostgreSQL, chosen by URL.

A :class:`Warehouse` does three things: ``migrate`` the schema to the latest version, ``load``
a batch — one Arrow table per warehouse table — in *one* transaction, idempotently on each
table's key (vital tables keep the first row of a key, every other table the last one), and
``query``. :class:`~.sink.WarehouseSink` is the consumer group that feeds it.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from ...errors import TerminalError
from . import schema as S

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger(__name__)

Result = TypeVar("Result")
_HAS_TABLE = ("SELECT count(*) > 0 FROM information_schema.tables "
              "WHERE table_schema = current_schema() AND table_name = ?")
_COLUMNS = "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"


class BadBatch(TerminalError):
    """The database rejected a document of the batch (a value it cannot convert)."""


class Session:
    """A cursor inside one open transaction; ``?`` placeholders on every backend."""

    def __init__(self, cursor: Any, dialect: S.Dialect) -> None:
        self.cursor = cursor
        self.dialect = dialect

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if params:
            return self.cursor.execute(self.dialect.bind(sql), list(params))
        return self.cursor.execute(sql)

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.execute(sql, params).fetchone()[0]

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.execute(sql, params).fetchall()]


class Warehouse(abc.ABC):
    """One warehouse database, speaking its :class:`~.schema.Dialect`.

    A backend provides the connection (``_transaction``), the bulk ``upsert`` and ``query``;
    the schema and its migrations are the same for all and live here.
    """

    url: str
    dialect: ClassVar[S.Dialect]

    @abc.abstractmethod
    def _transaction(self, fn: Callable[[Session], Result]) -> Result:
        """Run ``fn`` in one transaction: committed if it returns, rolled back if it raises."""

    def _lock_migrations(self, db: Session) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Keep concurrent sinks from migrating at the same time (inside the transaction)."""

    def version(self) -> int:
        """The applied schema version (0 for an empty database)."""
        def get(db: Session) -> int:
            if not db.scalar(_HAS_TABLE, ["schema_migrations"]):
                return 0
            return int(db.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations"))

        return self._transaction(get)

    def migrate(self) -> list[int]:
        """Apply every migration newer than the stored version, in one transaction; return the
        versions applied. Declared columns missing from existing tables are added first."""
        done = self._transaction(self._migrate)
        if done:
            logger.info("%s warehouse migrated to version %d", self.dialect.value, done[-1])
        return done

    def _migrate(self, db: Session) -> list[int]:
        self._lock_migrations(db)
        db.execute(S.migrations_table_sql(self.dialect))
        current = int(db.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations"))
        if current:
            for stmt in S.missing_columns(self.dialect, db.all(_COLUMNS)):
                logger.info("warehouse: %s", stmt)
                db.execute(stmt)
        done = []
        for m in S.MIGRATIONS:
            if m.version <= current:
                continue
            for stmt in m.statements(self.dialect):
                db.execute(stmt)
            db.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [m.version, m.description])
            done.append(m.version)
        return done

    @abc.abstractmethod
    def load(self, batch: Mapping[str, pa.Table]) -> None:
        """Load ``table name -> rows`` in one transaction. The rows have the table's columns
        (:func:`.columns.arrow_schema`), one per key (:func:`.columns.one_per_key`); a key the
        table already holds keeps its first row (``keep="first"``) or takes the new one."""

    def upsert(self, docs: Mapping[str, Sequence[bytes]]) -> None:
        """Load ``table name -> JSON documents`` (in log order) in one transaction; documents
        that do not convert are left out (logged)."""
        from .columns import to_arrow

        self.load({name: to_arrow(S.BY_TABLE[name], ds)[0] for name, ds in docs.items()})

    @abc.abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run SQL (``?`` placeholders) and return column names and rows."""

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cols, rows = self.query(sql, params)
        return [dict(zip(cols, r, strict=True)) for r in rows]

    def count(self, table: str) -> int:
        return int(self.query(f'SELECT count(*) FROM "{table}"')[1][0][0])

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release the connection."""

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
