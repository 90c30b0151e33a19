"""History from the warehouse: patients, vital series, alerts, NEWS2, metadata, dead letters.

The same SQL runs on DuckDB and PostgreSQL (``?`` placeholders; time buckets computed from
``extract(epoch ...)`` rather than a dialect's bucketing function). Times come back as aware
datetimes; the API turns them into UTC ISO-8601.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..sinks.warehouse.schema import VITAL_TABLES
from .board import VITALS
from .store import Reader

# Numeric vitals that can be charted (consciousness is a letter, on_oxygen a flag).
CHARTED = ("heart_rate", "spo2", "systolic", "diastolic", "temperature_c", "respiratory_rate")


class History:
    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    def patients(self, search: str = "", limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """Every patient with a NEWS2 score or metadata, highest NEWS2 first."""
        where, params = "", list[Any]()
        if search:
            where = " WHERE lower(p.patient_id) LIKE ?"
            params.append(f"%{search.lower()}%")
        sql = ("SELECT p.patient_id, n.total, n.band, n.partial, n.event_time AS news2_time FROM "
               "(SELECT patient_id FROM v_news2_current UNION SELECT patient_id FROM patient_metadata) p "
               "LEFT JOIN v_news2_current n ON n.patient_id = p.patient_id" + where +
               f" ORDER BY n.total DESC NULLS LAST, p.patient_id LIMIT {int(limit)} OFFSET {int(offset)}")
        return self.reader.rows(sql, params)

    def vitals(self, patient_id: str, since: datetime, until: datetime | None = None,
               bucket_s: int = 0) -> list[dict[str, Any]]:
        """Rows ``{t, heart_rate, spo2, ...}`` oldest first; averaged per ``bucket_s`` seconds
        when given (fall_detected: any fall in the bucket)."""
        cols = ", ".join(VITALS)
        window = " AND event_time < ?" if until else ""
        parts, params = [], []
        for table in VITAL_TABLES:
            parts.append(f'SELECT event_time, {cols} FROM "{table}" WHERE patient_id = ? AND event_time >= ?{window}')
            params += [patient_id, since] + ([until] if until else [])
        union = " UNION ALL ".join(parts)
        if bucket_s <= 0:
            sql = f"SELECT event_time AS t, {', '.join(CHARTED)}, fall_detected FROM ({union}) v ORDER BY t LIMIT 20000"
        else:
            avgs = ", ".join(f"avg({c}) AS {c}" for c in CHARTED)
            sql = (f"SELECT min(event_time) AS t, {avgs}, bool_or(fall_detected) AS fall_detected FROM ({union}) v "
                   f"GROUP BY floor(extract(epoch FROM event_time) / {int(bucket_s)}) ORDER BY t LIMIT 20000")
        rows = self.reader.rows(sql, params)
        for r in rows:  # PostgreSQL's avg is numeric
            for c in CHARTED:
                if r[c] is not None:
                    r[c] = round(float(r[c]), 2)
        return rows

    def alerts(self, patient_id: str | None = None, state: str | None = None, severity: str | None = None,
               since: datetime | None = None, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        conds: list[str] = []
        params: list[Any] = []
        for col, val in (("patient_id", patient_id), ("state", state), ("severity", severity)):
            if val:
                conds.append(f"{col} = ?")
                params.append(val)
        if since is not None:
            conds.append("raise_time >= ?")
            params.append(since)
        where = (" WHERE " + " AND ".join(conds)) if conds else ""
        return self.reader.rows(
            "SELECT raise_time, event_time, patient_id, rule, severity, state, message, alert_id, event_id "
            f"FROM alerts{where} ORDER BY raise_time DESC, alert_id LIMIT {int(limit)} OFFSET {int(offset)}", params)

    def news2(self, patient_id: str, since: datetime, limit: int = 2000) -> list[dict[str, Any]]:
        return self.reader.rows(
            "SELECT event_time, total, band, partial, missing, scale FROM news2_scores "
            f"WHERE patient_id = ? AND event_time >= ? ORDER BY event_time LIMIT {int(limit)}",
            [patient_id, since])

    def metadata(self, patient_id: str) -> dict[str, Any] | None:
        rows = self.reader.rows("SELECT * FROM patient_metadata WHERE patient_id = ?", [patient_id])
        return rows[0] if rows else None

    def dead_letters(self) -> list[dict[str, Any]]:
        return self.reader.rows(
            "SELECT stage, reason, count(*) AS count, max(dead_lettered_at) AS newest FROM dead_letters "
            "GROUP BY stage, reason ORDER BY count(*) DESC LIMIT 50")

    def dead_letter_details(self, stage: str, reason: str, limit: int = 100) -> list[dict[str, Any]]:
        """The newest dead letters of one stage and reason, without their payloads (``ref`` is
        what ``vitalstream dlq show`` takes to print one in full)."""
        return self.reader.rows(
            "SELECT dead_lettered_at, CONCAT(dlq_partition, ':', dlq_offset) AS ref, error_class, field, "
            "source_topic, source_partition, source_offset, key FROM dead_letters WHERE stage = ? AND reason = ? "
            f"ORDER BY dead_lettered_at DESC, dlq_partition, dlq_offset DESC LIMIT {int(limit)}", [stage, reason])

    def latest_vitals(self) -> list[dict[str, Any]]:
        """Each patient's newest reading per vital table (to seed the live board at start)."""
        cols = ", ".join(VITALS)
        out: list[dict[str, Any]] = []
        for table in VITAL_TABLES:
            out += self.reader.rows(
                f'SELECT DISTINCT ON (patient_id) patient_id, event_time, source, device_id, {cols} '
                f'FROM "{table}" ORDER BY patient_id, event_time DESC')
        return out

    def open_alerts(self, since: datetime) -> list[dict[str, Any]]:
        """Alert transitions since ``since``, oldest first (replayed into the board at start)."""
        return self.reader.rows(
            "SELECT alert_id, patient_id, rule, severity, state, message, raise_time, event_time "
            "FROM alerts WHERE raise_time >= ? ORDER BY raise_time, alert_id", [since])

    def current_news2(self) -> list[dict[str, Any]]:
        return self.reader.rows("SELECT patient_id, total, band, partial, missing, event_time FROM v_news2_current")
