"""The HTML pages: login, board, patient, reports, pipeline health, audit trail."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from .. import audit
from ..clinical.rules import default_rules
from ..reports import REPORTS
from .acks import NotFound, acknowledge
from .context import WINDOWS, Context, ReportRefused, jsonable, parse_since, report_rows
from .health import pipeline_health
from .notes import patient_notes, segments
from .sessions import COOKIE
from .web import csrf_ok, form, safe_next, user_of

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)
NOTES_PER_PAGE = 20


def script_json(value: Any) -> Markup:
    """JSON safe inside a ``<script type="application/json">`` (no ``</script>`` breakout)."""
    text = json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    session = request.state.session
    values.update(user=request.state.user, csrf=session.csrf if session else "")
    return templates.TemplateResponse(request, name, values, status_code=status)


def _forbidden(request: Request, what: str) -> HTMLResponse:
    return page(request, "message.html", 403, title="Not allowed", message=f"Your role may not {what}.")


@router.get("/login")
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return page(request, "login.html", next=safe_next(next), error="")


@router.post("/login")
async def login(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    ctx = _ctx(request)
    data = await form(request)
    name, password, target = data.get("name", "")[:64], data.get("password", ""), safe_next(data.get("next"))
    user = None
    if not ctx.sessions.paused(name):
        user = await run_in_threadpool(ctx.accounts.verify, name, password)
    if user is None:
        ctx.sessions.failed(name)
        await run_in_threadpool(lambda: _audit_login(ctx, name, False))
        return page(request, "login.html", 401, next=target, error="Wrong name or password.")
    session = ctx.sessions.create(user)
    await run_in_threadpool(lambda: ctx.audit(user, "dashboard", action="login"))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, session.id, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https", max_age=ctx.settings.dashboard.session_minutes * 60)
    return response


def _audit_login(ctx: Context, name: str, ok: bool) -> None:
    audit.record(ctx.log, actor=name or "-", action="login" if ok else "login-failed", subject="dashboard")


@router.post("/logout")
async def logout(request: Request) -> Response:
    data = await form(request)
    if not csrf_ok(request, data.get("csrf")):
        return page(request, "message.html", 403, title="Refused", message="Missing or wrong CSRF token.")
    if request.state.session is not None:
        _ctx(request).sessions.drop(request.state.session.id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
def board(request: Request) -> HTMLResponse:
    ctx = _ctx(request)
    rows = ctx.board.rows()
    ctx.audit(user_of(request), "board", patients=len(rows))
    return page(request, "board.html", rows_json=script_json(rows), version=ctx.board.version)


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient(request: Request, patient_id: str, window: str = "24h", notes_offset: int = 0) -> HTMLResponse:
    ctx = _ctx(request)
    ctx.audit(user_of(request), f"patient:{patient_id}", window=window, notes_offset=notes_offset)
    live = ctx.board.row(patient_id)
    meta = alerts = news2 = None
    notes: list[dict[str, Any]] = []
    notes_total = 0
    notes_offset = max(0, notes_offset)
    if ctx.history is not None:
        from .context import window as span

        since, _ = span(window)
        meta = ctx.history.metadata(patient_id)
        alerts = ctx.history.alerts(patient_id=patient_id, limit=200)
        news2 = ctx.history.news2(patient_id, since)
        notes, notes_total = patient_notes(ctx.history.reader, patient_id, NOTES_PER_PAGE, notes_offset)
    if live is None and not meta and not alerts and not notes_total:
        return page(request, "message.html", 404, title="No such patient", message="No data for this patient id.")
    thresholds: dict[str, list[float]] = {}
    for rule in default_rules().values():
        for f, v in rule.thresholds.items():
            thresholds.setdefault(f, []).append(v)
    for n in notes:
        n["segments"] = segments(n)
    return page(request, "patient.html", patient_id=patient_id, live=live, meta=jsonable(meta),
                alerts=jsonable(alerts or []), news2=jsonable(news2 or []), window=window, windows=list(WINDOWS),
                thresholds_json=script_json(thresholds), notes=jsonable(notes), notes_total=notes_total,
                notes_offset=notes_offset, notes_per_page=NOTES_PER_PAGE)


@router.post("/alerts/{alert_id}/ack")
async def ack(request: Request, alert_id: str) -> Response:
    from starlette.concurrency import run_in_threadpool

    data = await form(request) if "form" in request.headers.get("content-type", "") else {}
    if not csrf_ok(request, data.get("csrf")):
        return page(request, "message.html", 403, title="Refused", message="Missing or wrong CSRF token.")
    user = user_of(request)
    if not user.may("clinician"):
        return _forbidden(request, "acknowledge alerts")
    try:
        done = await run_in_threadpool(acknowledge, _ctx(request), user, alert_id, data.get("note", ""))
    except NotFound:
        return page(request, "message.html", 404, title="No such alert", message="Unknown alert id.")
    if request.headers.get("accept", "").startswith("application/json"):
        return Response(json.dumps(done), media_type="application/json")
    return RedirectResponse(safe_next(data.get("next") or f"/patients/{done['patient_id']}"), status_code=303)


@router.get("/reports", response_class=HTMLResponse)
def reports(request: Request) -> HTMLResponse:
    return page(request, "reports.html", reports=REPORTS.values(), report=None, rows=[], since="", limit=100,
                patient="")


@router.get("/reports/{name}")
def report(request: Request, name: str, since: str = "", limit: int = 100, patient: str = "",
           format: str = "html") -> Response:
    ctx = _ctx(request)
    if name not in REPORTS:
        return page(request, "message.html", 404, title="No such report", message=name)
    if ctx.history is None:
        return page(request, "message.html", 503, title="No warehouse", message="The warehouse is not available.")
    limit = max(1, min(limit, 100_000))
    patient = patient.strip()
    try:
        start = parse_since(since)
    except ValueError:
        return page(request, "message.html", 400, title="Bad filter", message="since: use 2h, 7d or an ISO time")
    ctx.audit(user_of(request), f"report:{name}", action="export" if format == "csv" else "read",
              since=since, limit=limit, patient=patient)
    try:
        rows = jsonable(report_rows(ctx.history, name, limit, start, patient))
    except ReportRefused as exc:
        return page(request, "message.html", 409, title=f"Report {name}", message=str(exc))
    if format == "csv":
        buf = io.StringIO()
        if rows:
            w = csv.DictWriter(buf, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        return Response(buf.getvalue(), media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return page(request, "reports.html", reports=REPORTS.values(), report=REPORTS[name], rows=rows,
                since=since, limit=limit, patient=patient)


@router.get("/health", response_class=HTMLResponse)
def health(request: Request) -> HTMLResponse:
    user = user_of(request)
    if not user.may("analyst"):
        return _forbidden(request, "see the pipeline's health")
    return page(request, "health.html", h=pipeline_health(_ctx(request)))


@router.get("/health/dead-letters", response_class=HTMLResponse)
def dead_letters(request: Request, stage: str, reason: str) -> HTMLResponse:
    user = user_of(request)
    if not user.may("analyst"):
        return _forbidden(request, "see the pipeline's health")
    ctx = _ctx(request)
    if ctx.history is None:
        return page(request, "message.html", 503, title="No warehouse", message="The warehouse is not available.")
    ctx.audit(user, "dead-letters", stage=stage, reason=reason)  # keys may be patient ids
    rows = jsonable(ctx.history.dead_letter_details(stage, reason))
    return page(request, "dead_letters.html", stage=stage, reason=reason, rows=rows)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, subject: str = "", actor: str = "") -> HTMLResponse:
    user = user_of(request)
    if not user.may():
        return _forbidden(request, "read the audit trail")
    ctx = _ctx(request)
    ctx.audit(user, "audit-log", action="admin", subject_filter=subject, actor_filter=actor)
    found = list(audit.entries(ctx.log, subject=subject or None, actor=actor or None))[-500:][::-1]
    return page(request, "audit.html", entries=found, subject=subject, actor=actor)
