"""The read API under ``/api/v1/`` (JSON; UTC ISO-8601 times; ``limit``/``offset`` pages).

Same login as the pages (session cookie or ``Authorization: Bearer NAME:PASSWORD``); every
call that returns patient data is audited first. ``/api/v1/openapi.json`` describes it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from ..reports import REPORTS
from .acks import NotFound, acknowledge
from .apimodels import HealthOut, NotesPage
from .context import WINDOWS, Context, ReportRefused, jsonable, parse_since, report_rows, window
from .health import pipeline_health
from .notes import patient_notes
from .web import csrf_ok, user_of

router = APIRouter(prefix="/api/v1", tags=["read API"])
Limit = Query(50, ge=1, le=1000, description="page size")
Offset = Query(0, ge=0, description="rows to skip")


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def _history(ctx: Context):  # type: ignore[no-untyped-def]
    if ctx.history is None:
        raise HTTPException(503, "the warehouse is not available")
    return ctx.history


def _since(text: str) -> Any:
    try:
        return parse_since(text)
    except ValueError:
        raise HTTPException(422, "since: use 2h, 7d or an ISO-8601 time") from None


def _page(items: list[Any], limit: int, offset: int, total: int | None = None) -> dict[str, Any]:
    return {"items": jsonable(items), "limit": limit, "offset": offset,
            **({"total": total} if total is not None else {})}


@router.get("/patients", summary="Patients on the live board, highest risk first")
def patients(request: Request, search: str = "", source: str = "", device: str = "", limit: int = Limit,
             offset: int = Offset) -> dict[str, Any]:
    ctx = _ctx(request)
    rows = ctx.board.rows()
    if search:
        rows = [r for r in rows if search.lower() in r["patient_id"].lower()]
    if source:
        rows = [r for r in rows if source in r["sources"]]
    if device:
        rows = [r for r in rows if any(device.lower() in d.lower() for d in r["devices"])]
    ctx.audit(user_of(request), "patients", search=search, count=min(limit, max(0, len(rows) - offset)))
    return _page(rows[offset:offset + limit], limit, offset, len(rows))


@router.get("/patients/{patient_id}", summary="One patient: live state, metadata, vitals series, alerts, NEWS2")
def patient(request: Request, patient_id: str,
            window_: str = Query("24h", alias="window", description=f"one of {', '.join(WINDOWS)}"),
            resolution: int | None = Query(None, ge=0, description="seconds per point (0: every reading)")) -> dict[str, Any]:
    ctx = _ctx(request)
    history = _history(ctx)
    ctx.audit(user_of(request), f"patient:{patient_id}", window=window_)
    since, bucket = window(window_)
    out: dict[str, Any] = jsonable({
        "patient_id": patient_id, "live": ctx.board.row(patient_id), "metadata": history.metadata(patient_id),
        "window": window_, "since": since,
        "vitals": history.vitals(patient_id, since, bucket_s=bucket if resolution is None else resolution),
        "alerts": history.alerts(patient_id=patient_id, since=since, limit=500),
        "news2": history.news2(patient_id, since),
    })
    return out


@router.get("/patients/{patient_id}/news2", summary="NEWS2 history of one patient")
def news2(request: Request, patient_id: str, since: str = "24h", limit: int = Limit, offset: int = Offset) -> dict[str, Any]:
    ctx = _ctx(request)
    ctx.audit(user_of(request), f"patient:{patient_id}", what="news2")
    rows = _history(ctx).news2(patient_id, _since(since), limit=limit + offset)
    return _page(rows[offset:], limit, offset)


@router.get("/patients/{patient_id}/notes", response_model=NotesPage,
            summary="Clinical notes of one patient, newest first, with their problems and medications")
def notes(request: Request, patient_id: str, limit: int = Query(20, ge=1, le=1000, description="notes per page"),
          offset: int = Offset) -> dict[str, Any]:
    ctx = _ctx(request)
    history = _history(ctx)
    ctx.audit(user_of(request), f"patient:{patient_id}", what="notes", limit=limit, offset=offset)
    rows, total = patient_notes(history.reader, patient_id, limit, offset)
    return _page(rows, limit, offset, total)


@router.get("/alerts", summary="Alert transitions, newest first")
def alerts(request: Request, state: str = "", severity: str = "", patient_id: str = "", since: str = "",
           limit: int = Limit, offset: int = Offset) -> dict[str, Any]:
    ctx = _ctx(request)
    ctx.audit(user_of(request), f"patient:{patient_id}" if patient_id else "alerts",
              state=state, severity=severity, since=since)
    rows = _history(ctx).alerts(patient_id or None, state or None, severity or None, _since(since), limit, offset)
    return _page(rows, limit, offset)


@router.get("/reports", summary="The reports")
def reports() -> dict[str, Any]:
    return {"items": [{"name": r.name, "description": r.description} for r in REPORTS.values()]}


@router.get("/reports/{name}", summary="One report's rows")
def report(request: Request, name: str, since: str = "", patient: str = Query("", description="only this patient's rows (reports with patient rows)"),
           limit: int = Limit, offset: int = Offset) -> dict[str, Any]:
    ctx = _ctx(request)
    if name not in REPORTS:
        raise HTTPException(404, f"no report {name!r}")
    ctx.audit(user_of(request), f"report:{name}", since=since, limit=limit, offset=offset, patient=patient)
    try:
        rows = report_rows(_history(ctx), name, limit + offset, _since(since), patient.strip())
    except ReportRefused as exc:
        raise HTTPException(409, str(exc)) from None
    return _page(rows[offset:], limit, offset)


@router.get("/health", response_model=HealthOut,
            summary="Pipeline health: topics, consumer lag, components, dead letters, the last model run (analyst, admin)")
def health(request: Request) -> dict[str, Any]:
    if not user_of(request).may("analyst"):
        raise HTTPException(403, "only an analyst or an admin may see the pipeline's health")
    return pipeline_health(_ctx(request))


@router.post("/alerts/{alert_id}/ack", summary="Acknowledge an alert (clinician, admin)")
def ack(request: Request, alert_id: str, note: str = "") -> JSONResponse:
    if not csrf_ok(request, None):
        raise HTTPException(403, "missing or wrong CSRF token")
    user = user_of(request)
    if not user.may("clinician"):
        raise HTTPException(403, "only a clinician or an admin may acknowledge alerts")
    try:
        return JSONResponse(acknowledge(_ctx(request), user, alert_id, note))
    except NotFound:
        raise HTTPException(404, "unknown alert id") from None
