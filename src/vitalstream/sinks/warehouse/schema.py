"""The warehouse schema, defined once for DuckDB and PostgreSQL, and its versioned migrations.

Every table is fed by one topic of the catalogue (:mod:`vitalstream.topics`, ``TopicDef.table``)
and upserted on its key. Values arrive as JSON documents (the canonical encodings of
:mod:`vitalstream.events.canonical`, or reference records re-encoded after validation); each
column says which JSON field it reads and its portable type, and each dialect turns that into
an extraction expression, so both databases load the same rows.

Views join vitals with the patient's *current* metadata at query time: ``COALESCE(current,
stream-time)``, so metadata that arrived after the vital still shows in reports.

Migrations are numbered; ``schema_migrations(version, description, applied_at)`` records the
ones applied. Add a migration, never edit an applied one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ... import topics as T

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
    prepare: str = "raw"  # how a record becomes a JSON document: see sinks.warehouse.rows

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _cols(spec: str) -> tuple[Column, ...]:
    """``"name:type name:type@field ..."`` -> columns."""
    out = []
    for item in spec.split():
        name, _, rest = item.partition(":")
        typ, _, field = rest.partition("@")
        out.append(Column(name, typ, field or None))
    return tuple(out)


VITAL = _cols(
    "event_id:text patient_id:text source:text data_type:text event_time:timestamptz "
    "heart_rate:int spo2:int systolic:int diastolic:int temperature_c:double "
    "respiratory_rate:int consciousness:text on_oxygen:bool fall_detected:bool steps:bigint "
    "sleeping:bool activity_id:bigint device_id:text latitude:double longitude:double "
    "original_timestamp:text processed_timestamp:timestamptz user_id:text age:int gender:text "
    "medical_history:text emergency_contact:text blood_type:text allergies:text "
    "last_checkup_date:text"
)


def _vital_table(topic: str) -> Table:
    table = T.BY_NAME[topic].table
    assert table is not None
    return Table(table, topic, ("event_id",), VITAL)


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
    Table("alerts", T.ALERTS, ("alert_id",), _cols(
        "alert_id:text patient_id:text rule:text severity:text state:text values:json "
        "event_time:timestamptz raise_time:timestamptz event_id:text message:text")),
    Table("news2_scores", T.NEWS2, ("score_id",), _cols(
        "score_id:text patient_id:text total:int band:text subscores:json missing:json "
        "partial:bool scale:int event_time:timestamptz computed_time:timestamptz")),
    Table("processed_entries", T.PROCESSED_ENTRIES, ("entry_id",), _cols(
        "entry_id:text patient_id:text medical_entry:text entry_time:timestamptz@timestamp "
        "processed_timestamp:timestamptz"), prepare="entry"),
    Table("dead_letters", T.DEAD_LETTERS, ("dlq_partition", "dlq_offset"), _cols(
        "dlq_partition:int dlq_offset:bigint stage:text error_class:text reason:text field:text "
        "source_topic:text source_partition:int source_offset:bigint "
        "dead_lettered_at:timestamptz key:text value:text value_base64:text"),
        prepare="deadletter"),
)
BY_TABLE: dict[str, Table] = {t.name: t for t in TABLES}
BY_TOPIC: dict[str, Table] = {t.topic: t for t in TABLES}
TOPICS: tuple[str, ...] = tuple(t.topic for t in TABLES)

_META = ("age", "gender", "medical_history", "emergency_contact", "blood_type", "allergies",
         "last_checkup_date")

# view -> (table, measure columns)
VITAL_VIEWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "v_heart_rate": ("processed_heart_rate_data", ("heart_rate",)),
    "v_blood_oxygen": ("processed_blood_oxygen_data", ("spo2",)),
    "v_blood_pressure": ("processed_blood_pressure_data", ("systolic", "diastolic")),
    "v_fall_detection": ("processed_fall_detection_data", ("fall_detected",)),
}


def create_table_sql(table: Table, dialect: int) -> str:
    cols = ", ".join(f'"{c.name}" {TYPES[c.type][dialect]}' for c in table.columns)
    key = ", ".join(f'"{k}"' for k in table.key)
    return f'CREATE TABLE IF NOT EXISTS "{table.name}" ({cols}, PRIMARY KEY ({key}))'


def vital_view_sql(view: str) -> str:
    table, measures = VITAL_VIEWS[view]
    meta = ", ".join(f"COALESCE(m.{c}, v.{c}) AS {c}" for c in _META)
    return (
        f"CREATE VIEW {view} AS SELECT v.event_id, v.patient_id, v.event_time, "
        f"{', '.join('v.' + m for m in measures)}, {meta}, v.device_id, v.original_timestamp, "
        f"v.processed_timestamp, (m.patient_id IS NOT NULL) AS has_current_metadata "
        f"FROM {table} v LEFT JOIN patient_metadata m ON m.patient_id = v.patient_id"
    )


NEWS2_CURRENT_SQL = (
    "CREATE VIEW v_news2_current AS SELECT DISTINCT ON (patient_id) * FROM news2_scores "
    "ORDER BY patient_id, event_time DESC, computed_time DESC, score_id DESC"
)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: Callable[[int], list[str]]  # dialect index (0 DuckDB, 1 PostgreSQL) -> SQL


def _v1(dialect: int) -> list[str]:
    out = [create_table_sql(t, dialect) for t in TABLES]
    out += [f"DROP VIEW IF EXISTS {v}" for v in VITAL_VIEWS]
    out += [vital_view_sql(v) for v in VITAL_VIEWS]
    out += ["DROP VIEW IF EXISTS v_news2_current", NEWS2_CURRENT_SQL]
    # report filters: newest first per vital table, current score per patient
    out += [f'CREATE INDEX IF NOT EXISTS "{t}_event_time" ON "{t}" (event_time)'
            for t, _ in VITAL_VIEWS.values()] if dialect == 1 else []
    return out


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "tables for every catalogue topic, current-metadata views", _v1),
)
LATEST = MIGRATIONS[-1].version

MIGRATIONS_TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
    "description {text} NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
)
