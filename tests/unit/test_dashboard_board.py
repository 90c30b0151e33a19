"""The live board's state: latest value per vital, NEWS2, alert episodes, acknowledgements,
risk order and change tracking (what the server-sent events push)."""

from __future__ import annotations

import msgspec

from vitalstream import topics as T
from vitalstream.dashboard.board import Board


def put(board: Board, topic: str, **doc: object) -> None:
    board.apply(topic, msgspec.json.encode(doc))


def test_latest_value_per_vital_wins_by_event_time() -> None:
    b = Board()
    put(b, T.PROCESSED_HEART_RATE, patient_id="P1", event_time="2026-01-01T00:00:10Z", heart_rate=80, source="vitals")
    put(b, T.PROCESSED_HEART_RATE, patient_id="P1", event_time="2026-01-01T00:00:05Z", heart_rate=70, spo2=97)
    row = b.row("P1")
    assert row is not None
    assert row["vitals"]["heart_rate"] == {"v": 80, "t": "2026-01-01T00:00:10Z"}  # the older 70 is ignored
    assert row["vitals"]["spo2"]["v"] == 97 and row["sources"] == ["vitals"]


def test_alert_episode_escalates_clears_and_keeps_acknowledgements() -> None:
    b = Board()
    put(b, T.ALERTS, patient_id="P1", alert_id="a1", rule="fever", severity="medium", state="raised",
        raise_time="2026-01-01T00:00:00Z")
    put(b, T.ALERT_ACKS, patient_id="P1", rule="fever", by="cleo", at="2026-01-01T00:01:00Z")
    put(b, T.ALERTS, patient_id="P1", alert_id="a2", rule="fever", severity="high", state="escalated",
        raise_time="2026-01-01T00:02:00Z")
    [alert] = b.row("P1")["alerts"]  # type: ignore[index]
    assert alert["severity"] == "high" and alert["since"] == "2026-01-01T00:00:00Z" and alert["acked_by"] == "cleo"
    put(b, T.ALERTS, patient_id="P1", alert_id="a3", rule="fever", severity="high", state="cleared",
        raise_time="2026-01-01T00:03:00Z")
    assert b.row("P1")["alerts"] == []  # type: ignore[index]
    put(b, T.ALERTS, patient_id="P1", alert_id="a4", rule="fever", severity="medium", state="raised",
        raise_time="2026-01-01T00:04:00Z")
    assert b.row("P1")["alerts"][0]["acked_by"] == ""  # type: ignore[index]  # a new episode needs a new ack


def test_rows_sorted_by_risk_and_changes_since_a_version() -> None:
    b = Board()
    put(b, T.NEWS2, patient_id="low", total=1, band="low", partial=False, missing=[], event_time="2026-01-01T00:00:00Z")
    put(b, T.NEWS2, patient_id="mid", total=6, band="medium", partial=True, missing=["spo2"],
        event_time="2026-01-01T00:00:00Z")
    v = b.version
    put(b, T.ALERTS, patient_id="low", alert_id="x", rule="fall", severity="critical", state="raised",
        raise_time="2026-01-01T00:00:00Z")
    assert [r["patient_id"] for r in b.rows()] == ["low", "mid"]  # a critical alert outranks NEWS2 6
    version, changed = b.changes(v)
    assert version == b.version and [r["patient_id"] for r in changed] == ["low"]
    assert b.changes(version)[1] == []


def test_unreadable_records_are_ignored() -> None:
    b = Board()
    b.apply(T.ALERTS, b"not json")
    b.apply(T.ALERTS, b'["no", "patient"]')
    assert len(b) == 0 and b.version == 0
