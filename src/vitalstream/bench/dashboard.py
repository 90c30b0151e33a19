"""The dashboard's measured targets (issue 15): read-API latency of the board with 1,000
patients, and produce → DOM latency of the live board in a real browser at 5,000 events/s.

The dashboard runs as the product runs it (:func:`vitalstream.dashboard.server.run`, its own
process, embedded log, DuckDB warehouse loaded by its own warehouse sink thread; the scheduled
model build is off so a dbt run cannot land inside a measurement). The load is what the
processor writes — processed vitals, NEWS2 scores, alerts — produced straight into the log, so
the figures are the dashboard's own path: its feed consumer, the board, the server-sent
events, the browser's redraw. The processor's own latency is the ``latency_*`` scenarios'.

* ``dashboard_api``: ``GET /api/v1/patients?limit=1000`` (the whole board in one page, the
  heaviest board call; bearer login, audited like every read), one client, sequential,
  after a warm-up; ``limit=50`` (the default page) beside it.
* ``dashboard_dom``: Debian's Chromium through Playwright (never a downloaded browser), logged
  in on the board. Vitals for every patient at ``rate`` events/s; five times a second one of
  them is a *marker*: a critical alert for a new patient ``BENCH-MARK-n``, its send time noted.
  A MutationObserver in the page notes ``Date.now()`` when each marker's row enters the DOM;
  latency = that minus the send time (one machine, one wall clock).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from .. import topics as T
from ..log import open_log
from . import child
from .latency import percentiles

ACCOUNT = "bench-clinician"
MARK = "BENCH-MARK-"
MARKS_PER_S = 5.0
_TICK_S = 0.005
# Notes the first time each marker's row is in the board's table (no reliance on the
# page's own code beyond its markup: tbody#rows, tr[data-patient]).
OBSERVER_JS = """(prefix) => {
  window.__marks = {};
  const rows = document.getElementById("rows");
  const scan = () => {
    const now = Date.now();
    for (const tr of rows.querySelectorAll(`tr[data-patient^="${prefix}"]`)) {
      const id = tr.getAttribute("data-patient");
      if (!(id in window.__marks)) window.__marks[id] = now;
    }
  };
  new MutationObserver(scan).observe(rows, {childList: true, subtree: true});
  return true;
}"""


def _now() -> datetime:
    return datetime.now(UTC)


def _vital(patient: str, i: int, t: datetime) -> bytes:
    from ..events.canonical import ProcessedVital

    hr, spo2 = (60 + i % 50, None) if i % 2 else (None, 92 + i % 8)
    return msgspec.json.encode(ProcessedVital(
        event_id=str(uuid.uuid4()), patient_id=patient, source="vitals", event_time=t, heart_rate=hr, spo2=spo2,
        data_type="heart_rate" if hr else "blood_oxygen", original_timestamp=t.isoformat(), processed_timestamp=t))


def _alert(patient: str, t: datetime, severity: str = "critical") -> bytes:
    from ..events.canonical import Alert

    return msgspec.json.encode(Alert(
        alert_id=str(uuid.uuid4()), patient_id=patient, rule="tachycardia", severity=severity,  # type: ignore[arg-type]
        state="raised", values={"heart_rate": 150}, event_time=t, raise_time=t, event_id=str(uuid.uuid4()),
        message="tachycardia raised (heart_rate=150)"))


def _topic(i: int) -> str:
    return T.PROCESSED_HEART_RATE if i % 2 else T.PROCESSED_BLOOD_OXYGEN


def load_patients(log_url: str, patients: int) -> None:
    """Every patient on the board: a heart rate, an SpO2, a NEWS2 score, an alert for one in ten."""
    from ..events.canonical import News2Score

    t = _now()
    with open_log(log_url) as log, log.producer() as p:
        for n in range(patients):
            pid = f"P-{n:05d}"
            key = pid.encode()
            for i in (0, 1):
                p.send(_topic(i), _vital(pid, n + i, t), key=key)
            total = n % 10
            p.send(T.NEWS2, msgspec.json.encode(News2Score(
                patient_id=pid, total=total, band="high" if total >= 7 else "medium" if total >= 5 else "low",
                subscores={"heart_rate": min(3, total)}, missing=["respiratory_rate"], partial=True, scale=1,
                event_time=t, computed_time=t, score_id=str(uuid.uuid4()))), key=key)
            if n % 10 == 0:
                p.send(T.ALERTS, _alert(pid, t, "medium"), key=key)
        p.flush()


def produce_load(log_url: str, rate: float, duration_s: float, patients: int) -> dict[str, Any]:
    """Child stage: vitals for ``patients`` at ``rate`` events/s for ``duration_s``, with a marker
    alert every 1/MARKS_PER_S s; returns each marker's send time (ms since the epoch)."""
    per_tick = max(1, round(rate * _TICK_S))
    marks: dict[str, float] = {}
    sent = 0
    with open_log(log_url) as log, log.producer() as p:
        t0 = time.time()
        next_mark = t0
        tick = 0
        while (now := time.time()) - t0 < duration_s:
            t = _now()
            if now >= next_mark:
                pid = f"{MARK}{len(marks):05d}"
                marks[pid] = time.time() * 1000
                p.send(T.ALERTS, _alert(pid, t), key=pid.encode())
                sent += 1
                next_mark += 1 / MARKS_PER_S
            for _ in range(per_tick):
                pid = f"P-{sent % patients:05d}"
                p.send(_topic(sent), _vital(pid, sent, t), key=pid.encode())
                sent += 1
            p.flush()
            tick += 1
            ahead = t0 + tick * _TICK_S - time.time()
            if ahead > 0:
                time.sleep(ahead)
        wall = time.time() - t0
    return {"events": sent, "wall_s": wall, "events_per_s": sent / wall, "marks": marks}


