"""kcat-like operator commands on whichever log is configured."""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any

import msgspec
import typer

from .. import topics as T
from ..config import Settings
from ..errors import TopicError
from ..log import is_private_group, private_group
from ..log.base import Log, TopicSpec
from .common import fail, friendly_errors, open_configured_log, print_table, settings_from, warn

topics_app = typer.Typer(help="List, inspect, create, delete, purge and reset topics.", no_args_is_help=True)


def _own_spec(ctx: typer.Context, name: str) -> TopicSpec:
    s = settings_from(ctx)
    return T.own_spec(name, s.partitions, s.retention_ms, s.replication_factor)


@topics_app.command("list")
@friendly_errors
def topics_list(ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="one JSON document instead of tables")) -> None:
    """Every topic with partitions and record counts."""
    with open_configured_log(ctx) as log:
        rows = []
        for name in log.list_topics():
            info = log.describe_topic(name)
            rows.append({"topic": name, "partitions": info.spec.partitions, "records": info.records,
                         "retention_h": None if info.spec.retention_ms is None else info.spec.retention_ms / 3_600_000,
                         "compacted": info.spec.compacted, "vitalstream": T.is_own(name)})
    if json_out:
        sys.stdout.write(msgspec.json.encode(rows).decode() + "\n")
    else:
        print_table(rows, title="topics")


@topics_app.command("describe")
@friendly_errors
def topics_describe(ctx: typer.Context, topic: str, json_out: bool = typer.Option(False, "--json", help="one JSON document instead of tables")) -> None:
    """Partitions with low/high watermarks."""
    with open_configured_log(ctx) as log:
        info = log.describe_topic(topic)
    rows = [{"partition": p.partition, "low": p.low, "high": p.high, "records": p.high - p.low}
            for p in info.partitions]
    if json_out:
        doc = {"topic": topic, "partitions": info.spec.partitions, "retention_ms": info.spec.retention_ms,
               "compacted": info.spec.compacted, "detail": rows}
        sys.stdout.write(msgspec.json.encode(doc).decode() + "\n")
    else:
        kept = "forever" if info.spec.retention_ms is None else f"{info.spec.retention_ms / 3_600_000:g} h"
        print_table(rows, title=f"{topic}: retention {kept}{', compacted' if info.spec.compacted else ''}")


@topics_app.command("create")
@friendly_errors
def topics_create(
    ctx: typer.Context,
    topic: str,
    partitions: int = typer.Option(None, help="default: the configured partitions"),
    retention_hours: float = typer.Option(None, help="default: the configured retention"),
    compacted: bool = typer.Option(False, "--compacted", help="keep only the latest record per key, forever"),
) -> None:
    """Create a topic (vitalstream's own get their catalogue settings by default)."""
    s = settings_from(ctx)
    base = _own_spec(ctx, topic) if T.is_own(topic) else TopicSpec(topic, s.partitions, s.retention_ms)
    spec = TopicSpec(
        topic,
        partitions or base.partitions,
        int(retention_hours * 3_600_000) if retention_hours else base.retention_ms,
        compacted or base.compacted,
        s.replication_factor,
    )
    with open_configured_log(ctx) as log:
        log.create_topic(spec, exist_ok=False)
    typer.echo(f"created {topic} ({spec.partitions} partitions)")


@topics_app.command("delete")
@friendly_errors
def topics_delete(ctx: typer.Context, topic: str) -> None:
    """Delete one topic and its records."""
    with open_configured_log(ctx) as log:
        log.delete_topic(topic)
    typer.echo(f"deleted {topic}")


@topics_app.command("purge")
@friendly_errors
def topics_purge(ctx: typer.Context, topic: str) -> None:
    """Remove every record; the topic stays."""
    with open_configured_log(ctx) as log:
        log.purge_topic(topic)
    typer.echo(f"purged {topic}")


