"""Server-sent events: the board's changed rows, pushed as they change.

``GET /live/board`` streams ``event: rows`` with a JSON list of the rows changed since the
previous push (checked every 250 ms, so a change reaches the browser well within 2 s) and a
comment every 15 s so proxies keep the connection open. The browser's EventSource reconnects
by itself; on reconnect it receives every row once more.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from .context import Context
from .web import user_of

router = APIRouter(include_in_schema=False)
PUSH_EVERY_S = 0.25
KEEPALIVE_S = 15.0


@router.get("/live/board")
async def board_stream(request: Request) -> StreamingResponse:
    ctx: Context = request.app.state.ctx
    await run_in_threadpool(ctx.audit, user_of(request), "board", live="stream")

    async def events() -> AsyncIterator[str]:
        seen = 0
        quiet = 0.0
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            seen, rows = ctx.board.changes(seen)
            if rows:
                quiet = 0.0
                yield f"event: rows\ndata: {json.dumps(rows)}\n\n"
            else:
                quiet += PUSH_EVERY_S
                if quiet >= KEEPALIVE_S:
                    quiet = 0.0
                    yield ": keep-alive\n\n"
            await asyncio.sleep(PUSH_EVERY_S)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"X-Accel-Buffering": "no"})
