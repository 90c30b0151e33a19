"""Start a real dashboard (``vitalstream.dashboard.server.run``) in a thread, and write
processed vitals, NEWS2 scores and alerts into its log as the processor would."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec

from vitalstream import topics as T
from vitalstream.config import load
from vitalstream.dashboard.accounts import add_account
from vitalstream.events.canonical import Alert, News2Score, ProcessedVital
from vitalstream.log import open_log

PASSWORD = "correct horse battery"


@dataclass
class RunningDashboard:
    url: str
    home: Path
    settings: Any

    def bearer(self, name: str = "ana") -> dict[str, str]:
        return {"Authorization": f"Bearer {name}:{PASSWORD}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def start_dashboard(home: Path, warehouse_url: str = "") -> Iterator[RunningDashboard]:
    from vitalstream.dashboard.server import run

    overrides: dict[str, Any] = {"home": str(home), "dashboard": {"port": free_port()}}
    if warehouse_url:
        overrides["warehouse_url"] = warehouse_url
    settings = load(environ={}, overrides=overrides)
    for name, role in (("cleo", "clinician"), ("ana", "analyst"), ("root", "admin")):
        add_account(settings, name, role, PASSWORD)
    stop = threading.Event()
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            run(settings, stop)
        except BaseException as exc:  # shown by the fixture, not lost in the thread
            errors.append(exc)

    thread = threading.Thread(target=serve, name="dashboard-under-test", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{settings.dashboard.port}"
    deadline = time.monotonic() + 60
    while True:
        assert not errors, f"dashboard failed to start: {errors[0]!r}"
        try:
            if httpx.get(url + "/healthz", timeout=2).json().get("feed") == "ready":
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "dashboard not ready within 60 s"
        time.sleep(0.2)
    try:
        yield RunningDashboard(url, home, settings)
    finally:
        stop.set()
        thread.join(30)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def produce_patient(settings: Any, patient_id: str, minutes: int = 30, heart_rate: int = 128,
                    severity: str = "high", news2: int = 7) -> str:
    """A patient's last ``minutes`` of readings, a NEWS2 score and a raised tachycardia alert,
    as the processor writes them; returns the alert id."""
    now = datetime.now(UTC).replace(microsecond=0)
    enc = msgspec.json.encode
    with open_log(settings.log_url) as log, log.producer() as p:
        T.ensure(log, [T.PROCESSED_HEART_RATE, T.NEWS2, T.ALERTS])
        key = patient_id.encode()
        for i in range(minutes):
            t = now - timedelta(minutes=minutes - i)
            v = ProcessedVital(event_id=str(uuid.uuid4()), patient_id=patient_id, source="vitals", event_time=t,
                               heart_rate=heart_rate - minutes + i, data_type="heart_rate",
                               original_timestamp=iso(t), processed_timestamp=now)
            p.send(T.PROCESSED_HEART_RATE, enc(v), key=key)
        p.send(T.NEWS2, enc(News2Score(
            patient_id=patient_id, total=news2, band="high" if news2 >= 7 else "low", subscores={"heart_rate": 3}, missing=["spo2"],
            partial=True, scale=1, event_time=now, computed_time=now, score_id=str(uuid.uuid4()))), key=key)
        alert_id = str(uuid.uuid4())
        p.send(T.ALERTS, enc(Alert(
            alert_id=alert_id, patient_id=patient_id, rule="tachycardia", severity=severity, state="raised",
            values={"heart_rate": heart_rate}, event_time=now, raise_time=now, event_id=str(uuid.uuid4()),
            message=f"tachycardia raised (heart_rate={heart_rate})")), key=key)
        p.flush()
    return alert_id


def wait_for(check: Any, what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
