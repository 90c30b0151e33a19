"""The dashboard on PostgreSQL: the warehouse sink runs on its own (as in `up`), the dashboard
reads the server directly — patient history, alerts, reports — while the live board still
comes from the log."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import httpx

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "browser"))

from dashboard_helpers import produce_patient, start_dashboard

from vitalstream.log import open_log
from vitalstream.runtime import run_worker
from vitalstream.sinks import build_sinks


def test_dashboard_reads_history_from_postgresql(tmp_path: Path, pg_schema_url: str) -> None:
    with start_dashboard(tmp_path, warehouse_url=pg_schema_url) as d:
        produce_patient(d.settings, "P-PG", minutes=20)
        with open_log(d.settings.log_url) as log:
            [sink] = build_sinks(log, d.settings, ["warehouse"])
            run_worker(log, sink, threading.Event(), until_idle=True)
        auth = d.bearer("ana")
        detail = httpx.get(f"{d.url}/api/v1/patients/P-PG?window=1h", headers=auth, timeout=30).json()
        assert len(detail["vitals"]) == 20 and detail["vitals"][0]["t"].endswith("Z")
        assert detail["alerts"][0]["rule"] == "tachycardia"
        assert detail["news2"][0]["total"] == 7
        assert detail["live"]["patient_id"] == "P-PG"  # from the log
        report = httpx.get(f"{d.url}/reports/alerts?format=csv&since=1h", headers=auth, timeout=30)
        assert report.status_code == 200 and "P-PG" in report.text
        coarse = httpx.get(f"{d.url}/api/v1/patients/P-PG?window=24h", headers=auth, timeout=30).json()
        assert 1 <= len(coarse["vitals"]) <= 6  # 5-minute means
