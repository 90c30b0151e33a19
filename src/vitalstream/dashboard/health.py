"""Pipeline health: records and rate per topic, lag per consumer group, this process's
components, dead letters by stage and reason (from the warehouse)."""

from __future__ import annotations

import time
from typing import Any

from ..log import is_private_group
from .context import Context, jsonable

_last: dict[str, tuple[float, int]] = {}  # topic -> (monotonic time, records) at the last view


def pipeline_health(ctx: Context) -> dict[str, Any]:
    now = time.monotonic()
    topics = []
    for name in sorted(ctx.log.list_topics()):
        n = ctx.log.describe_topic(name).records
        prev_t, prev_n = _last.get(name, (now, n))
        rate = (n - prev_n) / (now - prev_t) if now > prev_t else 0.0
        _last[name] = (now, n)
        topics.append({"topic": name, "records": n, "rate": round(rate, 1)})
    groups = [{"group": g, "lag": sum(x.lag for x in ctx.log.group_lag(g))}
              for g in sorted(ctx.log.list_groups()) if not is_private_group(g)]
    components = {"live feed": "ready" if ctx.feed.ready.is_set() else f"starting {ctx.feed.error}".strip(),
                  **ctx.components}
    if ctx.sink_health is not None:
        h = ctx.sink_health
        components["warehouse sink (in this process)"] = (
            f"{'healthy' if h.healthy else 'unhealthy: ' + h.last_error}, {h.records:,} records")
    dead: list[dict[str, Any]] = []
    error = ""
    if ctx.history is not None:
        try:
            dead = jsonable(ctx.history.dead_letters())
        except Exception as exc:  # an empty warehouse has no table yet
            error = type(exc).__name__
    return {"topics": topics, "groups": groups, "components": components, "dead_letters": dead,
            "dead_letters_error": error, "board_patients": len(ctx.board)}
