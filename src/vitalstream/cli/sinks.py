"""Sink, report, query, replay and warehouse commands.

    vitalstream sink lake|landing|warehouse [--until-idle] [--new-incarnation]
    vitalstream report low-oxygen|irregular-heart-rate|falls-elderly|news2|alerts|notes [--patient ID] [--limit N] [--since 2h|2024-04-01T08:00Z] [--format table|json|csv]
    vitalstream query "SELECT ..." [--format ...]
    vitalstream replay --from-lake --topic heart-rate-data [--since ..] [--until ..] [--to-topic T]
    vitalstream warehouse migrate | status
"""

from __future__ import annotations

import csv
import re
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

import typer

from ..sinks import SINKS
from .common import fail, friendly_errors, open_configured_log, print_json_lines, print_table, settings_from

warehouse_app = typer.Typer(help="The warehouse schema: migrate, status.", no_args_is_help=True)


SinkName = Enum("SinkName", {name: name for name in SINKS}, type=str)  # type: ignore[misc]


class ReportName(str, Enum):
    low_oxygen = "low-oxygen"
    irregular_heart_rate = "irregular-heart-rate"
    falls_elderly = "falls-elderly"
    news2 = "news2"
    alerts = "alerts"
    notes = "notes"


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")


def parse_time(text: str | None, now: datetime | None = None) -> datetime | None:
    """``2h`` / ``30m`` / ``7d`` ago, or an ISO-8601 time (naive means UTC)."""
    if not text:
        return None
    m = _DURATION.match(text.strip())
    if m:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
        return (now or datetime.now(UTC)) - timedelta(**{unit: float(m.group(1))})
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{text!r}: use an ISO time (2024-04-01T08:00Z) or a duration (30m, 2h, 7d)") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _emit(rows: list[dict[str, Any]], fmt: Format, title: str | None = None) -> None:
    if fmt is Format.json:
        print_json_lines(rows)
    elif fmt is Format.csv:
        if rows:
            w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    else:
        print_table(rows, title=title)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


@friendly_errors
def sink(
    ctx: typer.Context,
    name: SinkName = typer.Argument(..., help="lake (raw archive), landing (smartwatch Parquet), warehouse or docstore (MongoDB)"),  # type: ignore[valid-type]
    until_idle: bool = typer.Option(False, "--until-idle", help="stop once the sink has caught up"),
    max_records: int = typer.Option(None, help="records per batch (default: process.max_batch)"),
    new_incarnation: bool = typer.Option(False, "--new-incarnation", help="lake/landing: after a topic reset or with a new log, archive the log's new incarnation of a topic beside the archived one (which stays untouched)"),
) -> None:
    """Run one sink as a process: write each batch durably, then commit its offsets."""
    from ..runtime import run_worker
    from ..sinks import build_sinks

    s = settings_from(ctx)
    stop = _stop_on_signals()
    with open_configured_log(ctx) as log:
        [chosen] = build_sinks(log, s, [name.value], new_incarnation=new_incarnation)
        health = run_worker(log, chosen, stop, max_records=max_records or s.process.max_batch,
                            max_wait_s=s.process.max_wait_ms / 1000, until_idle=until_idle)
    typer.echo(f"{name.value}: {health.records} records in {health.batches} batches", err=True)


@friendly_errors
def report(
    ctx: typer.Context,
    name: ReportName = typer.Argument(..., help="which report"),
    limit: int = typer.Option(100, help="at most N rows"),
    since: str = typer.Option(None, help="only events since: 2h, 7d or 2024-04-01T08:00Z"),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json (lines) or csv"),
    patient: str = typer.Option(None, "--patient", help="only this patient's rows"),
) -> None:
    """The seed-0 reports (with current patient metadata), current NEWS2, alerts, notes."""
    from ..reports import REPORTS, run_report
    from ..sinks.warehouse import open_warehouse

    s = settings_from(ctx)
    with open_warehouse(s.warehouse_url, read_only=True) as wh:
        if wh.version() == 0:
            raise fail("the warehouse is empty: run `vitalstream sink warehouse` (or `vitalstream up`) first")
        rows = run_report(wh, name.value, limit=limit, since=parse_time(since), patient=patient)
    _emit(rows, fmt, title=REPORTS[name.value].description)


@friendly_errors
def query(
    ctx: typer.Context,
    sql: str = typer.Argument(..., help="SQL for the warehouse (tables and v_* views: see docs/warehouse.md)"),
    fmt: Format = typer.Option(Format.table, "--format"),
) -> None:
    """Run SQL against the warehouse."""
    from ..sinks.warehouse import open_warehouse

    with open_warehouse(settings_from(ctx).warehouse_url) as wh:
        cols, rows = wh.query(sql)
    _emit([dict(zip(cols, r, strict=True)) for r in rows], fmt)


@friendly_errors
def replay(
    ctx: typer.Context,
    from_lake: bool = typer.Option(False, "--from-lake", help="read the records from the lake archive"),
    topic: str = typer.Option(..., "--topic", help="raw topic to replay"),
    since: str = typer.Option(None, help="event time from (inclusive): ISO time or 2h/7d ago"),
    until: str = typer.Option(None, help="event time until (exclusive)"),
    to_topic: str = typer.Option(None, "--to-topic", help="publish to another topic (default: the same)"),
) -> None:
    """Re-publish archived raw records so the pipeline rebuilds what they feed."""
    from ..replay import replay_from_lake

    if not from_lake:
        raise fail("only --from-lake is supported (dead letters: `vitalstream dlq replay`)")
    s = settings_from(ctx)
    with open_configured_log(ctx) as log:
        n = replay_from_lake(log, s.lake_url, topic, since=parse_time(since), until=parse_time(until),
                             to_topic=to_topic)
    typer.echo(f"replayed {n} records into {to_topic or topic}")


@warehouse_app.command("migrate")
@friendly_errors
def warehouse_migrate(ctx: typer.Context) -> None:
    """Create or upgrade the warehouse schema to the latest version."""
    from ..sinks.warehouse import open_warehouse
    from ..sinks.warehouse.schema import LATEST

    with open_warehouse(settings_from(ctx).warehouse_url) as wh:
        done = wh.migrate()
    typer.echo(f"applied migrations {done}" if done else f"already at version {LATEST}")


@warehouse_app.command("status")
@friendly_errors
def warehouse_status(ctx: typer.Context, fmt: Format = typer.Option(Format.table, "--format")) -> None:
    """Schema version and row count of every table."""
    from ..sinks.warehouse import open_warehouse
    from ..sinks.warehouse.schema import TABLES

    with open_warehouse(settings_from(ctx).warehouse_url, read_only=True) as wh:
        version = wh.version()
        rows = [{"table": t.name, "topic": t.topic, "rows": wh.count(t.name) if version else None}
                for t in TABLES]
    _emit(rows, fmt, title=f"warehouse schema version {version}")


def register(app: typer.Typer) -> None:
    app.command("sink")(sink)
    app.command("report")(report)
    app.command("query")(query)
    app.command("replay")(replay)
    app.add_typer(warehouse_app, name="warehouse")
