"""The dashboard in a real browser (Debian's chromium through Playwright): log in, the board
updates live without a reload, a patient's chart has points and notes with their problems and
medications, an alert is acknowledged, a report downloads as CSV, the health page shows the
last model run. Screenshots of each page land in test-artifacts/browser/."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from dashboard_helpers import (
    PASSWORD,
    RunningDashboard,
    model_run,
    produce_dead_letter,
    produce_note,
    produce_patient,
    wait_for,
)

from vitalstream import audit
from vitalstream.log import open_log
from vitalstream.model.schedule import record


def _login(page: Any, d: RunningDashboard, name: str) -> None:
    page.goto(d.url + "/")
    page.wait_for_url("**/login?next=/")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(d.url + "/")


def test_board_patient_ack_and_report_in_the_browser(dashboard: RunningDashboard, browser: Any,
                                                      artefacts: Path) -> None:
    d = dashboard
    produce_patient(d.settings, "P-EARLY", heart_rate=110, severity="medium", news2=3)
    wait_for(lambda: httpx.get(d.url + "/api/v1/patients?search=P-EARLY", headers=d.bearer()).json()["total"],
             "the first patient on the board")
    page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    # a wrong password is refused, the right one opens the board
    page.goto(d.url + "/")
    page.fill("input[name=name]", "cleo")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert "Wrong name or password" in page.inner_text(".error")
    _login(page, d, "cleo")
    errors: list[str] = []  # from here on the console must stay clean
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.wait_for_selector("tr[data-patient='P-EARLY']")
    page.wait_for_selector("#live.on")

    # an alert produced into the log appears without a reload, within 2 s of the feed seeing it
    marker = page.evaluate("() => { window.__same_page = 'yes'; return window.__same_page; }")
    produced = time.monotonic()
    alert_id = produce_patient(d.settings, "P-LIVE")
    row = page.wait_for_selector("tr[data-patient='P-LIVE'] .alert.sev-high", timeout=10_000)
    seen_after = time.monotonic() - produced
    assert page.evaluate("() => window.__same_page") == marker  # no reload happened
    assert "tachycardia" in row.inner_text()
    assert seen_after < 5, f"the alert took {seen_after:.1f}s to show"
    first = page.get_attribute("tbody#rows tr:first-child", "data-patient")
    assert first == "P-LIVE"  # high-severity alert, NEWS2 7: sorted first
    assert page.inner_text("tr[data-patient='P-LIVE'] .news2").startswith("7 high")
    assert "partial" in page.inner_text("tr[data-patient='P-LIVE'] .news2")
    page.screenshot(path=str(artefacts / "board.png"), full_page=True)

    # the search filter keeps matching rows only
    page.fill("#search", "P-EARLY")
    page.wait_for_function("() => document.querySelectorAll('tbody#rows tr').length === 1")
    page.fill("#search", "")

    # the patient page: charts with points and a note (the dashboard's own warehouse sink loaded them)
    produce_note(d.settings, "P-LIVE")
    wait_for(lambda: httpx.get(d.url + "/api/v1/patients/P-LIVE?window=1h", headers=d.bearer()).json()["vitals"],
             "P-LIVE's vitals in the warehouse")
    wait_for(lambda: httpx.get(d.url + "/api/v1/patients/P-LIVE/notes", headers=d.bearer()).json()["total"],
             "P-LIVE's note in the warehouse")
    page.click("a[href='/patients/P-LIVE']")
    page.wait_for_selector("#charts[data-loaded=yes]")
    assert int(page.get_attribute("#charts .chart", "data-points") or 0) >= 5  # 24 h: 5-minute means
    page.click("a[href='?window=1h']")
    page.wait_for_selector("#charts[data-loaded=yes]")
    assert int(page.get_attribute("#charts .chart", "data-points") or 0) >= 25  # 1 h: every reading
    assert page.query_selector("#charts canvas") is not None
    problems = page.inner_text("article.note table.problems")
    assert "chest pain" in problems and "negated" in problems
    medications = page.inner_text("article.note table.medications")
    assert "metformin" in medications and "500 mg" in medications and "twice daily" in medications
    assert page.inner_text("article.note mark.st-negated") == "chest pain"
    page.screenshot(path=str(artefacts / "patient.png"), full_page=True)

    # acknowledge: recorded on alert-acks and in the audit trail, shown on the page
    page.click(f"form[action='/alerts/{alert_id}/ack'] button")
    page.wait_for_selector("text=acknowledged by cleo")
    with open_log(d.settings.log_url) as log:
        acks = list(audit.entries(log, action="acknowledge"))
        reads = list(audit.entries(log, actor="cleo", subject="patient:P-LIVE"))
    assert [a.subject for a in acks] == [f"alert:{alert_id}"]
    assert reads, "reading the patient page was not audited"

    # a report as CSV
    page.goto(d.url + "/reports/alerts?since=1h")
    page.screenshot(path=str(artefacts / "report.png"), full_page=True)
    with page.expect_download() as dl:
        page.click("#csv")
    csv_text = Path(dl.value.path()).read_text()
    assert csv_text.splitlines()[0].startswith("raise_time,event_time,patient_id")
    assert "P-LIVE" in csv_text
    assert not errors, f"browser console errors: {errors}"


def test_health_and_audit_pages_for_an_admin(dashboard: RunningDashboard, browser: Any, artefacts: Path) -> None:
    d = dashboard
    produce_patient(d.settings, "P-H")
    produce_dead_letter(d.settings)
    record(d.settings.warehouse_url, model_run())  # as the model's schedule does, in this process
    wait_for(lambda: httpx.get(d.url + "/api/v1/health", headers=d.bearer()).json()["dead_letters"],
             "the dead letter in the warehouse")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    _login(page, d, "root")
    page.goto(d.url + "/health")
    assert "alerts" in page.inner_text("table")
    run = page.inner_text("#model-run")
    assert "failed" in run and "19 passed, 1 failed (of 20)" in run and "12.3 s" in run
    page.screenshot(path=str(artefacts / "health.png"), full_page=True)
    page.click("a[href^='/health/dead-letters?stage=processor.validate']")
    assert "heart_rate: expected a number" in page.inner_text("h1")
    assert "InvalidEvent" in page.inner_text("table")
    page.goto(d.url + "/audit")
    assert "login" in page.inner_text("table")
    page.screenshot(path=str(artefacts / "audit.png"), full_page=True)
