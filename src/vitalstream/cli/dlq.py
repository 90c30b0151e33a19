"""``vitalstream dlq list|show|replay``: what failed, why, and sending it back once fixed."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import typer

from .. import topics as T
from .common import fail, open_configured_log, print_table
from .tables import Column

if TYPE_CHECKING:
    from ..log.base import Log, Record

dlq_app = typer.Typer(help="Inspect and replay dead letters.", no_args_is_help=True)

# The default view: which entry (for `dlq show` / `replay`), from which topic, why.
_NARROW = (Column("offset"), Column("source", format=lambda s: str(s).split(":")[0]), Column("key"),
           Column("reason"), Column("replayed"))
_WIDE = ("offset", "stage", "error", "source", "field", "key", "event_id", "reason", "payload", "replayed")


def _entries(log: Log) -> Iterator[Record]:
    from ..log import read_all

    T.ensure(log, [T.DEAD_LETTERS, T.DLQ_REPLAYED])
    return read_all(log, [T.DEAD_LETTERS], purpose="dlq")


def _ref(text: str) -> tuple[int, int]:
    try:
        a, b = text.split(":")
        return int(a), int(b)
    except ValueError:
        raise fail(f"{text!r}: expected PARTITION:OFFSET (the first column of `dlq list`)") from None


@dlq_app.command("list")
def dlq_list(
    ctx: typer.Context,
    limit: int = typer.Option(50, help="the newest N"),
    source: str = typer.Option(None, "--source", help="only those from this topic"),
    json_out: bool = typer.Option(False, "--json", help="JSON lines with the original key and value"),
    wide: bool = typer.Option(False, "--wide", help="also stage, error class, field, source offset, event id and a payload preview"),
) -> None:
    """Dead letters, newest last: which entry, where from, why.

    OFFSET (PARTITION:OFFSET) is what `dlq show` and `dlq replay` take."""
    from ..deadletter import DeadLetter, as_text, event_id_of, marker, preview, replayed_markers

    rows = []
    with open_configured_log(ctx) as log:
        records = list(_entries(log))
        done = replayed_markers(log)
        topic_id = log.describe_topic(T.DEAD_LETTERS).topic_id
    for r in records:
        d = DeadLetter.from_record(r)
        if source and d.source_topic != source:
            continue
        key, key_enc = as_text(d.key)
        row: dict[str, Any] = {"offset": f"{r.partition}:{r.offset}", "stage": d.stage, "error": d.error_class,
               "source": f"{d.source_topic}:{d.source_partition}:{d.source_offset}"
               if d.source_partition is not None else d.source_topic,
               "field": d.field, "reason": d.reason, "key": key, "event_id": event_id_of(d.value),
               "replayed": marker(topic_id, r.partition, r.offset) in done}
        if json_out:
            value, value_enc = as_text(d.value)
            row.update(key_encoding=key_enc, value=value, value_encoding=value_enc, time_ms=d.time_ms)
        else:
            row["payload"] = preview(d.value)
        rows.append(row)
    rows = rows[-limit:] if limit > 0 else rows
    if json_out:
        sys.stdout.write("".join(msgspec.json.encode(r).decode() + "\n" for r in rows))
    else:
        for row in rows:
            row["replayed"] = "yes" if row["replayed"] else ""
        print_table(rows, _WIDE if wide else _NARROW, title=f"dead letters ({len(rows)} shown)",
                    wide=wide, empty="none")


@dlq_app.command("show")
def dlq_show(ctx: typer.Context, ref: str = typer.Argument(..., help="PARTITION:OFFSET from `dlq list`")) -> None:
    """One dead letter in full: headers and the original value."""
    from ..deadletter import DeadLetter, as_text

    part, off = _ref(ref)
    with open_configured_log(ctx) as log:
        for r in _entries(log):
            if (r.partition, r.offset) == (part, off):
                d = DeadLetter.from_record(r)
                doc: dict[str, Any] = {f.name: getattr(d, f.name) for f in dataclasses.fields(d)}
                doc["key"], doc["key_encoding"] = as_text(d.key)
                doc["value"], doc["value_encoding"] = as_text(d.value)
                doc["original_headers"] = {k: v.decode("utf-8", "replace") for k, v in d.original_headers}
                sys.stdout.write(msgspec.json.format(msgspec.json.encode(doc)).decode() + "\n")
                return
    raise fail(f"no dead letter at {ref}")


@dlq_app.command("replay")
def dlq_replay(
    ctx: typer.Context,
    ref: str = typer.Argument(None, help="PARTITION:OFFSET of one dead letter (default: all from --source)"),
    source: str = typer.Option(None, "--source", help="every dead letter that came from this topic"),
    value_file: Path = typer.Option(None, "--value-file", help="send this fixed value instead (one entry: give PARTITION:OFFSET)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="validate and show what would be sent; send nothing"),
    again: bool = typer.Option(False, "--again", help="also resend entries replayed before"),
) -> None:
    """Validate dead letters and send the valid ones back to their topic, same key.

    Each entry sent is marked and skipped by later replays (unless --again). Entries that are
    still invalid are listed with the reason and not sent. Exit code 1 if any was invalid."""
    from ..deadletter import plan_replay, replayed_markers, send_replay

    if ref is None and source is None:
        raise fail("give PARTITION:OFFSET or --source TOPIC")
    if value_file is not None and ref is None:
        raise fail("--value-file replaces the value of ONE dead letter: give its PARTITION:OFFSET")
    want = _ref(ref) if ref else None
    value = value_file.read_bytes().rstrip(b"\r\n") if value_file else None
    with open_configured_log(ctx) as log:
        from ..deadletter import DeadLetter

        chosen = [r for r in _entries(log)
                  if (want is None or (r.partition, r.offset) == want)
                  and (source is None or DeadLetter.from_record(r).source_topic == source)]
        if want is not None and not chosen:
            raise fail(f"no dead letter at {ref}" + (f" from {source}" if source else ""))
        topic_id = log.describe_topic(T.DEAD_LETTERS).topic_id
        outcomes = plan_replay(chosen, topic_id, replayed_markers(log), value=value, again=again)
        sent = 0
        if not dry_run:
            with log.producer() as p:
                sent = send_replay(p, outcomes)
    for o in outcomes:
        typer.echo(o.describe(dry_run))
    count = {a: sum(o.action == a for o in outcomes) for a in ("send", "invalid", "skipped")}
    verb = f"would replay {count['send']}" if dry_run else f"replayed {sent}"
    typer.echo(f"{verb} dead letters; {count['invalid']} still invalid (not sent); "
               f"{count['skipped']} skipped (replayed before)")
    if count["invalid"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(dlq_app, name="dlq")
