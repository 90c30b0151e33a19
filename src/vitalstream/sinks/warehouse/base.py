"""The warehouse interface and the sink that loads topics into it.

A :class:`Warehouse` (DuckDB or PostgreSQL, chosen by URL) does three things: ``migrate`` the
schema to the latest version, ``upsert`` batches of JSON documents into tables in *one*
transaction (bulk: Arrow into DuckDB, COPY into PostgreSQL; upsert on the table's key: vital
tables keep the first document of a key, every other table the last one), and ``query``. :class:`WarehouseSink` is the consumer
group that feeds it; a batch is committed to the log only after its transaction committed.
"""

from __future__ import annotations

import abc
import base64
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

import msgspec

from ...errors import TerminalError
from ...log.base import Record
from ..base import Sink
from . import schema as S

logger = logging.getLogger(__name__)

WAREHOUSE_GROUP = "vitalstream-warehouse"
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
    def upsert(self, docs: dict[str, list[bytes]]) -> None:
        """Load ``table -> JSON documents`` (in log order) in one transaction."""

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


# -- records -> JSON documents ------------------------------------------------------------------
_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _reference_doc(r: Record) -> bytes | None:
    from ...events import InvalidEvent, decode

    try:
        event = decode(r.topic, r.value)
    except InvalidEvent:
        return None  # the processor dead-letters it; the warehouse keeps the last valid one
    doc = msgspec.to_builtins(event)
    doc["updated_at"] = _iso(r.timestamp_ms)
    return _enc.encode(doc)


def _entry_doc(r: Record) -> bytes | None:
    try:
        doc = _dec.decode(r.value)
    except msgspec.DecodeError:
        return None
    if not isinstance(doc, dict):
        return None
    if not isinstance(doc.get("entry_id"), str):  # entries processed before the notes stage
        # The processor stamped processed_timestamp anew on a replay; the entry itself is the key.
        ident = f"{doc.get('patient_id')}\x1f{doc.get('timestamp')}\x1f{doc.get('medical_entry')}"
        doc["entry_id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, ident))
    return _enc.encode(doc)


def _mention_docs(r: Record, kind: str) -> list[bytes]:
    """One document per problem or medication of a processed entry (with its entry's keys)."""
    try:
        doc = _dec.decode(r.value)
    except msgspec.DecodeError:
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("entry_id"), str):
        return []
    mentions = doc.get(kind)
    common = {"entry_id": doc["entry_id"], "patient_id": doc.get("patient_id"), "timestamp": doc.get("timestamp")}
    return [_enc.encode({**m, **common}) for m in mentions if isinstance(m, dict)] if isinstance(mentions, list) else []


def _deadletter_doc(r: Record, payload: bool = False) -> bytes:
    """Where and why a record failed; its key and value (PHI) only if ``payload``."""
    from ...deadletter import DeadLetter

    d = DeadLetter.from_record(r)
    value = value_b64 = key = None
    if payload:
        try:
            value = d.value.decode("utf-8")
            if "\x00" in value:
                raise UnicodeDecodeError("utf-8", b"", 0, 1, "NUL")
        except UnicodeDecodeError:
            value, value_b64 = None, base64.b64encode(d.value).decode("ascii")
        key = d.key.decode("utf-8", "replace").replace("\x00", "") if d.key is not None else None
    return _enc.encode({
        "dlq_partition": r.partition, "dlq_offset": r.offset, "stage": d.stage,
        "error_class": d.error_class, "reason": d.reason, "field": d.field,
        "source_topic": d.source_topic, "source_partition": d.source_partition,
        "source_offset": d.source_offset, "dead_lettered_at": _iso(d.time_ms),
        "key": key, "value": value, "value_base64": value_b64,
    })


def document(table: S.Table, r: Record, dead_letter_payloads: bool = False) -> bytes | None:
    """The JSON document a record loads as, or None for a record that cannot load."""
    if table.prepare == "raw":
        return r.value
    if table.prepare == "reference":
        return _reference_doc(r)
    if table.prepare == "entry":
        return _entry_doc(r)
    return _deadletter_doc(r, dead_letter_payloads)


def _valid_raw(topic: str, value: bytes) -> bool:
    """Is a processed/alert/score value a well-formed canonical record? (slow path only)"""
    from ... import topics as T
    from ...events.canonical import Alert, News2Score, ProcessedVital

    kind = T.BY_NAME[topic].role
    cls = Alert if topic == T.ALERTS else News2Score if topic == T.NEWS2 else ProcessedVital
    if kind not in ("processed", "alerts"):
        return True
    try:
        msgspec.json.decode(value, type=cls)
        return True
    except (msgspec.DecodeError, msgspec.ValidationError):
        return False


class WarehouseSink(Sink):
    """Loads every catalogue topic that has a table into ``warehouse`` (upsert on the key)."""

    def __init__(self, warehouse: Warehouse, topics: Sequence[str] = S.TOPICS,
                 group: str = WAREHOUSE_GROUP, dead_letter_payloads: bool = False) -> None:
        self.warehouse = warehouse
        self.dead_letter_payloads = dead_letter_payloads  # PHI: off unless configured
        self.topics = tuple(topics)
        self.group = group
        self.skipped = 0
        self._migrated = False

    def write(self, records: list[Record]) -> None:
        if not self._migrated:
            self.warehouse.migrate()
            self._migrated = True
        docs: dict[str, list[bytes]] = {}
        fed_by = S.FED_BY
        for r in records:
            doc: bytes | None = None
            for table in fed_by.get(r.topic, ()):
                if table.prepare in ("problems", "medications"):  # one row per mention in a note
                    docs.setdefault(table.name, []).extend(_mention_docs(r, table.prepare))
                    continue
                if doc is None:  # a reference record: one document for its current row and its history
                    doc = document(table, r, self.dead_letter_payloads)
                    if doc is None:
                        self.skipped += 1
                        break
                docs.setdefault(table.name, []).append(doc)
        if not docs:
            return
        try:
            self.warehouse.upsert(docs)
        except BadBatch as exc:
            # A value the database cannot convert: find it, leave it out, load the rest.
            logger.warning("warehouse rejected a batch (%s); validating it record by record",
                           type(exc.__cause__).__name__ if exc.__cause__ else "error")
            cleaned = {name: [d for d in ds if _valid_raw(S.BY_TABLE[name].topic, d)]
                       for name, ds in docs.items()}
            dropped = sum(len(v) for v in docs.values()) - sum(len(v) for v in cleaned.values())
            self.skipped += dropped
            logger.warning("left out %d invalid records", dropped)
            self.warehouse.upsert({k: v for k, v in cleaned.items() if v})

    def close(self) -> None:
        self.warehouse.close()
