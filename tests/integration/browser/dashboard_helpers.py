"""Start a real dashboard (``vitalstream.dashboard.server.run``) in a thread, and write
processed vitals, NEWS2 scores and alerts into its log as the processor would, clinical notes
as the notes stage would and a model run as the model's schedule would."""

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
from vitalstream.events.notes import MedicalEntry
from vitalstream.log import open_log
from vitalstream.log.base import Record
from vitalstream.model.runner import ModelResult
from vitalstream.notes.extractor import Extraction, Medication, Problem
from vitalstream.notes.stage import processed_entry

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


@contextlib.contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port; yields its URL (starlette's
    TestClient would want a package this project does not lock)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start within 10 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


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


# A note and what the extractor finds in it (written here: building the extractor takes seconds)
NOTE = ("History of diabetes, on metformin 500 mg oral twice daily. Denies chest pain. "
        "Mother had breast cancer. Possible pneumonia.")
_PROBLEMS = (("diabetes", "diabetes mellitus", "historical"), ("chest pain", "chest pain", "absent"),
             ("breast cancer", "breast neoplasms", "family"), ("pneumonia", "pneumonia", "possible"))


def note_value(patient_id: str, when: datetime, text: str = NOTE) -> bytes:
    """A processed entry as the notes stage produces it (its own ``processed_entry``)."""
    at = text.index
    problems = [Problem(t, at(t), at(t) + len(t), assertion, name) for t, name, assertion in _PROBLEMS if t in text]
    meds = [Medication("metformin", "metformin", 500.0, "mg", "oral", "twice daily", "present",
                       at("metformin"), at("metformin") + 9)] if "metformin" in text else []
    entry = msgspec.convert({"patient_id": patient_id, "timestamp": iso(when), "medical_entry": text}, MedicalEntry)
    return msgspec.json.encode(processed_entry(entry, Extraction(problems, meds), datetime.now(UTC)))


def note_records(patient_id: str, times: list[datetime]) -> list[Record]:
    return [Record(T.PROCESSED_ENTRIES, 0, i, patient_id.encode(), note_value(patient_id, t), 0)
            for i, t in enumerate(times)]


def produce_note(settings: Any, patient_id: str, when: datetime | None = None) -> None:
    with open_log(settings.log_url) as log, log.producer() as p:
        T.ensure(log, [T.PROCESSED_ENTRIES])
        p.send(T.PROCESSED_ENTRIES, note_value(patient_id, when or datetime.now(UTC).replace(microsecond=0)), key=patient_id.encode())
        p.flush()


def model_run(ok: bool = False) -> ModelResult:
    """A recorded ``dbt build``: 9 models, 20 tests, one of them failed unless ``ok``."""
    failed = [] if ok else ["test not_null_fct_heart_rates_user_sk: Got 3 results, configured to fail if != 0"]
    return ModelResult("build", ok, datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2), 12.34,
                       models=9, tests=20, failed=failed)


def produce_dead_letter(settings: Any, reason: str = "heart_rate: expected a number") -> None:
    """One dead letter as the processor's validation writes it."""
    from vitalstream.deadletter import send_dead_letter
    from vitalstream.events import InvalidEvent

    with open_log(settings.log_url) as log, log.producer() as p:
        T.ensure(log, [T.DEAD_LETTERS])
        send_dead_letter(p, "processor.validate", InvalidEvent(reason), b'{"heart_rate": "fast"}', key=b"P-H",
                         source_topic=T.PROCESSED_HEART_RATE)
        p.flush()
