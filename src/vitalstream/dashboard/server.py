"""Running the dashboard: ``vitalstream dashboard`` and the ``dashboard`` component of ``up``."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .. import topics as T
from ..config import Settings
from ..errors import ConfigError
from ..log import open_log
from ..runtime import Health, WorkerThreads
from ..sources.serving import is_loopback
from .accounts import Accounts
from .app import create_app
from .board import Board
from .context import Context
from .feed import Feed, seed
from .history import History
from .sessions import Sessions
from .store import WarehouseAccess, open_access

logger = logging.getLogger(__name__)


def url_of(settings: Settings, host: str | None = None, port: int | None = None) -> str:
    return f"http://{host or settings.dashboard.host}:{settings.dashboard.port if port is None else port}/"


def check_exposure(settings: Settings, host: str) -> list[str]:
    if is_loopback(host):
        return []
    if not settings.dashboard.insecure:
        raise ConfigError(f"refusing to serve the dashboard on {host}: every page holds PHI and it has no "
                          "TLS of its own; bind 127.0.0.1 behind a TLS proxy, or set dashboard.insecure=true "
                          "(VITALSTREAM_DASHBOARD_INSECURE) to start anyway")
    return [f"INSECURE: the dashboard listens on {host} without TLS"]


def build(settings: Settings, stop: threading.Event,
          warn: Callable[[str], None] = logger.warning) -> tuple[Context, WarehouseAccess]:
    """The shared state of a dashboard: log, warehouse access, seeded board, feed (not started)."""
    accounts = Accounts.from_settings(settings)
    if not len(accounts):
        warn("no dashboard accounts: nobody can log in; add one with "
             "`vitalstream dashboard user add NAME --role clinician`")
    log = open_log(settings.log_url)
    T.ensure_all(log, settings.partitions, settings.retention_ms, settings.replication_factor)
    access = open_access(settings)
    board = Board()
    ctx = Context(settings, log, History(access.reader), board, Feed(log, board, stop), accounts,
                  Sessions(settings.dashboard.session_minutes), started=time.time())
    if access.sink is not None:
        ctx.sink_health = Health()
    seed(board, log, ctx.history)
    return ctx, access


def run(settings: Settings, stop: threading.Event, host: str | None = None, port: int | None = None,
        warn: Callable[[str], None] = logger.warning, ready: Callable[[str], None] | None = None) -> None:
    """Serve until ``stop`` is set. On DuckDB also runs the warehouse sink (see :mod:`.store`)."""
    import uvicorn

    bind = host or settings.dashboard.host
    for line in check_exposure(settings, bind):
        warn(line)
    from ..sinks import linger_s

    ctx, access = build(settings, stop, warn)
    threads: list[threading.Thread] = []
    # a failed warehouse sink stops the dashboard too (exit non-zero), so `up` notices it.
    # Its batches gather for warehouse_linger_ms: at a ward's rate the per-batch cost, not the
    # rows, is most of this process's CPU; the live board reads the log, not the warehouse.
    workers = [access.sink] if access.sink is not None else []
    sink = WorkerThreads(ctx.log, workers, stop,
                         health={access.sink.group: ctx.sink_health} if access.sink is not None else None,
                         max_records=20_000, max_wait_s=0.2, linger_s=linger_s(settings, workers))
    ctx.feed.start()
    sink.start()
    if access.sink is not None:  # this process holds the DuckDB file: the model runs here too
        from ..model import schedule

        model = schedule.start_thread(settings, stop) if schedule.available() else None
        if model is not None:
            threads.append(model)
    config = uvicorn.Config(create_app(ctx), host=bind, port=settings.dashboard.port if port is None else port,
                            log_level="warning", access_log=False, server_header=False, lifespan="off")
    server = uvicorn.Server(config)

    def exit_on_stop() -> None:
        stop.wait()
        server.should_exit = True

    threading.Thread(target=exit_on_stop, name="dashboard-stop", daemon=True).start()
    if ready is not None:
        ready(url_of(settings, bind, port))
    try:
        server.run()
    finally:
        stop.set()
        for t in threads:
            t.join(60)
        try:
            sink.join(60)
        finally:
            if access.sink is None:
                access.close()
            ctx.log.close()
