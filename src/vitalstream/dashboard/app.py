"""The FastAPI application: pages, live stream, read API, metrics, static files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from . import api, live, pages, prom, web
from .context import Context


def create_app(ctx: Context) -> FastAPI:
    app = FastAPI(title="vitalstream dashboard API", version="1", docs_url=None, redoc_url=None, openapi_url=None,
                  description="Read API of the vitalstream dashboard. Authenticate with the session cookie "
                              "or `Authorization: Bearer NAME:PASSWORD`. Times are UTC ISO-8601.")
    app.state.ctx = ctx
    web.install(app)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    for r in (pages.router, live.router, api.router, prom.router):
        app.include_router(r)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "feed": "ready" if ctx.feed.ready.is_set() else "starting"}

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/api/v1/openapi.json", include_in_schema=False)
    def openapi(request: Request) -> JSONResponse:
        return JSONResponse(app.openapi())

    return app