@topics_app.command("reset")
@friendly_errors
def topics_reset(ctx: typer.Context, yes: bool = typer.Option(False, "--yes", help="do not ask")) -> None:
    """Delete and recreate vitalstream's own topics only; other topics are never touched."""
    with open_configured_log(ctx) as log:
        own = [t for t in log.list_topics() if T.is_own(t)]
        others = [t for t in log.list_topics() if not T.is_own(t)]
        if not yes:
            typer.confirm(f"delete and recreate {len(own)} vitalstream topics?", abort=True)
        for name in own:
            log.delete_topic(name)
        s = settings_from(ctx)
        T.ensure_all(log, s.partitions, s.retention_ms, s.replication_factor)
    typer.echo(f"reset {len(T.CATALOGUE)} vitalstream topics; left {len(others)} other topics untouched")


def _ensure_topic(ctx: typer.Context, log: Log, topic: str, create: bool) -> None:
    if topic in log.list_topics():
        return
    if T.is_own(topic):
        log.create_topic(_own_spec(ctx, topic))
    elif create:
        s = settings_from(ctx)
        log.create_topic(TopicSpec(topic, s.partitions, s.retention_ms, False, s.replication_factor))
    else:
        raise TopicError(f"topic {topic!r} does not exist and is not a vitalstream topic; pass --create to create it")


@friendly_errors
def produce(
    ctx: typer.Context,
    topic: str,
    file: Path = typer.Option(None, "--file", "-f", help="read JSON lines from FILE (default stdin)"),
    key_field: str = typer.Option(None, "--key-field", "-k", help="JSON field whose value is the key"),
    raw: bool = typer.Option(False, "--raw", help="send each line as-is, unparsed (for testing dead letters)"),
    create: bool = typer.Option(False, "--create", help="create the topic if it does not exist"),
    strict: bool = typer.Option(False, "--strict", help="fail the whole command on the first bad line"),
    batch: int = typer.Option(5000, help="records per flush"),
) -> None:
    """Send JSON lines to TOPIC. A malformed line is reported with its number and skipped."""
    stream = file.open("rb") if file else sys.stdin.buffer
    sent = bad = 0
    with open_configured_log(ctx) as log:
        _ensure_topic(ctx, log, topic, create)
        with log.producer() as p:
            for lineno, line in enumerate(stream, 1):
                line = line.rstrip(b"\r\n")
                if not line:
                    continue
                key = None
                if not raw or key_field:
                    try:
                        doc = msgspec.json.decode(line)
                        if key_field:
                            if not isinstance(doc, dict) or doc.get(key_field) is None:
                                raise ValueError(f"no field {key_field!r}")
                            key = str(doc[key_field]).encode()
                    except (msgspec.DecodeError, ValueError) as exc:
                        if not raw:
                            bad += 1
                            typer.echo(f"line {lineno}: {exc}", err=True)
                            if strict:
                                p.flush()
                                raise fail(f"stopped at line {lineno} (--strict); {sent} sent before it", 1) from None
                            continue
                p.send(topic, line, key=key)
                sent += 1
                if sent % batch == 0:
                    p.flush()
            p.flush()
    typer.echo(f"sent {sent} records to {topic}" + (f"; {bad} bad lines skipped" if bad else ""), err=True)
    if bad:
        raise typer.Exit(1)