def wait_caught_up(log_url: str, group: str, timeout_s: float = 120.0) -> None:
    """Until ``group`` (the dashboard's warehouse sink) has read everything: the API is timed
    in steady state, not while the sink creates the schema and loads the first batch."""
    with open_log(log_url) as log:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if group in log.list_groups() and sum(x.lag for x in log.group_lag(group)) <= 0:
                return
            time.sleep(0.5)
    raise RuntimeError(f"{group} did not catch up within {timeout_s:.0f} s")


# -- the dashboard in its own process ---------------------------------------------------------------
def serve(home: str, port: int, stop_file: str, timeout_s: float = 900.0) -> dict[str, Any]:
    """Child stage: the dashboard on ``home`` until ``stop_file`` exists."""
    from ..dashboard.server import run

    stop = threading.Event()
    worker = threading.Thread(target=run, args=(_settings(home, port), stop), name="dashboard", daemon=True)
    worker.start()
    deadline = time.monotonic() + timeout_s
    while not Path(stop_file).exists() and time.monotonic() < deadline and worker.is_alive():
        time.sleep(0.1)
    stop.set()
    worker.join(60)
    return {"stopped": True}


def _settings(home: str, port: int) -> Any:
    from ..config import load

    return load(environ={}, overrides={"home": home, "dashboard": {"port": port}, "model": {"interval_s": 0}})


@contextlib.contextmanager
def running_dashboard(work: Path, password: str) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """A dashboard process on a fresh home: yields (its URL, its settings, a dict that holds
    the process's CPU seconds and peak RSS once it has stopped)."""
    import httpx

    from ..dashboard.accounts import add_account
    from .edges import free_port

    home = work / "dashboard-home"
    port = free_port()
    settings = _settings(str(home), port)
    add_account(settings, ACCOUNT, "clinician", password)
    stop_file = work / "dashboard-stop"
    proc = child.start(f"{__name__}:serve", home=str(home), port=port, stop_file=str(stop_file))
    url = f"http://127.0.0.1:{port}"
    usage: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                if httpx.get(url + "/healthz", timeout=2).json().get("feed") == "ready":
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the dashboard did not start: " + (proc.stderr.read()[-1500:] if proc.stderr else ""))
            time.sleep(0.2)
        yield url, settings, usage
    finally:
        stop_file.touch()
        with contextlib.suppress(Exception):
            usage.update(child.collect(proc, timeout=90))
        if proc.poll() is None:
            proc.kill()


