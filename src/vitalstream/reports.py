"""The reports users run against the warehouse (the same SQL on DuckDB and PostgreSQL).

The three seed-0 queries read the ``v_*`` views, which join each vital with the patient's
*current* metadata, so an event whose metadata arrived after it still shows its age, history
and emergency contact. Newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .sinks.warehouse.base import Warehouse


@dataclass(frozen=True)
class Report:
    name: str
    description: str
    sql: str  # {where} and {order} are filled in; ``?`` placeholders
    time_column: str
    order: str


_PATIENT = "age, medical_history, emergency_contact"

REPORTS: dict[str, Report] = {r.name: r for r in (
    Report("low-oxygen", "SpO2 below 90 %, newest first",
           f"SELECT event_time, patient_id, spo2, {_PATIENT}, event_id FROM v_blood_oxygen "
           "WHERE spo2 < 90{where}", "event_time", "event_time DESC, event_id"),
    Report("irregular-heart-rate", "heart rate above 100 or below 60 /min, newest first",
           f"SELECT event_time, patient_id, heart_rate, {_PATIENT}, event_id FROM v_heart_rate "
           "WHERE (heart_rate > 100 OR heart_rate < 60){where}", "event_time", "event_time DESC, event_id"),
    Report("falls-elderly", "falls of patients older than 65, newest first",
           f"SELECT event_time, patient_id, fall_detected, {_PATIENT}, event_id FROM v_fall_detection "
           "WHERE fall_detected AND age > 65{where}", "event_time", "event_time DESC, event_id"),
    Report("news2", "current NEWS2 score per patient, highest first",
           "SELECT patient_id, total, band, partial, missing, scale, event_time, computed_time "
           "FROM v_news2_current WHERE TRUE{where}", "event_time", "total DESC, patient_id"),
    Report("notes", "problems and medications found in clinical notes, newest first",
           "SELECT entry_time, patient_id, kind, name, assertion, "
           "CASE WHEN assertion = 'present' THEN 'active' WHEN assertion = 'absent' THEN 'negated' "
           "ELSE assertion END AS status, detail, text, entry_id FROM ("
           "SELECT entry_time, patient_id, 'problem' AS kind, name, assertion, NULL AS detail, text, entry_id, "
           "span_start FROM note_problems UNION ALL "
           "SELECT entry_time, patient_id, 'medication', name, assertion, "
           "trim(concat_ws(' ', CAST(dose AS VARCHAR), unit, route, frequency)), text, entry_id, span_start "
           "FROM note_medications) AS mentions WHERE TRUE{where}", "entry_time",
           "entry_time DESC, patient_id, span_start"),
    Report("alerts", "alert transitions, newest first",
           "SELECT raise_time, event_time, patient_id, rule, severity, state, message, alert_id "
           "FROM alerts WHERE TRUE{where}", "event_time", "event_time DESC, raise_time DESC, alert_id"),
)}


def run_report(warehouse: Warehouse, name: str, *, limit: int | None = 100,
               since: datetime | None = None, patient: str | None = None) -> list[dict[str, Any]]:
    """Rows of report ``name``; ``since`` keeps events at or after that (aware) time,
    ``patient`` one patient's rows."""
    report = REPORTS[name]
    params: list[Any] = []
    where = ""
    if since is not None:
        if since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        where = f" AND {report.time_column} >= ?"
        params.append(since)
    if patient is not None:
        where += " AND patient_id = ?"
        params.append(patient)
    sql = report.sql.format(where=where) + f" ORDER BY {report.order}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return warehouse.rows(sql, params)
