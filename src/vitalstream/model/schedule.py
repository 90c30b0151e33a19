"""Keeping the model current: run ``dbt build`` every ``[model] interval_s`` and record each
run's result in the warehouse's ``model_runs`` table (what ``vitalstream status`` shows).

Who runs it (see docs/warehouse.md, "Single writer"):

* DuckDB allows one writing *process* per file. So on DuckDB the scheduler is a thread of the
  sinks process, the process that already writes the file, and dbt opens the same database; a
  build and the warehouse sink's batches take turns (one process-wide lock), so the sink's
  batches wait for the length of a build and then catch up — nothing is lost.
* PostgreSQL has no such limit: the scheduler is a component of its own (kind ``model``).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .runner import ModelResult, run

if TYPE_CHECKING:
    from ..config import Settings

logger = logging.getLogger(__name__)

FIRST_RUN_DELAY_S = 30.0  # let the sinks load a first batch before the first build


def work_dir(settings: Settings) -> Path:
    return settings.home_path / "model"


def record(warehouse_url: str, result: ModelResult) -> None:
    """Append a run's result to ``model_runs`` (best effort: a failure to record is logged)."""
    from ..sinks.warehouse import open_warehouse

    try:
        with open_warehouse(warehouse_url) as wh:
            wh.migrate()
            result.rows = _model_rows(wh)
            wh.query("INSERT INTO model_runs (started_at, command, ok, duration_s, models, tests, "
                     "rows_affected, failed, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [result.started_at, result.command, result.ok, round(result.duration_s, 3),
                      result.models, result.tests, result.rows, "; ".join(result.failed)[:2000] or None,
                      result.message or None])
    except Exception as exc:
        logger.warning("could not record the model run: %s", type(exc).__name__)


def _model_rows(wh: Any) -> int:
    """Rows of the fact table and the aggregates (0 before the first build)."""
    total = 0
    for table in ("fct_heart_rates", "daily_aggregates", "weekly_aggregates", "monthly_aggregates"):
        try:
            total += wh.count(table)
        except Exception:
            return total
    return total


def last_runs(warehouse_url: str, limit: int = 1) -> list[dict[str, Any]]:
    """The newest recorded model runs (empty if none, or the table does not exist yet)."""
    from ..sinks.warehouse import open_warehouse

    with open_warehouse(warehouse_url, read_only=True) as wh:
        if wh.version() < 3:
            return []
        return wh.rows("SELECT started_at, command, ok, duration_s, models, tests, rows_affected, failed "
                       f"FROM model_runs ORDER BY started_at DESC LIMIT {int(limit)}")


def build_and_record(settings: Settings, command: str = "build") -> ModelResult:
    result = run(settings.warehouse_url, command, work_dir(settings), quiet=True)
    record(settings.warehouse_url, result)
    (logger.info if result.ok else logger.error)("%s", result.summary())
    return result


def run_every(settings: Settings, stop: threading.Event, first_delay_s: float = FIRST_RUN_DELAY_S) -> None:
    """Build the model every ``settings.model.interval_s`` seconds until ``stop``.

    A failing build is logged and recorded, and the next one runs on schedule (a bad row must
    not stop the pipeline); only a configuration error ends the loop."""
    interval = settings.model.interval_s
    if interval <= 0:
        return
    if stop.wait(min(first_delay_s, interval)):
        return
    while not stop.is_set():
        try:
            build_and_record(settings)
        except Exception as exc:
            logger.error("model run failed: %s", exc)
        stop.wait(interval)


def start_thread(settings: Settings, stop: threading.Event) -> threading.Thread | None:
    """On DuckDB: the scheduler as a thread of the calling (sinks) process."""
    if settings.model.interval_s <= 0 or not runs_in_sinks_process(settings):
        return None
    t = threading.Thread(target=run_every, args=(settings, stop), name="model-schedule")
    t.start()
    return t


def runs_in_sinks_process(settings: Settings) -> bool:
    return settings.warehouse_url.startswith("duckdb:")


def available() -> bool:
    """Is the ``model`` extra installed? (without importing dbt: that takes seconds)"""
    import importlib.util

    return importlib.util.find_spec("dbt") is not None and importlib.util.find_spec("dbt.cli") is not None


__all__ = ["build_and_record", "last_runs", "record", "run_every", "start_thread", "work_dir"]