# -- the measurements ---------------------------------------------------------------------------------
def api_latency(url: str, password: str, patients: int, requests: int) -> dict[str, Any]:
    import httpx

    headers = {"Authorization": f"Bearer {ACCOUNT}:{password}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        deadline = time.monotonic() + 60
        while client.get("/api/v1/patients?limit=1").json().get("total", 0) < patients:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the board never showed {patients} patients")
            time.sleep(0.2)

        def timed(path: str, n: int) -> list[float]:
            out = []
            for _ in range(n):
                t0 = time.perf_counter()
                r = client.get(path)
                out.append((time.perf_counter() - t0) * 1000)
                r.raise_for_status()
            return out

        timed("/api/v1/patients?limit=1000", 10)  # warm-up: the bearer check, first allocations
        t0 = time.perf_counter()
        full = timed("/api/v1/patients?limit=1000", requests)
        wall = time.perf_counter() - t0
        page = timed("/api/v1/patients", requests)
        size = len(client.get("/api/v1/patients?limit=1000").content)
    out: dict[str, Any] = {"events": requests, "events_per_s": requests / wall, "patients": patients,
                           "response_kb": round(size / 1024, 1)}
    out.update(percentiles(full))
    out["default_page"] = percentiles(page)
    out["note"] = (f"{requests} x GET /api/v1/patients?limit=1000 ({patients:,} patients, {size / 1024:,.0f} KB); "
                   f"limit=50: p50 {out['default_page']['p50_ms']} ms, p95 {out['default_page']['p95_ms']} ms")
    return out


def chromium_path() -> str | None:
    path = os.environ.get("VITALSTREAM_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if Path(path).is_file() else None


def dom_latency(url: str, password: str, chromium: str, log_url: str, rate: float, duration_s: float,
                patients: int, settle_s: float = 5.0) -> dict[str, Any]:
    """Child stage: the board in Chromium while :func:`produce_load` runs; marker latencies."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url + "/login")
            page.fill("input[name=name]", ACCOUNT)
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_url(url + "/")
            page.wait_for_selector("#live.on", timeout=30_000)
            page.evaluate(OBSERVER_JS, MARK)
            load = child.run(f"{__name__}:produce_load", log_url=log_url, rate=rate, duration_s=duration_s,
                             patients=patients)
            marks: dict[str, float] = load.pop("marks")
            deadline = time.monotonic() + settle_s
            seen: dict[str, float] = {}
            while time.monotonic() < deadline:
                seen = page.evaluate("() => window.__marks")
                if len(seen) >= len(marks):
                    break
                time.sleep(0.2)
            ended_ms = time.time() * 1000
        finally:
            browser.close()
    lat = [seen[m] - sent for m, sent in marks.items() if m in seen]
    unseen = [ended_ms - sent for m, sent in marks.items() if m not in seen]  # at least this late
    out: dict[str, Any] = {"events": load["events"], "events_per_s": load["events_per_s"], "offered_per_s": rate,
                           "markers": len(marks), "markers_unseen": len(unseen), "producer_cpu_s": load.get("cpu_s"),
                           "browser": browser_version(chromium)}
    out.update(percentiles(lat + unseen))
    out["note"] = (f"{len(marks)} marker alerts among {load['events_per_s']:,.0f} events/s over {patients:,} patients; "
                   "produce -> row in the DOM" + (f"; {len(unseen)} never shown" if unseen else ""))
    return out


def browser_version(path: str) -> str:
    import subprocess

    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return subprocess.run([path, "--version"], capture_output=True, text=True, timeout=20).stdout.strip()
    return "?"


def scenarios(run: Any) -> dict[str, dict[str, Any]]:
    """Both dashboard scenarios on one dashboard; called by :class:`vitalstream.bench.runner.Run`."""
    import importlib.util
    import secrets

    from ..sinks.warehouse import WAREHOUSE_GROUP

    if importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("argon2") is None:
        skipped = {"events_per_s": None, "note": "skipped: the dashboard extra is not installed"}
        return {"dashboard_api": dict(skipped), "dashboard_dom": dict(skipped)}
    plan = run.plan
    password = secrets.token_urlsafe(16)
    out: dict[str, dict[str, Any]] = {}
    with running_dashboard(run.work, password) as (url, settings, usage):
        run.say(f"dashboard: {plan.dashboard_patients:,} patients on the board, API latency")
        load_patients(settings.log_url, plan.dashboard_patients)
        wait_caught_up(settings.log_url, WAREHOUSE_GROUP)
        out["dashboard_api"] = api_latency(url, password, plan.dashboard_patients, 100 if plan.quick else 300)
        chromium = chromium_path()
        if chromium is None:
            out["dashboard_dom"] = {"events_per_s": None, "note": "skipped: no browser (Debian's chromium package, or VITALSTREAM_TEST_CHROMIUM)"}
        elif importlib.util.find_spec("playwright") is None:
            out["dashboard_dom"] = {"events_per_s": None, "note": "skipped: playwright is not installed"}
        else:
            run.say(f"dashboard: produce -> DOM in Chromium at {plan.dashboard_rate:,.0f} events/s "
                    f"for {plan.dashboard_s:.0f} s")
            try:
                out["dashboard_dom"] = child.run(
                    f"{__name__}:dom_latency", url=url, password=password, chromium=chromium,
                    log_url=settings.log_url, rate=plan.dashboard_rate, duration_s=plan.dashboard_s,
                    patients=plan.dashboard_patients, timeout=plan.dashboard_s + 300)
            except Exception as exc:  # the API figures stand on their own
                run.failed("dashboard_dom", exc)
                out["dashboard_dom"] = run.results.pop("dashboard_dom")
    for result in out.values():
        # the component under test is the dashboard process (it served both scenarios); the
        # browser driver's own CPU is not the product's
        result.pop("cpu_s", None)
        if usage and result.get("events_per_s") is not None:
            result["dashboard_cpu_s"] = usage.get("cpu_s")
            result["peak_rss_mb"] = usage.get("peak_rss_mb")
    return out


__all__ = ["OBSERVER_JS", "api_latency", "dom_latency", "load_patients", "produce_load", "scenarios", "serve"]
