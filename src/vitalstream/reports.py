"""The reports users run against the warehouse (the same SQL on DuckDB and PostgreSQL).

The research reports (the heart-rate stream's questions) read the warehouse model that ``vitalstream model
build`` (or ``up`` on its schedule) keeps current: each event with the user and activity
*versions valid at its time*, so a user who moved counts under the country they lived in then.

The three vitals queries read the ``v_*`` views, which join each vital with the patient's
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
    needs_model: bool = False  # reads the dbt model's tables (`vitalstream model build` first)


_PATIENT = "age, medical_history, emergency_contact"
_AVG_HR = "CAST(round(CAST(avg(f.heart_rate) AS NUMERIC), 1) AS DOUBLE PRECISION) AS avg_heart_rate"
_USER = "LEFT JOIN dim_users u ON u.user_sk = f.user_sk"
_ACTIVITY = "LEFT JOIN dim_activities a ON a.activity_sk = f.activity_sk"
# age in whole decades at the event (dob is YYYYMMDD): 30 means 30-39
_AGE_BAND = ("CAST(floor((CAST(f.date_key AS INTEGER) - CAST(u.dob AS INTEGER)) / 100000.0) * 10 AS INTEGER)")
_SEASON = "CASE WHEN f.latitude < 0 THEN d.season_southern ELSE d.season_northern END"

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
    # -- research questions over the warehouse model (the heart-rate stream's questions) --------------------------------
    Report("hr-by-activity", "heart rate by activity (the activity's name at the event time)",
           "SELECT coalesce(a.activity_name, '(unknown)') AS activity, count(*) AS events, "
           f"{_AVG_HR}, min(f.heart_rate) AS min_heart_rate, max(f.heart_rate) AS max_heart_rate "
           f"FROM fct_heart_rates f {_ACTIVITY} WHERE TRUE{{where}} GROUP BY 1",
           "f.event_time", "avg_heart_rate DESC, activity", needs_model=True),
    Report("hr-by-demographics", "heart rate by age band (decade), sex and country of residence at the event time",
           f"SELECT {_AGE_BAND} AS age_band, coalesce(u.sex, '?') AS sex, "
           "coalesce(u.address_country_code, '?') AS country, count(*) AS events, "
           f"count(DISTINCT f.user_id) AS users, {_AVG_HR} FROM fct_heart_rates f {_USER} "
           "WHERE TRUE{where} GROUP BY 1, 2, 3", "f.event_time", "age_band, sex, country", needs_model=True),
    Report("seasonal", "heart rate by month and meteorological season (by the hemisphere of the event's location)",
           f"SELECT d.month, {_SEASON} AS season, count(*) AS events, {_AVG_HR} "
           "FROM fct_heart_rates f JOIN dim_dates d ON d.date_key = f.date_key WHERE TRUE{where} "
           "GROUP BY 1, 2", "f.event_time", "month, season", needs_model=True),
    Report("activity-by-daypart", "likelihood of each activity by day part (UTC) and country: its share of the events there",
           "SELECT t.day_part, coalesce(u.address_country_code, '?') AS country, "
           "coalesce(a.activity_name, '(unknown)') AS activity, count(*) AS events, "
           "CAST(round(CAST(count(*) AS NUMERIC) / sum(count(*)) OVER (PARTITION BY t.day_part, "
           "coalesce(u.address_country_code, '?')), 3) AS DOUBLE PRECISION) AS share "
           f"FROM fct_heart_rates f JOIN dim_times t ON t.time_key = f.time_key {_USER} {_ACTIVITY} "
           "WHERE TRUE{where} GROUP BY 1, 2, 3", "f.event_time", "day_part, country, share DESC, activity",
           needs_model=True),
    Report("sleep", "smartwatch days: steps and average heart rate during sleep, newest first",
           "SELECT user_id, event_date, iso_year, iso_week, total_steps, avg_heart_rate, sleep_events, events "
           "FROM daily_aggregates WHERE TRUE{where}", "event_date", "event_date DESC, user_id", needs_model=True),
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
