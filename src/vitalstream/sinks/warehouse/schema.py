"""The warehouse schema, defined once for DuckDB and PostgreSQL, and its versioned migrations.

Every table is fed by one topic of the catalogue (:mod:`vitalstream.topics`, ``TopicDef.table``)
and upserted on its key. Values arrive as JSON documents (the canonical encodings of
:mod:`vitalstream.events.canonical`, or reference records re-encoded after validation); each
column says which JSON field it reads and its portable type, and each :class:`Dialect` turns
that into its own SQL, so both databases load the same rows.

The processed-vital, alert and NEWS2 columns are *derived* from their msgspec structs
(:func:`columns_of`): a field added to ``ProcessedVital`` becomes a column of every vital table,
and :func:`missing_columns` adds it to an existing warehouse on the next ``migrate``.

Vital tables keep the *first* row of an identity (``keep="first"``: an event's content never
changes once stored; a re-delivery is a no-op); every other table keeps the latest document.

Views join vitals with the patient's *current* metadata at query time: ``COALESCE(current,
stream-time)``, so metadata that arrived after the vital still shows in reports.

Migrations are numbered; ``schema_migrations(version, description, applied_at)`` records the
ones applied. Add a migration, never edit an applied one.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import msgspec
import msgspec.inspect as mi

from ... import topics as T
from ...events.canonical import ENRICHMENT, Alert, News2Score, ProcessedVital
from ...events.ids import SCOPE_PREFIX


class Dialect(enum.Enum):
    """The SQL a backend speaks, where DuckDB and PostgreSQL differ."""

    DUCKDB = "duckdb"
    POSTGRESQL = "postgresql"

    def sql_type(self, portable: str) -> str:
        return TYPES[portable][self is Dialect.POSTGRESQL]

    def bind(self, sql: str) -> str:
        """``?`` placeholders in this dialect's parameter style."""
        return sql if self is Dialect.DUCKDB else sql.replace("%", "%%").replace("?", "%s")

    def sha256_hex(self, text_expr: str) -> str:
        """Lowercase hex SHA-256 of a text expression's UTF-8 bytes."""
        if self is Dialect.DUCKDB:
            return f"sha256({text_expr})"
        return f"encode(sha256(convert_to({text_expr}, 'UTF8')), 'hex')"


# portable type -> (DuckDB, PostgreSQL)
TYPES: dict[str, tuple[str, str]] = {
    "text": ("VARCHAR", "TEXT"),
    "int": ("INTEGER", "INTEGER"),
    "bigint": ("BIGINT", "BIGINT"),
    "double": ("DOUBLE", "DOUBLE PRECISION"),
    "bool": ("BOOLEAN", "BOOLEAN"),
    "timestamptz": ("TIMESTAMPTZ", "TIMESTAMPTZ"),
    "json": ("JSON", "JSONB"),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # a key of TYPES
    field: str | None = None  # JSON field (default: the column name)

    @property
    def source(self) -> str:
        return self.field or self.name


@dataclass(frozen=True)
class Table:
    name: str
    topic: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    prepare: str = "raw"  # how a record becomes a JSON document: see sinks.warehouse.documents
    keep: Literal["last", "first"] = "last"  # which document of a key the table holds
    # The high-volume tables: on DuckDB they have no key index (migration 5); a batch is checked
    # against the rows whose ``window`` time is at least the batch's earliest (see duckdb.py).
    window: str | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def key_sql(self) -> str:
        return ", ".join(q(k) for k in self.key)

    @property
    def kept_order(self) -> str:
        """``ORDER BY`` term (after the key) that puts the kept document of a key first;
        ``n`` numbers the documents of a batch in log order."""
        return "n" if self.keep == "first" else "n DESC"

    def on_conflict_sql(self) -> str:
        """What an insert does with a key the table already holds (same SQL in both dialects)."""
        if self.keep == "first":
            return f"ON CONFLICT ({self.key_sql}) DO NOTHING"
        updates = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in self.column_names if c not in self.key)
        return f"ON CONFLICT ({self.key_sql}) DO UPDATE SET {updates}"


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _cols(spec: str) -> tuple[Column, ...]:
    """``"name:type name:type@field ..."`` -> columns."""
    out = []
    for item in spec.split():
        name, _, rest = item.partition(":")
        typ, _, field = rest.partition("@")
        out.append(Column(name, typ, field or None))
    return tuple(out)


