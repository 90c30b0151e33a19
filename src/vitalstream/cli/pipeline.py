"""Running the pipeline: simulate, process, up; dead letters; schema export."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import msgspec
import typer

from .. import topics as T
from ..config import Settings
from .common import fail, friendly_errors, open_configured_log, print_table, settings_from

dlq_app = typer.Typer(help="Inspect and replay dead letters.", no_args_is_help=True)
schemas_app = typer.Typer(help="Event schemas.", no_args_is_help=True)


def _duration(text: str | None) -> float | None:
    if not text:
        return None
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)
    except (ValueError, IndexError):
        raise fail(f"--for {text!r}: give a duration like 30s, 5m or 1h") from None


@friendly_errors
def simulate(
    ctx: typer.Context,
    profile: str = typer.Argument(..., help="vitals | device | heart-rate | smartwatch | notes"),
    patients: int = typer.Option(None, help="simulated patients/devices (default from config)"),
    rate: float = typer.Option(None, help="events per second; 0 = as fast as possible"),
    count: int = typer.Option(None, help="stop after N events (default: run until Ctrl-C)"),
    seed: int = typer.Option(None, help="random seed (same seed, same data)"),
    to: str = typer.Option("log", "--to", help="log (the configured log), http://HOST:PORT or mqtt://…"),
) -> None:
    """Send simulated, physiologically plausible traffic."""
    from ..simulate import PROFILES

    if profile not in PROFILES:
        raise fail(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
    s = settings_from(ctx)
    stop = threading.Event()
    n = _run_simulator(s, profile, stop, patients=patients, rate=rate, count=count, seed=seed, to=to)
    typer.echo(f"sent {n} {profile} events", err=True)


def _run_simulator(s: Settings, profile: str, stop: threading.Event, *, patients: int | None = None,
                   rate: float | None = None, count: int | None = None, seed: int | None = None,
                   to: str = "log", counter=None) -> int:  # type: ignore[no-untyped-def]
    from ..simulate.live import batches

    gen = batches(
        profile,
        patients=patients or s.simulate.patients,
        seed=s.simulate.seed if seed is None else seed,
        rate=s.simulate.rate if rate is None else rate,
        count=count,
    )
    sent = 0
    if to == "log":
        from ..log import open_log

        with open_log(s.log_url) as log:
            T.ensure_all(log, s.partitions, s.retention_ms, s.replication_factor)
            with log.producer() as p:
                for batch in gen:
                    for m in batch:
                        p.send(m.topic, m.value, key=m.key, timestamp_ms=m.timestamp_ms)
                    p.flush()
                    sent += len(batch)
                    if counter is not None:
                        counter.value = sent
                    if stop.is_set():
                        break
        return sent
    from ..sources.targets import open_target  # the HTTP/MQTT edges

    target = open_target(to, s)
    try:
        for batch in gen:
            if batch:
                target.send(batch)
            sent += len(batch)
            if stop.is_set():
                break
    finally:
        target.close()
    return sent


@friendly_errors
def process(
    ctx: typer.Context,
    workers: int = typer.Option(1, help="worker processes per processor stage (see docs/kafka.md)"),
    until_idle: bool = typer.Option(False, "--until-idle", help="stop once every input is processed"),
) -> None:
    """Run the stream processor (validate, normalise, enrich, alerts, NEWS2)."""
    from ..supervise import processor_components, supervise

    s = settings_from(ctx)
    raise typer.Exit(supervise(s, processor_components(s, workers), until_idle=until_idle, progress=False))


@friendly_errors
def up(
    ctx: typer.Context,
    duration: str = typer.Option(None, "--for", help="stop after a duration (30s, 5m, 1h)"),
    until_idle: bool = typer.Option(False, "--until-idle", help="stop when every consumer group has caught up (implies --no-simulate unless --count)"),
    no_simulate: bool = typer.Option(False, "--no-simulate", help="do not start the simulators"),
    count: int = typer.Option(None, help="events per simulator, then the simulators stop"),
    workers: int = typer.Option(1, help="worker processes per processor stage"),
    serve: bool = typer.Option(False, "--serve", help="also run the HTTP ingest server; the smartwatch simulator then posts to it (as seed 4's watches did)"),
    quiet: bool = typer.Option(False, "--quiet", help="no live progress table"),
) -> None:
    """Start every configured component (simulators, processor, sinks, edges) until Ctrl-C.

    The MQTT bridge runs when VITALSTREAM_MQTT_URL (or [mqtt] url) is set."""
    from ..supervise import Component, processor_components, supervise, sink_components

    s = settings_from(ctx)
    comps: list[Component] = []
    if not no_simulate and not (until_idle and count is None):
        edge = f"http://{s.http.host}:{s.http.port}" if serve else "log"
        comps += [Component(f"simulate-{p}", "simulate", profile=p, count=count,
                            to=edge if p == "smartwatch" else "log") for p in s.simulate.profiles]
    comps += processor_components(s, workers)
    comps += sink_components(s)
    if serve:
        comps.append(Component("http", "serve"))
    if s.mqtt.url:  # the MQTT bridge joins whenever a broker is configured
        comps.append(Component("mqtt-bridge", "mqtt"))
    raise typer.Exit(supervise(s, comps, duration=_duration(duration), until_idle=until_idle, progress=not quiet))


@dlq_app.command("list")
@friendly_errors
def dlq_list(ctx: typer.Context, limit: int = typer.Option(50), json_out: bool = typer.Option(False, "--json")) -> None:
    """Dead letters, newest last: where they came from and why."""
    from ..deadletter import DeadLetter

    rows = []
    with open_configured_log(ctx) as log:
        T.ensure(log, [T.DEAD_LETTERS])
        for r in _read_topic(log, T.DEAD_LETTERS):
            d = DeadLetter.from_record(r)
            rows.append({"offset": f"{r.partition}:{r.offset}", "stage": d.stage, "error": d.error_class,
                         "source": f"{d.source_topic}:{d.source_partition}:{d.source_offset}"
                         if d.source_partition is not None else d.source_topic,
                         "field": d.field, "reason": d.reason})
    rows = rows[-limit:]
    if json_out:
        sys.stdout.write("".join(msgspec.json.encode(r).decode() + "\n" for r in rows))
    else:
        print_table(rows, title=f"dead letters ({len(rows)} shown)")


@dlq_app.command("show")
@friendly_errors
def dlq_show(ctx: typer.Context, ref: str = typer.Argument(..., help="PARTITION:OFFSET from `dlq list`")) -> None:
    """One dead letter in full: headers and the original value."""
    from ..deadletter import DeadLetter

    part, off = _ref(ref)
    with open_configured_log(ctx) as log:
        for r in _read_topic(log, T.DEAD_LETTERS):
            if (r.partition, r.offset) == (part, off):
                d = DeadLetter.from_record(r)
                doc = {f: getattr(d, f) for f in d.__slots__}  # type: ignore[attr-defined]
                doc["key"] = d.key.decode("utf-8", "replace") if d.key else None
                doc["value"] = d.value.decode("utf-8", "replace")
                doc["original_headers"] = {k: v.decode("utf-8", "replace") for k, v in d.original_headers}
                sys.stdout.write(msgspec.json.format(msgspec.json.encode(doc)).decode() + "\n")
                return
    raise fail(f"no dead letter at {ref}")


@dlq_app.command("replay")
@friendly_errors
def dlq_replay(
    ctx: typer.Context,
    ref: str = typer.Argument(None, help="PARTITION:OFFSET of one dead letter (default: all from --source)"),
    value_file: Path = typer.Option(None, "--value-file", help="send this (fixed) value instead of the original"),
    source: str = typer.Option(None, "--source", help="replay every dead letter that came from this topic"),
) -> None:
    """Send dead letters (or a fixed value) back to their source topic, same key."""
    from ..deadletter import DeadLetter

    if ref is None and source is None:
        raise fail("give PARTITION:OFFSET or --source TOPIC")
    want = _ref(ref) if ref else None
    n = 0
    with open_configured_log(ctx) as log, log.producer() as p:
        for r in _read_topic(log, T.DEAD_LETTERS):
            d = DeadLetter.from_record(r)
            if want and (r.partition, r.offset) != want:
                continue
            if source and d.source_topic != source:
                continue
            if not d.source_topic:
                raise fail(f"dead letter {r.partition}:{r.offset} has no source topic")
            value = value_file.read_bytes().rstrip(b"\n") if value_file else d.value
            p.send(d.source_topic, value, key=d.key, headers=d.original_headers + (("dlq.replayed_from", f"{r.partition}:{r.offset}".encode()),))
            n += 1
        p.flush()
    typer.echo(f"replayed {n} dead letters")


def _ref(text: str) -> tuple[int, int]:
    try:
        a, b = text.split(":")
        return int(a), int(b)
    except ValueError:
        raise fail(f"{text!r}: expected PARTITION:OFFSET") from None


def _read_topic(log, topic: str):  # type: ignore[no-untyped-def]
    from ..log import read_all

    return read_all(log, [topic], purpose="consume")


@schemas_app.command("export")
def schemas_export(directory: Path = typer.Argument(..., help="directory for <name>.schema.json files")) -> None:
    """Write every event schema as JSON Schema."""
    from ..events import export_json_schemas

    paths = export_json_schemas(directory)
    typer.echo(f"wrote {len(paths)} schemas to {directory}")


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
    app.command("process")(process)
    app.command("up")(up)
    app.add_typer(dlq_app, name="dlq")
    app.add_typer(schemas_app, name="schemas")
