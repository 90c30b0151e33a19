"""Ingestion edge commands: ``serve``, ``mqtt-bridge``, ``ingest csv|jsonl``, ``replay-client``."""

from __future__ import annotations

import typer

from .common import fail, friendly_errors, open_configured_log, settings_from

ingest_app = typer.Typer(help="Load CSV or JSON-lines files into a topic (resumable).",
                         no_args_is_help=True)


@friendly_errors
def serve(
    ctx: typer.Context,
    host: str = typer.Option(None, "--host", help="Address to listen on (env VITALSTREAM_HTTP_HOST; default 127.0.0.1; another address needs TLS or --insecure)"),
    port: int = typer.Option(None, "--port", help="Port (env VITALSTREAM_HTTP_PORT; default 62333)"),
    workers: int = typer.Option(1, "--workers", help="Server processes (Kafka log; the embedded log is fastest with 1)"),
    access_log: bool = typer.Option(False, "--access-log", help="Log each request line"),
    tls_cert: str = typer.Option(None, "--tls-cert", help="PEM certificate file: serve HTTPS (env VITALSTREAM_HTTP_TLS_CERT)"),
    tls_key: str = typer.Option(None, "--tls-key", help="PEM private key of --tls-cert (env VITALSTREAM_HTTP_TLS_KEY)"),
    insecure: bool = typer.Option(False, "--insecure", help="Start even with auth off or on a non-loopback address without TLS (env VITALSTREAM_HTTP_INSECURE)"),
) -> None:
    """HTTP ingest server: POST /stream, /topics/{topic}, /healthz, /readyz, /openapi.json."""
    import msgspec

    from ..redact import redact_url
    from ..sources.auth import configured_keys
    from ..sources.http import serve as run
    from ..sources.serving import exposure_warnings, tls_options

    s = settings_from(ctx)
    changes = {k: v for k, v in dict(tls_cert=tls_cert, tls_key=tls_key,
                                     insecure=insecure or None).items() if v}
    if changes:
        s = msgspec.structs.replace(s, http=msgspec.structs.replace(s.http, **changes))

    def warn(line: str) -> None:
        typer.echo(f"warning: {line}", err=True)

    exposure_warnings(s.http, host or s.http.host)  # a refusal is the only line printed
    tls_options(s.http)
    if s.http.auth and not configured_keys(s.http):
        warn("authentication is on and no API keys are configured: every request will be "
             "refused (set VITALSTREAM_HTTP_GATEWAY_KEYS / _DEVICE_KEYS / _ADMIN_KEYS or "
             "http.keys_file)")
    scheme = "https" if s.http.tls_cert else "http"
    typer.echo(f"vitalstream ingest on {scheme}://{host or s.http.host}:{port or s.http.port} "
               f"-> {redact_url(s.log_url)}", err=True)
    run(s, host, port, workers=workers, warn=warn)


@friendly_errors
def mqtt_bridge(
    ctx: typer.Context,
    url: str = typer.Option(None, "--url", help="mqtt://user:pass@host:port or mqtts:// (env VITALSTREAM_MQTT_URL)"),
    topic: list[str] = typer.Option(None, "--topic", help="Topic filter, repeatable (env VITALSTREAM_MQTT_TOPICS; default health/device_data)"),
    client_id: str = typer.Option(None, "--client-id", help="Stable client id of the persistent session (env VITALSTREAM_MQTT_CLIENT_ID)"),
) -> None:
    """Bridge MQTT device messages (QoS 1) into the device_data topic."""
    import msgspec

    from ..sources.mqtt import MqttBridge

    s = settings_from(ctx)
    changes = {k: v for k, v in dict(url=url, client_id=client_id,
                                     topics=tuple(topic) if topic else None).items() if v}
    if changes:
        s = msgspec.structs.replace(s, mqtt=msgspec.structs.replace(s.mqtt, **changes))
    with open_configured_log(ctx) as log:
        bridge = MqttBridge(log, s)
        typer.echo(f"mqtt bridge: {', '.join(bridge.topics)} -> device_data", err=True)
        try:
            bridge.run()
        except KeyboardInterrupt:
            pass


