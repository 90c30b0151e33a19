"""Access for every request: login (session cookie) or bearer credential, CSRF, headers.

Every path needs an authenticated user except ``/login``, ``/static/…``, ``/healthz`` and
``/favicon.ico``.
A browser without a session is sent to ``/login``; an API or metrics client gets 401. Every
answer carries security headers (a strict Content-Security-Policy: scripts and styles only
from the dashboard itself, no framing, no sniffing, no referrer to other sites) and ``Cache-Control:
no-store`` (pages hold PHI).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from .. import metrics
from .accounts import User
from .sessions import COOKIE, Session

PUBLIC = ("/login", "/static/", "/healthz", "/favicon.ico")
HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on our own
    # form posts, and the same-origin check below needs the real origin
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        request.state.user = None
        request.state.session = None
        if not path.startswith(PUBLIC):
            ctx = request.app.state.ctx
            auth = request.headers.get("authorization", "")
            if auth[:7].lower() == "bearer ":
                from starlette.concurrency import run_in_threadpool

                request.state.user = await run_in_threadpool(ctx.accounts.verify_bearer, auth[7:].strip())
            else:
                session = ctx.sessions.get(request.cookies.get(COOKIE))
                if session is not None:
                    request.state.session, request.state.user = session, session.user
            if request.state.user is None:
                response = _unauthenticated(request)
                return _finish(response, path)
        response = await call_next(request)
        return _finish(response, path)


def _finish(response: Response, path: str) -> Response:
    for k, v in HEADERS.items():
        response.headers.setdefault(k, v)
    if not path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    metrics.http("dashboard", response.status_code)
    return response


def _unauthenticated(request: Request) -> Response:
    path = request.url.path
    if path.startswith(("/api/", "/metrics", "/live/")) or "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"detail": "log in (session cookie) or send Authorization: Bearer NAME:PASSWORD"},
                            status_code=401, headers={"WWW-Authenticate": 'Bearer realm="vitalstream"'})
    target = path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def user_of(request: Request) -> User:
    user: User = request.state.user
    return user


def safe_next(target: str | None) -> str:
    """Only a local path: never an open redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (small: login and acknowledge forms)."""
    body = await request.body()
    if len(body) > 16_384:
        return {}
    return {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def csrf_ok(request: Request, token: str | None) -> bool:
    """A state change with the session cookie needs the session's CSRF token (form field or
    ``X-CSRF-Token``) and, when the browser sends one, a same-origin ``Origin``. A bearer
    call carries no ambient credential, so it needs neither."""
    session: Session | None = request.state.session
    if session is None:
        return request.state.user is not None  # bearer
    origin = request.headers.get("origin")
    if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
        return False

    return session.csrf_ok(token or request.headers.get("x-csrf-token"))
