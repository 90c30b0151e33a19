"""Running the pipeline: simulate, process, up; schema export (dead letters: cli/dlq.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import typer

from .common import fail, friendly_errors, open_configured_log, settings_from, warn

schemas_app = typer.Typer(help="Event schemas.", no_args_is_help=True)


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


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
    from ..simulate.run import SimulatorSource

    if profile not in PROFILES:
        raise fail(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
    source = SimulatorSource(settings_from(ctx), profile, patients=patients, rate=rate, count=count,
                             seed=seed, to=to)
    n = source.send(threading.Event())
    typer.echo(f"sent {n} {profile} events", err=True)


@friendly_errors
def process(
    ctx: typer.Context,
    workers: int = typer.Option(1, help="worker processes per processor stage (see docs/kafka.md)"),
    until_idle: bool = typer.Option(False, "--until-idle", help="stop once every input is processed"),
) -> None:
    """Run the stream processor (validate, normalise, enrich, alerts, NEWS2)."""
    from ..supervise import notes_components, processor_components, supervise

    s = settings_from(ctx)
    comps = processor_components(s, workers) + notes_components(s)
    raise typer.Exit(supervise(s, comps, until_idle=until_idle, progress=False))


@friendly_errors
def up(
    ctx: typer.Context,
    duration: str = typer.Option(None, "--for", help="stop after a duration (30s, 5m, 1h)"),
    until_idle: bool = typer.Option(False, "--until-idle", help="stop when every consumer group has caught up (implies --no-simulate unless --count)"),
    no_simulate: bool = typer.Option(False, "--no-simulate", help="do not start the simulators"),
    count: int = typer.Option(None, help="events per simulator, then the simulators stop"),
    workers: int = typer.Option(1, help="worker processes per processor stage"),
    serve: bool = typer.Option(False, "--serve", help="also run the HTTP ingest server; the smartwatch simulator then posts to it, as real watches do"),
    quiet: bool = typer.Option(False, "--quiet", help="no live progress table"),
    new_incarnation: bool = typer.Option(False, "--new-incarnation", help="lake: after a topic reset or with a new log, archive the new incarnation beside the archived one"),
    no_dashboard: bool = typer.Option(False, "--no-dashboard", help="do not start the web dashboard (it never starts with --until-idle)"),
) -> None:
    """Start every configured component (simulators, processor, sinks, edges, dashboard) until Ctrl-C.

    The MQTT bridge runs when VITALSTREAM_MQTT_URL (the mqtt.url setting) is set."""
    from ..supervise import (
        Component,
        dashboard_components,
        notes_components,
        processor_components,
        sink_components,
        supervise,
    )

    s = settings_from(ctx)
    if until_idle:  # a run that ends once caught up schedules no model build (run `model build` after it)
        import msgspec

        s = msgspec.structs.replace(s, model=msgspec.structs.replace(s.model, interval_s=0.0))
    comps: list[Component] = []
    if not no_simulate and not (until_idle and count is None):
        edge = f"http://{s.http.host}:{s.http.port}" if serve else "log"
        comps += [Component(f"simulate-{p}", "simulate", profile=p, count=count,
                            to=edge if p == "smartwatch" else "log") for p in s.simulate.profiles]
    comps += processor_components(s, workers)
    comps += notes_components(s)
    comps += sink_components(s)
    board = [] if no_dashboard or until_idle else dashboard_components(s)
    if board and not _port_free(s.dashboard.host, s.dashboard.port):
        warn(f"dashboard not started: {s.dashboard.host}:{s.dashboard.port} is in use "
             "(another dashboard? set VITALSTREAM_DASHBOARD_PORT)")
        board = []
    if board and s.warehouse_url.startswith("duckdb:"):
        # DuckDB has one writer per file: the dashboard runs the warehouse sink (docs/dashboard.md)
        comps = [Component(c.name, c.kind, profile="lake,landing") if c.kind == "sinks" else c for c in comps]
    if any(c.kind == "sinks" for c in comps):  # refuse here, in one line, not in a child process
        from ..sinks import check_lake

        with open_configured_log(ctx) as log:
            check_lake(log, s, new_incarnation=new_incarnation)
    if serve:
        comps.append(Component("http", "serve"))
    if s.mqtt.url:  # the MQTT bridge joins whenever a broker is configured
        comps.append(Component("mqtt-bridge", "mqtt"))
    comps += board
    if board:
        from ..dashboard.server import url_of

        typer.echo(f"dashboard: {url_of(s)} (accounts: `vitalstream dashboard user add`)", err=True)
    raise typer.Exit(supervise(s, comps, duration=_duration(duration), until_idle=until_idle, progress=not quiet))


@schemas_app.command("export")
def schemas_export(directory: Path = typer.Argument(..., help="directory for <name>.schema.json files")) -> None:
    """Write every event schema as JSON Schema."""
    from ..events import export_json_schemas

    paths = export_json_schemas(directory)
    typer.echo(f"wrote {len(paths)} schemas to {directory}")


@schemas_app.command("size")
def schemas_size(
    events: int = typer.Option(10_000, help="how many simulated heart-rate events to encode"),
    seed: int = typer.Option(0, help="simulator seed"),
) -> None:
    """JSON vs Avro size of the heart-rate stream's events, measured on simulated events."""
    from ..events.sizes import measure
    from .common import print_table

    print_table(measure(events, seed), title=f"heart-rate events ({events:,}) as JSON and Avro")


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    app.command("simulate")(simulate)
    app.command("process")(process)
    app.add_typer(schemas_app, name="schemas")