_PORTABLE: dict[type[mi.Type], str] = {
    mi.StrType: "text", mi.LiteralType: "text", mi.IntType: "int", mi.FloatType: "double",
    mi.BoolType: "bool", mi.DateTimeType: "timestamptz", mi.DictType: "json",
    mi.ListType: "json",
}


def portable_type(t: mi.Type) -> str:
    """The portable column type of a msgspec field type (``X | None`` is X)."""
    while isinstance(t, mi.Metadata):
        t = t.type
    if isinstance(t, mi.UnionType):
        members = [m for m in t.types if not isinstance(m, mi.NoneType)]
        if len(members) == 1:
            return portable_type(members[0])
        return "json"
    try:
        return _PORTABLE[type(t)]
    except KeyError:
        raise TypeError(f"no column type for {t!r}: extend schema._PORTABLE") from None


def columns_of(struct: type[msgspec.Struct], key: Iterable[str] = (),
               wider: Mapping[str, str] | None = None) -> tuple[Column, ...]:
    """One column per struct field, key columns first; ``wider`` overrides a portable type."""
    info = mi.type_info(struct)
    assert isinstance(info, mi.StructType)
    wider = wider or {}
    cols = {f.name: Column(f.name, wider.get(f.name) or portable_type(f.type)) for f in info.fields}
    first = [cols.pop(k) for k in key]
    return (*first, *cols.values())


# Counters and heart-rate stream ids were BIGINT from the first schema: keep them that wide.
VITAL = columns_of(ProcessedVital, ("event_id",), wider={"steps": "bigint", "activity_id": "bigint"})


def _vital_table(topic: str) -> Table:
    table = T.BY_NAME[topic].table
    assert table is not None
    return Table(table, topic, ("event_id",), VITAL, keep="first", window="event_time")


_MENTION = ("entry_id:text span_start:int@start span_end:int@end patient_id:text "
            "entry_time:timestamptz@timestamp text:text assertion:text")

TABLES: tuple[Table, ...] = (
    *(_vital_table(t.name) for t in T.CATALOGUE if t.role == "processed"),
    Table("patient_metadata", T.PATIENT_METADATA, ("patient_id",), _cols(
        "patient_id:text age:int gender:text medical_history:text emergency_contact:text "
        "blood_type:text allergies:text last_checkup_date:text device_id:text "
        "updated_at:timestamptz"), prepare="reference"),
    Table("users", T.HR_USERS, ("userid",), _cols(
        "userid:bigint fname:text lname:text dob:text sex:text height:double weight:double "
        "blood_type:text race:text origin_country_code:text origin_country_name:text "
        "address:text address_country_code:text address_country_name:text "
        "last_update:timestamptz updated_at:timestamptz"), prepare="reference"),
    Table("activities", T.HR_ACTIVITIES, ("activity_id",), _cols(
        "activity_id:bigint activity_name:text last_update:timestamptz updated_at:timestamptz"),
        prepare="reference"),
    Table("user_profiles", T.USER_PROFILES, ("device_id",), _cols(
        "device_id:text user_id:text age:int gender:text updated_at:timestamptz"),
        prepare="reference"),
    # an alert's id covers its triggering event, a score's its minute: a key has one event_time
    Table("alerts", T.ALERTS, ("alert_id",), columns_of(Alert, ("alert_id",)), window="event_time"),
    Table("news2_scores", T.NEWS2, ("score_id",), columns_of(News2Score, ("score_id",)), window="event_time"),
    Table("processed_entries", T.PROCESSED_ENTRIES, ("entry_id",), _cols(
        "entry_id:text patient_id:text medical_entry:text entry_time:timestamptz@timestamp "
        "processed_timestamp:timestamptz problems:json medications:json"), prepare="entry"),
    # one row per mention found in a processed entry (vitalstream.notes), keyed by its place
    Table("note_problems", T.PROCESSED_ENTRIES, ("entry_id", "span_start"), _cols(
        f"{_MENTION} name:text"), prepare="problems"),
    Table("note_medications", T.PROCESSED_ENTRIES, ("entry_id", "span_start"), _cols(
        f"{_MENTION} name:text dose:double unit:text route:text frequency:text"), prepare="medications"),
    Table("dead_letters", T.DEAD_LETTERS, ("dlq_partition", "dlq_offset"), _cols(
        "dlq_partition:int dlq_offset:bigint stage:text error_class:text reason:text field:text "
        "source_topic:text source_partition:int source_offset:bigint "
        "dead_lettered_at:timestamptz key:text value:text value_base64:text"),
        prepare="deadletter"),
)


