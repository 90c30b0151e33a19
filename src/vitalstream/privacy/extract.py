"""``vitalstream extract``: warehouse tables as Parquet for research, Safe Harbor style.

Each column of each extracted table is handled by one rule, chosen by its name and type
(:func:`rule_for`). Unknown text columns are dropped: a column nobody classified never leaks.

============== =====================================================================
rule           what happens
============== =====================================================================
``patient``    the patient id becomes the surrogate (or pseudonym) of the patient key
``time``       shifted by the patient's offset, or reduced to the year (``dates="year"``)
``age``        kept, but every age over 89 becomes ``"90+"`` (the column is text)
``scrub``      free text with PHI removed (:mod:`.scrub`)
``keep``       measurements, codes and categories
``drop``       identifiers (event, device, alert ids), contacts, addresses, names,
               coordinates, raw timestamps, and every unclassified text column
============== =====================================================================

Tables: every processed vital table (``vitals/``), ``patient_metadata`` as ``patients``, the
aggregates that exist (``news2_scores``, ``alerts``, and any ``agg_*`` table) and the notes
(``processed_entries`` as ``notes``). A manifest lists tables, row counts and the rules used;
the surrogate key file is written elsewhere (:mod:`.surrogates`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from ..sinks.warehouse.base import Warehouse
from ..sinks.warehouse.schema import VITAL_TABLES
from .scrub import Scrubber, names_in
from .surrogates import PatientKey

logger = logging.getLogger(__name__)

PATIENT_COLUMNS = {"patient_id", "user_id", "userid"}
TIME_TEXT_COLUMNS = {"last_checkup_date", "dob"}  # dates stored as text
SCRUB_COLUMNS = {"medical_history", "allergies", "medical_entry"}
KEEP_TEXT = {"source", "data_type", "gender", "sex", "blood_type", "consciousness", "rule", "severity", "state",
             "band", "race", "origin_country_code", "origin_country_name", "address_country_code",
             "address_country_name", "activity_name", "scale"}
KEEP_JSON = {"subscores", "missing", "values"}
DROP = {"latitude", "longitude", "emergency_contact", "address", "fname", "lname", "original_timestamp",
        "message", "key", "value", "value_base64"}
NUMERIC = ("int", "integer", "bigint", "double", "real", "float", "boolean", "bool", "numeric", "smallint", "hugeint")
TIME_TYPES = ("timestamp", "date")


def rule_for(column: str, sql_type: str) -> str:
    t = sql_type.lower()
    if column in PATIENT_COLUMNS:
        return "patient"
    if column in DROP or column.endswith("_id"):
        return "drop"
    if column == "age":
        return "age"
    if column in TIME_TEXT_COLUMNS or t.startswith(TIME_TYPES):
        return "time"
    if column in SCRUB_COLUMNS:
        return "scrub"
    if column in KEEP_TEXT or column in KEEP_JSON or t.startswith(NUMERIC):
        return "keep"
    return "drop"


@dataclass(frozen=True)
class ExtractOptions:
    dates: str = "shift"  # or "year"
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class ExtractResult:
    tables: dict[str, int] = field(default_factory=dict)  # output name -> rows
    patients: set[str] = field(default_factory=set)  # surrogates that appear
    files: list[Path] = field(default_factory=list)


def _columns(warehouse: Warehouse, table: str) -> list[tuple[str, str]]:
    rows = warehouse.rows("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                          "ORDER BY ordinal_position", [table])
    return [(str(r["column_name"]), str(r["data_type"])) for r in rows]


def tables_to_extract(existing: Iterable[str]) -> dict[str, str]:
    """output name -> warehouse table, for the tables that exist."""
    have = set(existing)
    out = {f"vitals/{t}": t for t in VITAL_TABLES if t in have}
    for name, table in (("patients", "patient_metadata"), ("news2_scores", "news2_scores"),
                        ("alerts", "alerts"), ("notes", "processed_entries")):
        if table in have:
            out[name] = table
    out |= {f"aggregates/{t}": t for t in sorted(have) if t.startswith("agg_")}
    return out


def known_phi(warehouse: Warehouse, existing: set[str]) -> tuple[list[str], list[str]]:
    """Names and identifiers the metadata knows, for the note scrubber."""
    names: list[str] = []
    ids: list[str] = []
    if "patient_metadata" in existing:
        for r in warehouse.rows("SELECT patient_id, emergency_contact, device_id FROM patient_metadata"):
            names += names_in(r["emergency_contact"])
            ids += [str(r["patient_id"]), str(r["device_id"] or "")]
    if "users" in existing:
        for r in warehouse.rows("SELECT userid, fname, lname FROM users"):
            names += [str(r["fname"] or ""), str(r["lname"] or "")]
    if "user_profiles" in existing:
        ids += [str(r["device_id"]) for r in warehouse.rows("SELECT device_id FROM user_profiles")]
    return names, ids


def _as_time(value: Any) -> datetime | date | None:
    if value is None or isinstance(value, datetime | date):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None  # an unparseable date is dropped, not kept


def transform(row: Mapping[str, Any], rules: Mapping[str, str], key: PatientKey, scrubber: Scrubber,
              dates: str) -> dict[str, Any]:
    """One de-identified row (only the columns that are not dropped)."""
    pid = next((str(row[c]) for c in ("patient_id", "userid", "user_id") if row.get(c) is not None), None)
    shift = key.shift(pid) if pid is not None else timedelta(0)
    out: dict[str, Any] = {}
    for col, rule in rules.items():
        v = row.get(col)
        if rule == "patient":
            out[col] = None if v is None else key.surrogate(str(v))
        elif rule == "time":
            t = _as_time(v)
            if t is None or (pid is None and dates != "year"):  # a date with no patient to shift it by
                out[col] = None
            else:
                out[col] = t.year if dates == "year" else t + shift
        elif rule == "age":
            out[col] = None if v is None else ("90+" if int(v) > 89 else str(int(v)))
        elif rule == "scrub":
            out[col] = scrubber.scrub(None if v is None else str(v))
        elif rule == "keep":
            out[col] = json.dumps(v) if isinstance(v, dict | list) else v
    return out


def extract(warehouse: Warehouse, out_dir: Path, key: PatientKey, options: ExtractOptions = ExtractOptions(),
            audit: Callable[[ExtractResult], None] | None = None) -> ExtractResult:
    """Write every table of :func:`tables_to_extract` as Parquet under ``out_dir``; ``audit``
    runs after the files are written and before the manifest that marks the extract complete."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    existing = {str(r["table_name"]) for r in warehouse.rows("SELECT table_name FROM information_schema.tables")}
    names, ids = known_phi(warehouse, existing)
    scrubber = Scrubber(names, ids)
    result = ExtractResult()
    manifest: dict[str, Any] = {"dates": options.dates, "patient_ids": key.kind, "tables": {}}
    for name, table in tables_to_extract(existing).items():
        cols = _columns(warehouse, table)
        rules = {c: rule_for(c, t) for c, t in cols}
        where, params = _window(cols, options)
        rows = warehouse.rows(f'SELECT * FROM "{table}"{where}', params)
        done = [transform(r, rules, key, scrubber, options.dates) for r in rows]
        for r in done:
            result.patients.update(str(r[c]) for c in PATIENT_COLUMNS if r.get(c) is not None)
        kept = [c for c, rule in rules.items() if rule != "drop"]
        path = out_dir / f"{name}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(done, schema=None) if done else pa.table({c: [] for c in kept}), path)
        result.tables[name] = len(done)
        result.files.append(path)
        manifest["tables"][name] = {"rows": len(done), "columns": {c: rules[c] for c, _ in cols}}
    manifest["patients"] = len(result.patients)
    if audit is not None:
        audit(result)
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    logger.info("extract: %d tables, %d patients", len(result.tables), len(result.patients))
    return result


def _window(cols: list[tuple[str, str]], options: ExtractOptions) -> tuple[str, list[Any]]:
    names = {c for c, _ in cols}
    column = next((c for c in ("event_time", "timestamp", "entry_time") if c in names), None)
    if column is None:
        return "", []
    clauses, params = [], []
    if options.since is not None:
        clauses.append(f'"{column}" >= ?')
        params.append(options.since)
    if options.until is not None:
        clauses.append(f'"{column}" < ?')
        params.append(options.until)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


__all__ = ["ExtractOptions", "ExtractResult", "extract", "rule_for", "tables_to_extract", "transform"]
