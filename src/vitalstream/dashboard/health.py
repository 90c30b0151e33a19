"""Pipeline health: records and rate per topic, lag per consumer group, this process's
components, dead letters by stage and reason and the last model run (from the warehouse)."""

from __future__ import annotations

import re
import time
from typing import Any

from ..log import is_private_group
from .context import Context, jsonable
from .store import Reader

# one failure in model_runs.failed ("; "-joined): "<kind> <name>: <message>" (model.runner)
_FAILURE = re.compile(r"(?:^|; )(model|test|unit_test|seed|snapshot) [^\s:;]+: ")

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
    model = None
    if ctx.history is not None:
        try:
            dead = jsonable(ctx.history.dead_letters())
        except Exception as exc:  # an empty warehouse has no table yet
            error = type(exc).__name__
        model = jsonable(last_model_run(ctx.history.reader))
    return {"topics": topics, "groups": groups, "components": components, "dead_letters": dead,
            "dead_letters_error": error, "board_patients": len(ctx.board), "model_run": model}


def last_model_run(reader: Reader) -> dict[str, Any] | None:
    """The newest row of ``model_runs`` (what ``vitalstream model status`` shows first), with
    how many models and tests passed and failed; None before the first run."""
    if not reader.has_table("model_runs"):
        return None
    rows = reader.rows("SELECT started_at, command, ok, duration_s, models, tests, rows_affected, failed, message "
                       "FROM model_runs ORDER BY started_at DESC LIMIT 1")
    if not rows:
        return None
    run = rows[0]
    kinds = _FAILURE.findall(run["failed"] or "")
    run["models_failed"] = min(run["models"], kinds.count("model"))
    run["tests_failed"] = min(run["tests"], sum(k in ("test", "unit_test") for k in kinds))
    run["models_passed"] = run["models"] - run["models_failed"]
    run["tests_passed"] = run["tests"] - run["tests_failed"]
    run["status"] = "ok" if run["ok"] else "failed"
    run["duration_s"] = round(float(run["duration_s"]), 1)
    return run