def history_of(current: Table, version: str) -> Table:
    """Every version of a reference record: ``<table>_history`` keyed by (id, ``version``).

    Fed by the same topic as ``current`` (which keeps only the latest), so a type-2 dimension
    stays exact when the compacted topic has dropped old versions or the model runs rarely.
    ``version`` is the record's own ``last_update``, or ``updated_at`` (its arrival time in the
    log) for records without one. A re-delivered record has the same key: it adds nothing."""
    return Table(f"{current.name}_history", current.topic, (current.key[0], version),
                 current.columns, prepare=current.prepare, keep="first")


HISTORY: tuple[Table, ...] = tuple(
    history_of(t, "last_update" if "last_update" in t.column_names else "updated_at")
    for t in TABLES if t.prepare == "reference")
V1_TABLES = TABLES  # what migration 1 created
TABLES += HISTORY
BY_TABLE: dict[str, Table] = {t.name: t for t in TABLES}
# A topic feeds one table; a reference topic its table and its history (the same document);
# processed-entries its table and the two tables of mentions.
FED_BY: dict[str, tuple[Table, ...]] = {}
for _t in TABLES:
    FED_BY[_t.topic] = (*FED_BY.get(_t.topic, ()), _t)
BY_TOPIC: dict[str, Table] = {topic: tables[0] for topic, tables in FED_BY.items()}
TOPICS: tuple[str, ...] = tuple(FED_BY)

VITAL_TABLES: tuple[str, ...] = tuple(t.name for t in TABLES if t.columns is VITAL)
# enrichment a vital carries from stream time that the current metadata may supersede
_META = tuple(f for f in ENRICHMENT if f in BY_TABLE["patient_metadata"].column_names)

# view -> (table, measure columns)
VITAL_VIEWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "v_heart_rate": ("processed_heart_rate_data", ("heart_rate",)),
    "v_blood_oxygen": ("processed_blood_oxygen_data", ("spo2",)),
    "v_blood_pressure": ("processed_blood_pressure_data", ("systolic", "diastolic")),
    "v_fall_detection": ("processed_fall_detection_data", ("fall_detected",)),
}


def create_table_sql(table: Table, dialect: Dialect) -> str:
    cols = ", ".join(f'"{c.name}" {dialect.sql_type(c.type)}' for c in table.columns)
    key = ", ".join(f'"{k}"' for k in table.key)
    return f'CREATE TABLE IF NOT EXISTS "{table.name}" ({cols}, PRIMARY KEY ({key}))'


