"""Sink, report, query, replay and warehouse commands.

    vitalstream sink lake|landing|warehouse [--until-idle] [--new-incarnation]
    vitalstream report low-oxygen|irregular-heart-rate|falls-elderly|news2|alerts|hr-by-activity|hr-by-demographics|seasonal|activity-by-daypart|sleep|notes [--patient ID] [--limit N] [--since 2h|2024-04-01T08:00Z] [--format table|json|csv] [--wide]
    vitalstream query "SELECT ..." [--format ...] [--wide]
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
from enum import Enum, StrEnum
from typing import Any

import typer

from ..sinks import SINKS
from .common import fail, friendly_errors, open_configured_log, print_json_lines, print_table, settings_from
from .tables import Column

warehouse_app = typer.Typer(help="The warehouse schema: migrate, status.", no_args_is_help=True)


# Built from the SINKS registry so a new sink is a new choice; mypy cannot list members of an
# Enum made at run time (hence the one ignore).
SinkName = Enum("SinkName", {name: name for name in SINKS}, type=str)  # type: ignore[misc]


def _report_names() -> dict[str, str]:
    from ..reports import REPORTS

    return {name: name for name in REPORTS}


ReportName = Enum("ReportName", _report_names(), type=str)  # type: ignore[misc]


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


_HAS_MODEL = ("SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() "
              "AND table_name = 'fct_heart_rates'")

# NEWS2 parameters as charts abbreviate them, for the narrow ``missing`` column.
_NEWS2_SHORT = {"respiratory_rate": "RR", "spo2": "SpO2", "on_oxygen": "O2", "systolic": "SBP",
                "heart_rate": "HR", "consciousness": "ACVPU", "temperature_c": "temp"}


def _short_missing(value: Any) -> str:
    import json

    names = json.loads(value) if isinstance(value, str) else value
    return " ".join(_NEWS2_SHORT.get(n, n) for n in names or ())


def _alert_values(message: Any) -> str:
    """``heart_rate=48`` from ``bradycardia escalated (heart_rate=48)``: rule and state have columns."""
    found = re.search(r"\((.*)\)$", str(message))
    return found.group(1) if found else str(message)


_PATIENT = (Column("age", right=True), Column("medical_history", "history"),
            Column("emergency_contact", "emergency contact"))

#: What each report shows without ``--wide``: enough to act on, in 80 columns.
REPORT_COLUMNS: dict[str, tuple[Column, ...]] = {
    "low-oxygen": (Column("event_time", "time"), Column("patient_id", "patient"),
                   Column("spo2", "SpO2", right=True), *_PATIENT),
    "irregular-heart-rate": (Column("event_time", "time"), Column("patient_id", "patient"),
                             Column("heart_rate", "HR", right=True), *_PATIENT),
    "falls-elderly": (Column("event_time", "time"), Column("patient_id", "patient"), *_PATIENT),
    "news2": (Column("patient_id", "patient"), Column("total", "NEWS2", right=True), Column("band"),
              Column("missing", format=_short_missing), Column("scale", right=True),
              Column("event_time", "time")),
    "alerts": (Column("event_time", "time"), Column("patient_id", "patient"), Column("rule"),
               Column("severity"), Column("state"), Column("message", "values", format=_alert_values)),
}

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


def _emit(rows: list[dict[str, Any]], fmt: Format, title: str | None = None, *,
          columns: tuple[Column, ...] | None = None, wide: bool = False) -> None:
    if fmt is Format.json:
        print_json_lines(rows)
    elif fmt is Format.csv:
        if rows:
            w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    else:
        print_table(rows, None if wide else columns, title=title, wide=wide, empty="no rows")


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
    name: SinkName = typer.Argument(..., help="lake (raw archive), landing (smartwatch Parquet), warehouse or docstore (MongoDB)"),
    until_idle: bool = typer.Option(False, "--until-idle", help="stop once the sink has caught up"),
    max_records: int = typer.Option(None, help="records per batch (default: process.max_batch)"),
    new_incarnation: bool = typer.Option(False, "--new-incarnation", help="lake/landing: after a topic reset or with a new log, archive the log's new incarnation of a topic beside the archived one (which stays untouched)"),
) -> None:
    """Run one sink as a process: write each batch durably, then commit its offsets."""
    from ..runtime import run_worker
    from ..sinks import build_sinks, linger_s

    s = settings_from(ctx)
    stop = _stop_on_signals()
    with open_configured_log(ctx) as log:
        [chosen] = build_sinks(log, s, [name.value], new_incarnation=new_incarnation)
        health = run_worker(log, chosen, stop, max_records=max_records or s.process.max_batch,
                            max_wait_s=s.process.max_wait_ms / 1000, until_idle=until_idle,
                            linger_s=linger_s(s, [chosen]))  # as the same sink gathers in `up`
    typer.echo(f"{name.value}: {health.records} records in {health.batches} batches", err=True)


@friendly_errors
def report(
    ctx: typer.Context,
    name: ReportName = typer.Argument(..., help="which report"),
    limit: int = typer.Option(100, help="at most N rows"),
    since: str = typer.Option(None, help="only events since: 2h, 7d or 2024-04-01T08:00Z"),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json (lines) or csv"),
    wide: bool = typer.Option(False, "--wide", help="table: every column, exact values (lines may be long)"),
    patient: str = typer.Option(None, "--patient", help="only this patient's rows (notes)"),
) -> None:
    """Warehouse reports: low SpO2, irregular heart rate, falls in the elderly, NEWS2, alerts,
    and the research questions over the warehouse model (hr-by-activity, hr-by-demographics,
    seasonal, activity-by-daypart, sleep) and clinical notes (problems and medications).

    The vitals reports show the patient's current metadata.
    The table fits 80 columns (times in UTC); --wide, --format json and csv give every column."""
    from ..reports import REPORTS, run_report
    from ..sinks.warehouse import open_warehouse

    s = settings_from(ctx)
    with open_warehouse(s.warehouse_url, read_only=True) as wh:
        if wh.version() == 0:
            raise fail("the warehouse is empty: run `vitalstream sink warehouse` (or `vitalstream up`) first")
        if REPORTS[name.value].needs_model and not wh.rows(_HAS_MODEL):
            raise fail("the warehouse model is not built yet: run `vitalstream model build` "
                       "(`vitalstream up` builds it on a schedule)")
        rows = run_report(wh, name.value, limit=limit, since=parse_time(since), patient=patient)
    _audit_read(ctx, f"report:{name.value}", rows=len(rows), since=since or "", patient=patient or "")
    _emit(rows, fmt, title=REPORTS[name.value].description, columns=REPORT_COLUMNS[name.value], wide=wide)


def _audit_read(ctx: typer.Context, subject: str, **detail: object) -> None:
    """Reports and queries read patient data: record who (the OS user) and what, before showing it."""
    import getpass

    from ..audit import record

    with open_configured_log(ctx) as log:
        record(log, actor=getpass.getuser(), role="cli", action="read", subject=subject, detail=detail)


@friendly_errors
def query(
    ctx: typer.Context,
    sql: str = typer.Argument(..., help="SQL for the warehouse (tables and v_* views: see docs/warehouse.md)"),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json (lines) or csv"),
    wide: bool = typer.Option(False, "--wide", help="table: exact values, nothing cut to fit the terminal"),
) -> None:
    """Run SQL against the warehouse."""
    from ..sinks.warehouse import open_warehouse

    with open_warehouse(settings_from(ctx).warehouse_url) as wh:
        cols, rows = wh.query(sql)
    _audit_read(ctx, "query", rows=len(rows))  # the SQL itself may quote PHI: not recorded
    _emit([dict(zip(cols, r, strict=True)) for r in rows], fmt, wide=wide)


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
def warehouse_status(ctx: typer.Context, fmt: Format = typer.Option(Format.table, "--format", help="table, json (lines) or csv")) -> None:
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
