"""The HTTP ingest server: ``POST /stream`` (the smartwatch events' endpoint, port 62333) and friends.

Endpoints
---------
``POST /stream``            one JSON event, a JSON array of events, or NDJSON; each event is
                            routed to its raw topic by shape (:mod:`.routing`)
``POST /topics/{topic}``    the same bodies for one named raw or reference topic
``GET /healthz``            the process is up
``GET /readyz``             the log is reachable and writable (503 otherwise)
``GET /openapi.json``       the OpenAPI document (needs a key, like the POST routes)

Answers: **200** every event stored; **422** some events rejected — the body lists
``accepted`` (those *are* stored: do not resend them) and, per rejected event, its ``index``
and ``reason`` (each also went to the dead letters); **400** unreadable request;
**401** no credentials; **403** unknown key, a device key naming another device (in any
event, valid or not), or a reference topic without the admin scope; **404** unknown topic;
**408** body not received within ``http.body_timeout_s``; **413** body over
``http.max_body_bytes`` or more events than the key's burst; **429** the key over its rate
(``Retry-After`` seconds); **503** the log is unavailable (``Retry-After``). For
401/403/404/408/413/429/503 nothing from the request was stored.

There is no Swagger UI: it would load its JavaScript from a CDN and cannot send a bearer key
on page loads. Fetch ``/openapi.json`` with a key and browse it with any offline tool.

A 2xx/422 is sent only after the records were flushed to the log (group commit across
concurrent requests, :mod:`.writer`). Bodies are parsed with msgspec, not per-event pydantic
models: the OpenAPI document (:mod:`.openapi`) still describes them exactly, from the msgspec
structs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec

from ..config import Settings
from ..errors import require
from .base import Source
from .openapi import ALL_EVENTS, PROBLEM, STREAM_EVENTS, openapi_document, request_body, responses
from .service import Checked, HttpProblem, IngestService

require("fastapi", "http")

from fastapi import FastAPI, Request  # noqa: E402
from fastapi.responses import Response  # noqa: E402

from .. import metrics  # noqa: E402

if TYPE_CHECKING:
    import uvicorn

logger = logging.getLogger(__name__)

_json = msgspec.json.Encoder()


def create_app(settings: Settings, service: IngestService | None = None) -> FastAPI:
    """The FastAPI application (``service`` injectable for tests)."""
    svc = service or IngestService(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Open the log and create the topics now; if the log is down the server still
        # starts (readyz/POST answer 503 until it is back).
        ok, detail = await asyncio.get_running_loop().run_in_executor(None, svc.ready)
        if not ok:
            logger.warning("ingest server started but %s", detail)
        yield
        svc.close()

    app = FastAPI(
        lifespan=lifespan,
        # No Swagger UI/ReDoc (CDN assets, no way to send a key); /openapi.json is below.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        title="vitalstream ingest",
        version="1",
        description="Send vitals and notes into vitalstream. Authenticate with "
                    "`Authorization: Bearer <key>` or `X-API-Key: <key>`.",
    )
    app.state.service = svc

    async def ingest(request: Request, topic: str | None) -> Response:
        chunks = request.stream().__aiter__()

        async def read() -> tuple[bytes, bool]:
            try:
                return await chunks.__anext__(), True
            except StopAsyncIteration:
                return b"", False

        status, body, headers = await handle_ingest(svc, request.headers.get, read, topic)
        return Response(body, status_code=status, media_type="application/json", headers=headers)

    @app.post("/stream", openapi_extra={"requestBody": request_body(STREAM_EVENTS)},
              responses=responses(), summary="Ingest events, routed to raw topics by shape")
    async def stream(request: Request) -> Response:
        return await ingest(request, None)

    @app.post("/topics/{topic}", openapi_extra={"requestBody": request_body(ALL_EVENTS)},
              responses={**responses(), 404: {"description": "unknown topic", "content": {
                  "application/json": {"schema": PROBLEM}}}},
              summary="Ingest events into one named raw or reference topic")
    async def to_topic(topic: str, request: Request) -> Response:
        return await ingest(request, topic)

    @app.get("/healthz", summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_json(request: Request) -> Response:
        try:
            svc.authenticate(request.headers.get("authorization"), request.headers.get("x-api-key"))
        except HttpProblem as p:
            return Response(_json.encode({"detail": p.detail}), status_code=p.status,
                            media_type="application/json", headers=p.headers)
        return Response(_json.encode(app.openapi()), media_type="application/json")

    @app.get("/readyz", summary="The log is reachable and writable",
             responses={503: {"description": "the log is unavailable"}})
    async def readyz() -> Response:
        ok, detail = await asyncio.get_running_loop().run_in_executor(None, svc.ready)
        return Response(_json.encode({"status": "ok" if ok else "unavailable", "detail": detail}),
                        status_code=200 if ok else 503, media_type="application/json")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi_document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    return app


async def handle_ingest(
    svc: IngestService,
    header: Callable[[str], str | None],
    read: Callable[[], Awaitable[tuple[bytes, bool]]],
    topic: str | None,
) -> tuple[int, bytes, dict[str, str]]:
    """One ingest request, framework-free: ``(status, JSON body, extra headers)``."""
    try:
        principal = svc.authenticate(header("authorization"), header("x-api-key"))
        svc.authorize_topic(principal, topic)
        svc.check_length(header("content-length"))
        body = await _read_body(svc, read)
        checked: Checked = svc.check_body(body, header("content-type"), principal, topic)
        if checked.records:
            await svc.write(checked.records)
    except HttpProblem as p:
        metrics.http("ingest", p.status)
        return p.status, _json.encode({"detail": p.detail}), p.headers
    metrics.http("ingest", checked.status)
    return checked.status, _json.encode(checked.result()), {}


async def _read_body(svc: IngestService, read: Callable[[], Awaitable[tuple[bytes, bool]]]) -> bytes:
    """The whole body, within ``http.max_body_bytes`` (413) and ``http.body_timeout_s`` from
    the first byte awaited to the last (408): a trickled body cannot hold a connection."""
    limit = svc.max_body_bytes
    parts: list[bytes] = []
    size = 0
    more = True
    try:
        async with asyncio.timeout(svc.body_timeout_s):
            while more:
                chunk, more = await read()
                size += len(chunk)
                if size > limit:
                    raise svc.too_large()
                parts.append(chunk)
    except TimeoutError:
        raise svc.too_slow() from None
    return b"".join(parts) if len(parts) != 1 else parts[0]


class IngestASGI:
    """The served application: ``POST /stream`` and ``/topics/{topic}`` go straight to
    :func:`handle_ingest` (the hot path skips Starlette's request/routing layers, which cost
    more than the ingest itself for single-event requests); everything else, including the
    OpenAPI document describing those two routes, is the FastAPI app."""

    def __init__(self, app: FastAPI, service: IngestService) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path: str = scope["path"]
            if path == "/stream":
                return await self._ingest(scope, receive, send, None)
            if path.startswith("/topics/") and path.count("/") == 2 and len(path) > 8:
                return await self._ingest(scope, receive, send, path[8:])
        await self.app(scope, receive, send)

    async def _ingest(self, scope: dict[str, Any], receive: Any, send: Any,
                      topic: str | None) -> None:
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            headers[name.decode("latin-1")] = value.decode("latin-1")

        async def read() -> tuple[bytes, bool]:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"", False
            return message.get("body", b""), message.get("more_body", False)

        status, body, extra = await handle_ingest(self.service, headers.get, read, topic)
        raw_headers = [(b"content-type", b"application/json"),
                       (b"content-length", str(len(body)).encode())]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})


SETTINGS_ENV = "VITALSTREAM__SERVE_SETTINGS"  # settings handed to worker processes


def app_from_env() -> IngestASGI:
    """Factory for worker processes (``workers > 1``): settings come from the parent."""
    settings = msgspec.json.decode(os.environ[SETTINGS_ENV], type=Settings)
    svc = IngestService(settings)
    return IngestASGI(create_app(settings, svc), svc)


def server(settings: Settings, host: str | None = None, port: int | None = None,
           service: IngestService | None = None, access_log: bool = False,
           workers: int = 1,
           warn: Callable[[str], None] = logger.warning) -> uvicorn.Server:
    """A configured ``uvicorn.Server`` (call ``.run()``; tests run it in a thread).

    Refuses an unsafe exposure (:func:`.serving.exposure_warnings`, ``ConfigError``) and
    loads TLS from ``http.tls_cert``/``tls_key``. ``workers > 1`` runs that many processes on
    one listening socket (each with its own group-commit writer and rate limits).
    """
    import uvicorn

    from .auth import KeyRing, key_warnings
    from .serving import exposure_warnings, tls_options

    bind = host or settings.http.host
    KeyRing.from_settings(settings.http)  # bad key settings fail here, in one line
    for line in exposure_warnings(settings.http, bind) + key_warnings(settings.http):
        warn(line)
    common: dict[str, Any] = dict(
        host=bind,
        port=settings.http.port if port is None else port,
        log_level="warning",
        access_log=access_log,  # access lines carry client addresses: off by default
        lifespan="on",
        server_header=False,
        **tls_options(settings.http),
    )
    if workers > 1:
        os.environ[SETTINGS_ENV] = msgspec.json.encode(settings).decode()
        config = uvicorn.Config("vitalstream.sources.http:app_from_env", factory=True,
                                workers=workers, **common)
    else:
        svc = service or IngestService(settings)
        config = uvicorn.Config(IngestASGI(create_app(settings, svc), svc), **common)
    return uvicorn.Server(config)


def serve(settings: Settings, host: str | None = None, port: int | None = None,
          workers: int = 1, warn: Callable[[str], None] = logger.warning) -> None:
    """Run the server until interrupted (what ``vitalstream serve`` calls)."""
    import uvicorn

    srv = server(settings, host, port, workers=workers, warn=warn)
    if workers > 1:
        sock = srv.config.bind_socket()
        uvicorn.supervisors.Multiprocess(srv.config, sockets=[sock]).run()
    else:
        srv.run()


class HttpSource(Source):
    """The ingest server as a :class:`~.base.Source` (what ``vitalstream up --serve`` runs):
    when ``stop`` is set, uvicorn answers the requests in flight, then returns."""

    name = "http"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def run(self, stop: threading.Event) -> None:
        srv = server(self.settings)

        def exit_on_stop() -> None:
            stop.wait()
            srv.should_exit = True

        threading.Thread(target=exit_on_stop, name="http-stop", daemon=True).start()
        srv.run()