def missing_columns(dialect: Dialect, existing: Iterable[tuple[str, str]]) -> list[str]:
    """``ALTER TABLE ... ADD COLUMN`` for each declared column an existing table lacks.

    ``existing`` is the database's (table, column) pairs. Tables the database does not have
    yet are left to the migrations that create them."""
    have: dict[str, set[str]] = {}
    for table, column in existing:
        have.setdefault(table, set()).add(column)
    return [f'ALTER TABLE "{t.name}" ADD COLUMN "{c.name}" {dialect.sql_type(c.type)}'
            for t in TABLES if t.name in have for c in t.columns if c.name not in have[t.name]]


def vital_view_sql(view: str) -> str:
    table, measures = VITAL_VIEWS[view]
    meta = ", ".join(f"COALESCE(m.{c}, v.{c}) AS {c}" for c in _META)
    return (
        f"CREATE VIEW {view} AS SELECT v.event_id, v.source_event_id, v.patient_id, v.event_time, "
        f"{', '.join('v.' + m for m in measures)}, {meta}, v.device_id, v.original_timestamp, "
        f"v.processed_timestamp, (m.patient_id IS NOT NULL) AS has_current_metadata "
        f"FROM {table} v LEFT JOIN patient_metadata m ON m.patient_id = v.patient_id"
    )


def _vital_views() -> list[str]:
    return [*(f"DROP VIEW IF EXISTS {v}" for v in VITAL_VIEWS), *map(vital_view_sql, VITAL_VIEWS)]


NEWS2_CURRENT_SQL = (
    "CREATE VIEW v_news2_current AS SELECT DISTINCT ON (patient_id) * FROM news2_scores "
    "ORDER BY patient_id, event_time DESC, computed_time DESC, score_id DESC"
)


def scoped_event_id_sql(dialect: Dialect, patient: str, client_id: str) -> str:
    """:func:`vitalstream.events.ids.scoped_event_id` as a SQL expression over two columns."""
    name = (f"'{SCOPE_PREFIX}' || chr(31) || CAST(length({patient}) AS {dialect.sql_type('text')}) "
            f"|| chr(31) || {patient} || chr(31) || {client_id}")
    h = dialect.sha256_hex(name)
    variant = (f"CASE WHEN substr({h}, 17, 1) IN ('0', '4', '8', 'c') THEN '8' "
               f"WHEN substr({h}, 17, 1) IN ('1', '5', '9', 'd') THEN '9' "
               f"WHEN substr({h}, 17, 1) IN ('2', '6', 'a', 'e') THEN 'a' ELSE 'b' END")
    return (f"substr({h}, 1, 8) || '-' || substr({h}, 9, 4) || '-8' || substr({h}, 14, 3) || '-' "
            f"|| {variant} || substr({h}, 18, 3) || '-' || substr({h}, 21, 12)")


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: Callable[[Dialect], list[str]]


def _v1(dialect: Dialect) -> list[str]:
    out = [create_table_sql(t, dialect) for t in V1_TABLES]
    out += _vital_views()
    out += ["DROP VIEW IF EXISTS v_news2_current", NEWS2_CURRENT_SQL]
    # report filters: newest first per vital table, current score per patient
    out += [f'CREATE INDEX IF NOT EXISTS "{t}_event_time" ON "{t}" (event_time)'
            for t, _ in VITAL_VIEWS.values()] if dialect is Dialect.POSTGRESQL else []
    return out


def _v2(dialect: Dialect) -> list[str]:
    """Rows stored under a client's bare event_id move to the patient-scoped identity the
    processor now gives them, so a re-processed old event lands on its old row; alerts follow
    the event they point to. (``source_event_id`` itself was added by :func:`missing_columns`.)"""
    scoped = scoped_event_id_sql(dialect, "patient_id", "event_id")
    out = [f'UPDATE "{t}" SET source_event_id = event_id, event_id = {scoped} '
           "WHERE source = 'vitals' AND source_event_id IS NULL" for t in VITAL_TABLES]
    pointed = " OR ".join(f'EXISTS (SELECT 1 FROM "{t}" v WHERE v.source = \'vitals\' '
                          f"AND v.source_event_id = alerts.event_id AND v.patient_id = alerts.patient_id)"
                          for t in VITAL_TABLES)
    out.append(f"UPDATE alerts SET event_id = {scoped_event_id_sql(dialect, 'patient_id', 'event_id')} "
               f"WHERE {pointed}")
    return out + _vital_views()