@friendly_errors
def consume(
    ctx: typer.Context,
    topic: str,
    group: str = typer.Option(None, "--group", "-g", help="consumer group (default: a private one; commits only with a group)"),
    from_beginning: bool = typer.Option(False, "--from-beginning", help="start at the oldest record, even when --group has a position (without --group every record is read)"),
    max_records: int = typer.Option(0, "--max", help="stop after N records (0 = no limit)"),
    timeout: float = typer.Option(5.0, "--timeout", help="stop after S seconds without records"),
    envelope: bool = typer.Option(False, "--envelope", help="print topic/partition/offset/key/headers around each value"),
) -> None:
    """Write records of TOPIC to stdout as JSON lines (values byte-for-byte unless --envelope)."""
    import time

    out = sys.stdout.buffer
    n = 0
    with open_configured_log(ctx) as log:
        log.describe_topic(topic)
        grp = group or private_group("consume")
        with log.consumer(grp, [topic], auto_offset_reset="earliest" if from_beginning or not group else "latest") as c:
            if from_beginning:
                c.seek_to_beginning()
            idle_since = time.monotonic()
            done: dict[tuple[str, int], int] = {}
            while True:
                recs = c.poll(max_records=5000, timeout=0.2)
                if recs:
                    idle_since = time.monotonic()
                for r in recs:
                    done[(r.topic, r.partition)] = r.offset + 1
                    if envelope:
                        out.write(msgspec.json.encode({
                            "topic": r.topic, "partition": r.partition, "offset": r.offset,
                            "timestamp_ms": r.timestamp_ms,
                            "key": r.key.decode("utf-8", "replace") if r.key is not None else None,
                            "headers": {k: v.decode("utf-8", "replace") for k, v in r.headers},
                            "value": _as_json_text(r.value),
                        }) + b"\n")
                    else:
                        out.write(r.value + b"\n")
                    n += 1
                    if max_records and n >= max_records:
                        break
                if group and done:
                    c.commit(done)  # only what was written out, even when --max stops mid-batch
                if (max_records and n >= max_records) or time.monotonic() - idle_since > timeout:
                    break
    out.flush()


def _as_json_text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(value).decode()


@friendly_errors
def status(ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="one JSON document instead of tables")) -> None:
    """Topics with record counts, and every consumer group's lag."""
    from ..redact import redact_url

    s = settings_from(ctx)
    with open_configured_log(ctx) as log:
        topics = [{"topic": n, "records": log.describe_topic(n).records} for n in log.list_topics()]
        groups = []
        for g in log.list_groups():
            if is_private_group(g):
                continue
            lags = log.group_lag(g)
            if lags:
                groups.append({"group": g, "topics": len({x.topic for x in lags}), "lag": sum(x.lag for x in lags)})
    warnings = [] if any(t["records"] for t in topics) else _data_without_log(s)
    for w in warnings:
        warn(w)
    url = redact_url(s.log_url)
    model = _last_model_run(s)
    if json_out:
        doc = {"log": url, "topics": topics, "groups": groups, "model": model, "warnings": warnings}
        sys.stdout.write(msgspec.json.encode(doc).decode() + "\n")
        return
    print_table(topics, title=f"topics on {url}")
    print_table(groups, title="consumer groups")
    if model:
        print_table([model], title="last warehouse model run")


def _last_model_run(s) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    """The newest recorded model run, or None (none yet, or the warehouse is unreachable)."""
    try:
        from ..model.schedule import last_runs

        runs = last_runs(s.warehouse_url, 1)
    except Exception:
        return None
    return runs[0] if runs else None


def _data_without_log(s: Settings) -> list[str]:
    """An empty log beside a lake or warehouse that holds data means the log was lost or reset.

    Checked only for the embedded stores (a ``file://`` lake, a ``duckdb://`` warehouse): they
    are cheap to look at and are what a deleted ``log.db`` leaves behind."""
    from urllib.parse import urlsplit

    found = []
    lake = urlsplit(s.lake_url)
    if lake.scheme == "file":
        root = Path(lake.netloc + lake.path)
        if root.is_dir() and next((f for f in root.rglob("*") if f.is_file()), None) is not None:
            found.append("the lake")
    wh = urlsplit(s.warehouse_url)
    if wh.scheme == "duckdb" and Path(wh.netloc + wh.path).is_file():
        try:
            from ..sinks.warehouse import open_warehouse
            from ..sinks.warehouse.schema import TABLES

            with open_warehouse(s.warehouse_url, read_only=True) as w:
                if w.version() and any(w.count(t.name) for t in TABLES):
                    found.append("the warehouse")
        except Exception:  # a busy or odd warehouse: say nothing rather than fail status
            pass
    if not found:
        return []
    return [f"the log has no records but {' and '.join(found)} {'hold' if len(found) > 1 else 'holds'} data: was the log "
            "deleted or reset? Sinks will start again from offset 0; see docs/operations.md "
            "(Recovery) before starting the pipeline"]


def register(app: typer.Typer) -> None:
    app.add_typer(topics_app, name="topics")
    app.command("produce")(produce)
    app.command("consume")(consume)
    app.command("status")(status)
