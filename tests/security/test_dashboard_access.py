"""The dashboard's access rules, against the real app on an embedded log and DuckDB warehouse:
login required everywhere, bearer credentials, roles, CSRF and same-origin on acknowledge,
security headers, no open redirect, a brake on password guessing, no script breakout, and
the refusal to listen beyond loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from vitalstream.config import load
from vitalstream.dashboard.accounts import add_account
from vitalstream.dashboard.app import create_app
from vitalstream.dashboard.pages import script_json
from vitalstream.dashboard.server import build, check_exposure
from vitalstream.errors import ConfigError

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    settings = load(environ={}, overrides={"home": str(tmp_path_factory.mktemp("dashboard"))})
    for name, role in (("cleo", "clinician"), ("ana", "analyst"), ("root", "admin")):
        add_account(settings, name, role, PASSWORD)
    ctx, access = build(settings, threading.Event())
    ctx.board.apply("alerts", b'{"alert_id":"A1","patient_id":"P1","rule":"fever","severity":"medium",'
                              b'"state":"raised","raise_time":"2026-01-01T00:00:00Z"}')
    app = create_app(ctx)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):  # bounded: 10 s
        if server.started:
            break
        threading.Event().wait(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    app.state.url = f"http://127.0.0.1:{port}"
    try:
        yield app
    finally:
        server.should_exit = True
        thread.join(10)
        access.close()
        ctx.log.close()


def client(app: Any) -> httpx.Client:
    return httpx.Client(base_url=app.state.url, follow_redirects=False)


def login(app: Any, name: str) -> tuple[httpx.Client, str]:
    c = client(app)
    r = c.post("/login", data={"name": name, "password": PASSWORD, "next": "/"})
    assert r.status_code == 303
    page = c.get("/", headers={"accept": "text/html"}).text
    csrf = page.split('id="csrf" value="')[1].split('"')[0]
    return c, csrf


@pytest.mark.parametrize("path", ["/", "/patients/P1", "/reports", "/reports/alerts?format=csv", "/health",
                                  "/audit", "/api/v1/patients", "/api/v1/alerts", "/api/v1/openapi.json",
                                  "/metrics", "/live/board", "/api/v1/patients/P1/notes", "/api/v1/health",
                                  "/health/dead-letters?stage=s&reason=r"])
def test_every_page_and_api_call_needs_a_login(app: Any, path: str) -> None:
    c = client(app)
    page = c.get(path, headers={"accept": "text/html"})
    api = c.get(path)
    assert page.status_code in (303, 401) and api.status_code == 401
    if page.status_code == 303:
        assert page.headers["location"].startswith("/login?next=")
    bad = c.get(path, headers={"authorization": "Bearer ana:wrong password"})
    assert bad.status_code == 401


def test_bearer_credentials_and_security_headers(app: Any) -> None:
    r = client(app).get("/api/v1/patients", headers={"authorization": f"Bearer ana:{PASSWORD}"})
    assert r.status_code == 200 and r.json()["items"][0]["patient_id"] == "P1"
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_session_cookie_is_httponly_and_strict(app: Any) -> None:
    r = client(app).post("/login", data={"name": "cleo", "password": PASSWORD})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_acknowledge_needs_csrf_same_origin_and_a_clinician(app: Any) -> None:
    c, csrf = login(app, "cleo")
    assert c.post("/alerts/A1/ack", data={}).status_code == 403
    assert c.post("/alerts/A1/ack", data={"csrf": "forged"}).status_code == 403
    other = c.post("/alerts/A1/ack", data={"csrf": csrf}, headers={"origin": "http://evil.example"})
    assert other.status_code == 403
    ok = c.post("/alerts/A1/ack", data={"csrf": csrf}, headers={"origin": app.state.url})
    assert ok.status_code == 303
    row = app.state.ctx.board.row("P1")
    assert row["alerts"][0]["acked_by"] == "cleo"
    a, csrf_a = login(app, "ana")
    assert a.post("/alerts/A1/ack", data={"csrf": csrf_a}).status_code == 403  # analysts may not
    assert client(app).post("/api/v1/alerts/A1/ack", headers={"authorization": f"Bearer ana:{PASSWORD}"}).status_code == 403


def test_roles_guard_health_and_audit(app: Any) -> None:
    c, _ = login(app, "cleo")
    assert c.get("/health").status_code == 403 and c.get("/audit").status_code == 403
    assert c.get("/api/v1/health").status_code == 403
    assert c.get("/health/dead-letters", params={"stage": "s", "reason": "r"}).status_code == 403
    r, _ = login(app, "root")
    assert r.get("/health").status_code == 200 and r.get("/audit").status_code == 200


def test_login_never_redirects_off_site(app: Any) -> None:
    for target in ("//evil.example/x", "http://evil.example", "/\\evil.example"):
        r = client(app).post("/login", data={"name": "cleo", "password": PASSWORD, "next": target})
        assert r.headers["location"] == "/"


def test_password_guessing_is_paused(app: Any) -> None:
    c = client(app)
    add_account(app.state.ctx.settings, "gus", "analyst", PASSWORD)
    app.state.ctx.accounts = type(app.state.ctx.accounts).from_settings(app.state.ctx.settings)
    for _ in range(5):
        assert c.post("/login", data={"name": "gus", "password": "guess"}).status_code == 401
    # even the right password is refused while the name is paused
    assert c.post("/login", data={"name": "gus", "password": PASSWORD}).status_code == 401


def test_no_script_breakout_from_data() -> None:
    assert "</script>" not in str(script_json({"patient_id": "</script><script>alert(1)</script>"}))


def test_refuses_a_non_loopback_address_unless_insecure(tmp_path: Path) -> None:
    settings = load(environ={}, overrides={"home": str(tmp_path)})
    assert check_exposure(settings, "127.0.0.1") == []
    with pytest.raises(ConfigError, match="refusing"):
        check_exposure(settings, "0.0.0.0")
    loose = load(environ={}, overrides={"home": str(tmp_path), "dashboard": {"insecure": True}})
    assert check_exposure(loose, "0.0.0.0")