def _v3(dialect: Dialect) -> list[str]:
    """History tables, started from the current rows (the versions the warehouse still has),
    and the table where scheduled model runs leave their results."""
    out = []
    for h in HISTORY:
        cols = ", ".join(q(c) for c in h.column_names)
        current = h.name.removesuffix("_history")
        out += [create_table_sql(h, dialect),
                f"INSERT INTO {q(h.name)} ({cols}) SELECT {cols} FROM {q(current)} "
                f"WHERE {' AND '.join(f'{q(k)} IS NOT NULL' for k in h.key)} {h.on_conflict_sql()}"]
    text, ts = dialect.sql_type("text"), dialect.sql_type("timestamptz")
    out.append(f"CREATE TABLE IF NOT EXISTS model_runs (started_at {ts} NOT NULL, command {text} NOT NULL, "
               f"ok BOOLEAN NOT NULL, duration_s {dialect.sql_type('double')} NOT NULL, models INTEGER NOT NULL, "
               f"tests INTEGER NOT NULL, rows_affected BIGINT NOT NULL, failed {text}, message {text}, "
               f"PRIMARY KEY (started_at, command))")
    return out


def _v4(dialect: Dialect) -> list[str]:
    """Problems and medications of clinical notes, one row per mention (the entries' own
    ``problems``/``medications`` JSON columns were added by :func:`missing_columns`)."""
    out = [create_table_sql(BY_TABLE[t], dialect) for t in ("note_problems", "note_medications")]
    return out + [f'CREATE INDEX IF NOT EXISTS "{t}_patient" ON "{t}" (patient_id, name)'
                  for t in ("note_problems", "note_medications")]


def _v5(dialect: Dialect) -> list[str]:
    """DuckDB: the vital, alert and NEWS2 tables lose their primary key. DuckDB checks
    ``ON CONFLICT`` against the whole table (its cost grew with the table: ~90 ms a batch at
    2M rows); the sink now keeps these tables exact with an anti-join over a time window
    instead (docs/warehouse.md, "Idempotent loads"). DuckDB cannot drop a constraint, so each
    table is copied, in ``event_time`` order (the window's scan then skips old row groups).
    PostgreSQL keeps its keys: its B-tree serves the merge well."""
    if dialect is not Dialect.DUCKDB:
        return []
    out = []
    for t in TABLES:
        if t.window:
            copy = q(f"{t.name}__v5")
            out += [f"DROP TABLE IF EXISTS {copy}",
                    f"CREATE TABLE {copy} AS SELECT * FROM {q(t.name)} ORDER BY {q(t.window)}",
                    f"DROP TABLE {q(t.name)}", f"ALTER TABLE {copy} RENAME TO {q(t.name)}"]
    return out + _vital_views() + ["DROP VIEW IF EXISTS v_news2_current", NEWS2_CURRENT_SQL]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "tables for every catalogue topic, current-metadata views", _v1),
    Migration(2, "event identity scoped to the patient: event_id derived, the client's id in "
                 "source_event_id", _v2),
    Migration(3, "history tables: every version of users, activities, user profiles and patient "
                 "metadata; model_runs", _v3),
    Migration(4, "clinical notes: note_problems and note_medications, one row per mention", _v4),
    Migration(5, "DuckDB: vital, alert and NEWS2 tables without a key index (idempotent by a "
                 "windowed anti-join)", _v5),
)
LATEST = MIGRATIONS[-1].version


def migrations_table_sql(dialect: Dialect) -> str:
    return ("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
            f"description {dialect.sql_type('text')} NOT NULL, applied_at TIMESTAMPTZ NOT NULL)")
