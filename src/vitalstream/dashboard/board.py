"""The live patient board: the latest of everything per patient, in memory.

Fed record by record from the log (:mod:`.feed`): processed vitals give each vital's latest
value and time, ``news2-scores`` the current NEWS2, ``alerts`` the active alert episodes
(raised/escalated until cleared), ``alert-acks`` who acknowledged them. Rows are plain dicts,
ready for JSON; every change bumps a version so the server-sent-events stream pushes only the
rows that changed since the last push. Sorted by risk: the most severe active alert first,
then the NEWS2 total, then the patient id.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import msgspec

from .. import metrics
from .. import topics as T

VITALS = ("heart_rate", "spo2", "systolic", "diastolic", "temperature_c", "respiratory_rate",
          "consciousness", "on_oxygen", "fall_detected")
SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}
_decode = msgspec.json.Decoder()


def iso(value: Any) -> str:
    """A UTC ISO-8601 string ending in Z (from a datetime or an ISO string)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return str(value.astimezone(UTC).isoformat()).replace("+00:00", "Z")
    return str(value).replace("+00:00", "Z")


def risk_key(row: dict[str, Any]) -> tuple[int, int, str]:
    sev = max((SEVERITY_RANK.get(a["severity"], 0) for a in row["alerts"]), default=0)
    total = row["news2"]["total"] if row["news2"] else -1
    return (-sev, -total, row["patient_id"])


class Board:
    def __init__(self) -> None:
        self._rows: dict[str, dict[str, Any]] = {}
        self._changed: dict[str, int] = {}
        self._acks: dict[tuple[str, str], dict[str, str]] = {}  # (patient, rule) -> latest ack
        self.version = 0
        self.lock = threading.Lock()

    # -- applying records -------------------------------------------------------------------
    def apply(self, topic: str, value: bytes) -> None:
        try:
            doc = _decode.decode(value)
        except msgspec.DecodeError:
            return  # the processor only writes valid JSON; anything else is not ours to show
        if not isinstance(doc, dict) or not isinstance(doc.get("patient_id"), str):
            return
        with self.lock:
            if topic == T.ALERTS:
                self._alert(doc)
            elif topic == T.NEWS2:
                self._news2(doc)
            elif topic == T.ALERT_ACKS:
                self._ack(doc)
            else:
                self._vital(doc)
            self.version += 1
            self._changed[doc["patient_id"]] = self.version

    def _row(self, pid: str) -> dict[str, Any]:
        row = self._rows.get(pid)
        if row is None:
            row = self._rows[pid] = {"patient_id": pid, "vitals": {}, "news2": None, "alerts": [],
                                     "sources": [], "devices": [], "updated": ""}
        return row

    def _vital(self, doc: dict[str, Any]) -> None:
        row = self._row(doc["patient_id"])
        t = iso(doc.get("event_time", ""))
        for f in VITALS:
            v = doc.get(f)
            if v is not None and t >= row["vitals"].get(f, {}).get("t", ""):
                row["vitals"][f] = {"v": v, "t": t}
        for key, field in (("sources", "source"), ("devices", "device_id")):
            v = doc.get(field)
            if v and v not in row[key]:
                row[key] = sorted([*row[key], v])
        row["updated"] = max(row["updated"], t)

    def _news2(self, doc: dict[str, Any]) -> None:
        row = self._row(doc["patient_id"])
        t = iso(doc.get("event_time", ""))
        if row["news2"] is None or t >= row["news2"]["t"]:
            row["news2"] = {"total": doc.get("total", 0), "band": doc.get("band", ""),
                            "partial": bool(doc.get("partial")), "missing": doc.get("missing", []),
                            "t": t}

    def _alert(self, doc: dict[str, Any]) -> None:
        row = self._row(doc["patient_id"])
        rule, state = doc.get("rule", ""), doc.get("state", "")
        kept = [a for a in row["alerts"] if a["rule"] != rule]
        current = next((a for a in row["alerts"] if a["rule"] == rule), None)
        metrics.alert(rule, str(doc.get("severity", "")), state)
        if state != "cleared":
            since = current["since"] if current and state == "escalated" else iso(doc.get("raise_time", ""))
            alert = {"alert_id": doc.get("alert_id", ""), "rule": rule, "severity": doc.get("severity", ""),
                     "state": state, "since": since, "message": doc.get("message", ""),
                     "acked_by": "", "acked_at": ""}
            kept.append(alert)
        row["alerts"] = kept
        self._mark_acks(row)

    def _ack(self, doc: dict[str, Any]) -> None:
        self._acks[(doc["patient_id"], doc.get("rule", ""))] = {"by": doc.get("by", ""), "at": doc.get("at", "")}
        if doc["patient_id"] in self._rows:
            self._mark_acks(self._rows[doc["patient_id"]])

    def _mark_acks(self, row: dict[str, Any]) -> None:
        for a in row["alerts"]:
            ack = self._acks.get((row["patient_id"], a["rule"]))
            if ack and ack["at"] >= a["since"]:  # an acknowledgement of this episode
                a["acked_by"], a["acked_at"] = ack["by"], ack["at"]

    # -- reading ----------------------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        with self.lock:
            rows = [_copy(r) for r in self._rows.values()]
        return sorted(rows, key=risk_key)

    def row(self, pid: str) -> dict[str, Any] | None:
        with self.lock:
            r = self._rows.get(pid)
            return _copy(r) if r else None

    def changes(self, since: int) -> tuple[int, list[dict[str, Any]]]:
        """(current version, the rows changed after version ``since``)."""
        with self.lock:
            ids = [pid for pid, v in self._changed.items() if v > since]
            return self.version, [_copy(self._rows[p]) for p in ids if p in self._rows]

    def __len__(self) -> int:
        return len(self._rows)


def _copy(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["vitals"] = dict(row["vitals"])
    out["alerts"] = [dict(a) for a in row["alerts"]]
    return out
