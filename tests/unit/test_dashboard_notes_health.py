"""The dashboard on an embedded DuckDB warehouse: a patient's clinical notes with their problems
and medications (page and read API, paginated, audited), the last model run on the health page
and in the API, reports that need the model or filter by patient, dead-letter details."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration", "browser"))

from dashboard_helpers import NOTE, PASSWORD, model_run, note_records, serve_app

from vitalstream import audit
from vitalstream.config import load
from vitalstream.dashboard.accounts import add_account
from vitalstream.dashboard.app import create_app
from vitalstream.dashboard.health import last_model_run
from vitalstream.dashboard.notes import segments
from vitalstream.dashboard.server import build
from vitalstream.model.schedule import record
from vitalstream.sinks.warehouse import WarehouseSink, open_warehouse

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    settings = load(environ={}, overrides={"home": str(tmp_path_factory.mktemp("dashboard-notes"))})
    for name, role in (("cleo", "clinician"), ("ana", "analyst")):
        add_account(settings, name, role, PASSWORD)
    with open_warehouse(settings.warehouse_url) as wh:  # as the warehouse sink loads them
        WarehouseSink(wh).process(note_records("P7", [NOW - timedelta(days=2), NOW - timedelta(hours=1)]))
    record(settings.warehouse_url, model_run(ok=True))
    record(settings.warehouse_url, _newer_failed_run())  # the newest is the one shown
    ctx, access = build(settings, threading.Event())
    try:
        with serve_app(create_app(ctx)) as url, httpx.Client(base_url=url, timeout=30) as client:
            yield ctx, client
    finally:
        access.close()
        ctx.log.close()


def _newer_failed_run() -> Any:
    run = model_run(ok=False)
    run.started_at += timedelta(minutes=1)
    return run


def _as(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {name}:{PASSWORD}"}


def test_notes_in_the_api_paginated_newest_first_and_audited(dash: Any) -> None:
    ctx, c = dash
    r = c.get("/api/v1/patients/P7/notes?limit=1", headers=_as("cleo"))
    assert r.status_code == 200
    page = r.json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (2, 1, 0, 1)
    note = page["items"][0]
    assert note["text"] == NOTE and note["time"] == (NOW - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    status = {p["text"]: (p["name"], p["assertion"], p["status"]) for p in note["problems"]}
    assert status == {"diabetes": ("diabetes mellitus", "historical", "historical"),
                      "chest pain": ("chest pain", "absent", "negated"),
                      "breast cancer": ("breast neoplasms", "family", "family"),
                      "pneumonia": ("pneumonia", "possible", "uncertain")}
    [med] = note["medications"]
    assert {k: med[k] for k in ("name", "dose", "unit", "route", "frequency", "status")} == {
        "name": "metformin", "dose": 500.0, "unit": "mg", "route": "oral", "frequency": "twice daily",
        "status": "active"}
    older = c.get("/api/v1/patients/P7/notes?limit=1&offset=1", headers=_as("cleo")).json()
    assert older["items"][0]["time"] < note["time"]
    assert c.get("/api/v1/patients/NOBODY/notes", headers=_as("cleo")).json() == {
        "items": [], "limit": 20, "offset": 0, "total": 0}
    reads = [e for e in audit.entries(ctx.log, actor="cleo", subject="patient:P7") if e.detail.get("what") == "notes"]
    assert reads


def test_the_patient_page_marks_problems_and_medications(dash: Any) -> None:
    _, c = dash
    html = c.get("/patients/P7", headers=_as("cleo")).text
    assert "Clinical notes <small>(2)</small>" in html
    assert '<mark class="m-medication st-active" title="metformin: active">metformin</mark>' in html
    assert '<mark class="m-problem st-negated" title="chest pain: negated">chest pain</mark>' in html
    assert "500 mg</td><td>oral</td><td>twice daily" in html
    for word in ("historical", "family", "uncertain"):
        assert f'<span class="status st-{word}">{word}</span>' in html
    # a patient known only from notes still has a page
    assert c.get("/patients/P7", headers=_as("ana")).status_code == 200


def test_segments_skip_overlapping_and_out_of_range_mentions() -> None:
    note = {"text": "chest pain now", "medications": [],
            "problems": [{"span_start": 0, "span_end": 10, "status": "negated", "name": "chest pain"},
                         {"span_start": 6, "span_end": 10, "status": "active", "name": "pain"},
                         {"span_start": 12, "span_end": 99, "status": "active", "name": "?"}]}
    assert [s["text"] for s in segments(note)] == ["chest pain", " now"]


def test_last_model_run_on_the_health_page_and_in_the_api(dash: Any) -> None:
    ctx, c = dash
    run = last_model_run(ctx.history.reader)
    assert run is not None and run["status"] == "failed"
    assert (run["models_passed"], run["models_failed"], run["tests_passed"], run["tests_failed"]) == (9, 0, 19, 1)
    assert c.get("/api/v1/health", headers=_as("cleo")).status_code == 403  # analysts and admins only
    doc = c.get("/api/v1/health", headers=_as("ana")).json()
    assert doc["model_run"]["started_at"].endswith("Z") and doc["model_run"]["duration_s"] == 12.3
    assert doc["model_run"]["command"] == "build" and not doc["model_run"]["ok"]
    html = c.get("/health", headers=_as("ana")).text
    assert "19 passed, 1 failed (of 20)" in html and "9 passed, 0 failed (of 9)" in html
    assert "not_null_fct_heart_rates_user_sk" in html


def test_openapi_describes_notes_and_health(dash: Any) -> None:
    _, c = dash
    doc = c.get("/api/v1/openapi.json", headers=_as("ana")).json()
    assert {"/api/v1/patients/{patient_id}/notes", "/api/v1/health"} <= set(doc["paths"])
    assert {"NotesPage", "MedicationOut", "ModelRunOut"} <= set(doc["components"]["schemas"])


def test_reports_by_patient_and_the_model_reports_before_a_build(dash: Any) -> None:
    _, c = dash
    rows = c.get("/api/v1/reports/notes?patient=P7&limit=100", headers=_as("cleo")).json()["items"]
    assert len(rows) == 10 and {r["patient_id"] for r in rows} == {"P7"}
    csv_text = c.get("/reports/notes?format=csv&patient=P7", headers=_as("cleo")).text
    assert csv_text.startswith("entry_time,patient_id,kind,name,assertion,status") and "metformin" in csv_text
    assert c.get("/reports/notes?format=csv&patient=P0", headers=_as("cleo")).text == ""
    for path in ("/api/v1/reports/hr-by-activity", "/reports/hr-by-activity?format=csv"):
        r = c.get(path, headers=_as("cleo"))
        assert r.status_code == 409 and "vitalstream model build" in r.text


def test_dead_letter_details_behind_the_health_role(dash: Any) -> None:
    _, c = dash
    assert c.get("/health/dead-letters?stage=x&reason=y", headers=_as("cleo")).status_code == 403
    r = c.get("/health/dead-letters?stage=x&reason=y", headers=_as("ana"))
    assert r.status_code == 200 and "None." in r.text


def test_a_warehouse_without_the_notes_tables_shows_no_notes(tmp_path: Path) -> None:
    """A warehouse not yet migrated (a PostgreSQL one before its sink ran): no notes, no run."""
    from vitalstream.dashboard.notes import patient_notes
    from vitalstream.dashboard.store import LockedReader

    with open_warehouse(f"duckdb:///{tmp_path}/empty.duckdb") as wh:
        reader = LockedReader(wh)
        assert patient_notes(reader, "P7") == ([], 0)
        assert last_model_run(reader) is None
