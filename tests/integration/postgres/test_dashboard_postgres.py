"""The dashboard on PostgreSQL: the warehouse sink runs on its own (as in `up`), the dashboard
reads the server directly — patient history, alerts, clinical notes, reports, the last model
run — while the live board still comes from the log."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import httpx

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "browser"))

from dashboard_helpers import model_run, produce_note, produce_patient, start_dashboard

from vitalstream.log import open_log
from vitalstream.model.schedule import record
from vitalstream.runtime import run_worker
from vitalstream.sinks import build_sinks


def test_dashboard_reads_history_from_postgresql(tmp_path: Path, pg_schema_url: str) -> None:
    with start_dashboard(tmp_path, warehouse_url=pg_schema_url) as d:
        auth = d.bearer("ana")
        # before the sink has created any table: no notes, no model run, no error
        assert httpx.get(f"{d.url}/api/v1/patients/P-PG/notes", headers=auth, timeout=30).json()["total"] == 0
        assert httpx.get(f"{d.url}/api/v1/health", headers=auth, timeout=30).json()["model_run"] is None
        produce_patient(d.settings, "P-PG", minutes=20)
        produce_note(d.settings, "P-PG")
        with open_log(d.settings.log_url) as log:
            [sink] = build_sinks(log, d.settings, ["warehouse"])
            run_worker(log, sink, threading.Event(), until_idle=True)
        detail = httpx.get(f"{d.url}/api/v1/patients/P-PG?window=1h", headers=auth, timeout=30).json()
        assert len(detail["vitals"]) == 20 and detail["vitals"][0]["t"].endswith("Z")
        assert detail["alerts"][0]["rule"] == "tachycardia"
        assert detail["news2"][0]["total"] == 7
        assert detail["live"]["patient_id"] == "P-PG"  # from the log
        report = httpx.get(f"{d.url}/reports/alerts?format=csv&since=1h", headers=auth, timeout=30)
        assert report.status_code == 200 and "P-PG" in report.text
        coarse = httpx.get(f"{d.url}/api/v1/patients/P-PG?window=24h", headers=auth, timeout=30).json()
        assert 1 <= len(coarse["vitals"]) <= 6  # 5-minute means

        notes = httpx.get(f"{d.url}/api/v1/patients/P-PG/notes", headers=auth, timeout=30).json()
        assert notes["total"] == 1 and notes["items"][0]["time"].endswith("Z")
        problems = {p["text"]: p["status"] for p in notes["items"][0]["problems"]}
        assert problems["chest pain"] == "negated" and problems["diabetes"] == "historical"
        [med] = notes["items"][0]["medications"]
        assert (med["name"], med["dose"], med["unit"], med["route"], med["frequency"]) == (
            "metformin", 500.0, "mg", "oral", "twice daily")
        page = httpx.get(f"{d.url}/patients/P-PG", headers=auth, timeout=30).text
        assert '<mark class="m-problem st-negated" title="chest pain: negated">chest pain</mark>' in page
        notes_csv = httpx.get(f"{d.url}/reports/notes?format=csv&patient=P-PG", headers=auth, timeout=30).text
        assert "metformin" in notes_csv and "negated" in notes_csv
        assert httpx.get(f"{d.url}/api/v1/reports/sleep", headers=auth, timeout=30).status_code == 409  # no model yet
        record(pg_schema_url, model_run())
        run = httpx.get(f"{d.url}/api/v1/health", headers=auth, timeout=30).json()["model_run"]
        assert (run["status"], run["tests_passed"], run["tests_failed"], run["models_passed"]) == ("failed", 19, 1, 9)
        assert "19 passed, 1 failed (of 20)" in httpx.get(f"{d.url}/health", headers=auth, timeout=30).text