def _parse_map(items: list[str] | None) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in items or []:
        col, sep, fld = item.partition("=")
        if not sep or not col.strip():
            raise fail(f"--map {item!r}: use column=field")
        mapping[col.strip()] = fld.strip()
    return mapping


def _load(ctx: typer.Context, file: str, fmt: str, topic: str | None, mapping: dict[str, str],
          restart: bool, batch: int) -> None:
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from ..sources.files import ingest_file

    s = settings_from(ctx)
    with open_configured_log(ctx) as log, Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
        TimeRemainingColumn(), transient=True,
    ) as bar:
        task = bar.add_task(file, total=None)
        result = ingest_file(log, file, fmt, topic, s, mapping=mapping, resume=not restart,
                             batch_size=batch,
                             progress=lambda done, total: bar.update(task, completed=done, total=total))
    typer.echo(f"{file}: {result.accepted} accepted, {result.rejected} rejected (dead letters), "
               f"{result.skipped} already done earlier")


@ingest_app.command("csv")
@friendly_errors
def ingest_csv(
    ctx: typer.Context,
    file: str = typer.Argument(..., help="CSV file with a header row"),
    topic: str = typer.Option(..., "--topic", "-t", help="Target topic, e.g. medical-entries, hr-users, hr-activities"),
    map_: list[str] = typer.Option(None, "--map", help="Rename a column: column=field (repeatable)"),
    restart: bool = typer.Option(False, "--restart", help="Ignore the checkpoint and load from the start"),
    batch: int = typer.Option(5000, "--batch", help="Rows per flush and checkpoint"),
) -> None:
    """Load a CSV file (clinical notes, heart-rate users/activities) into a topic."""
    _load(ctx, file, "csv", topic, _parse_map(map_), restart, batch)


@ingest_app.command("jsonl")
@friendly_errors
def ingest_jsonl(
    ctx: typer.Context,
    file: str = typer.Argument(..., help="One JSON event per line"),
    topic: str = typer.Option(None, "--topic", "-t", help="Target topic (default: route each event by its shape)"),
    restart: bool = typer.Option(False, "--restart", help="Ignore the checkpoint and load from the start"),
    batch: int = typer.Option(5000, "--batch", help="Lines per flush and checkpoint"),
) -> None:
    """Load a JSON-lines file into a topic."""
    _load(ctx, file, "jsonl", topic, {}, restart, batch)


@friendly_errors
def replay_client(
    ctx: typer.Context,
    file: str = typer.Argument(..., help="Recorded smartwatch events, one JSON per line"),
    url: str = typer.Option("http://127.0.0.1:62333/stream", "--url", help="Ingest endpoint"),
    speed: float = typer.Option(1.0, "--speed", help="Replay speed (2 = twice real time)"),
    fast: bool = typer.Option(False, "--fast", "--fast-mode", help="Do not wait between events"),
    api_key: str = typer.Option(None, "--api-key", help="API key (env VITALSTREAM_API_KEY; default: the most capable configured key)"),
    batch: int = typer.Option(500, "--batch", help="Events per request at most"),
) -> None:
    """Replay recorded smartwatch events to an ingest server, each device's in timestamp order."""
    from ..sources.replay_client import replay
    from ..sources.targets import default_api_key

    s = settings_from(ctx)
    stats = replay(file, url, api_key=default_api_key(s, api_key), speed=speed, fast=fast,
                   batch_size=batch)
    typer.echo(f"sent {stats.sent}: {stats.accepted} accepted, {stats.rejected} rejected, "
               f"{stats.retries} retries")
    for reason, n in sorted(stats.reasons.items(), key=lambda x: -x[1])[:5]:
        typer.echo(f"  {n} x {reason}")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("mqtt-bridge")(mqtt_bridge)
    app.add_typer(ingest_app, name="ingest")
    app.command("replay-client")(replay_client)
