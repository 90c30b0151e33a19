"""The ``vitalstream`` command.

Global flags mirror the configuration (``--home`` = ``VITALSTREAM_HOME`` ...); precedence is
defaults < vitalstream.toml < environment < flags. Subcommands live in small modules that
each ``register`` themselves on the root app.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer

from .common import OneLineErrors

app = typer.Typer(
    cls=OneLineErrors,
    name="vitalstream",
    help="Real-time healthcare IoT pipeline: ingest, validate, score, archive, warehouse.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    ctx: typer.Context,
    home: str = typer.Option(None, "--home", help="Data directory (env VITALSTREAM_HOME; default ./vitalstream-data)"),
    config: str = typer.Option(None, "--config", help="TOML config file (env VITALSTREAM_CONFIG; default ./vitalstream.toml)"),
    log_url: str = typer.Option(None, "--log-url", help="sqlite:///PATH or kafka://HOST:PORT (env VITALSTREAM_LOG_URL)"),
    warehouse_url: str = typer.Option(None, "--warehouse-url", help="duckdb:///PATH or postgresql://… (env VITALSTREAM_WAREHOUSE_URL)"),
    lake_url: str = typer.Option(None, "--lake-url", help="file://PATH or s3://BUCKET/PREFIX (env VITALSTREAM_LAKE_URL)"),
    log_level: str = typer.Option(None, "--log-level", help="DEBUG, INFO, WARNING, ERROR (env VITALSTREAM_LOG_LEVEL)"),
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of an error (secrets still redacted)"),
) -> None:
    from ..home import make_private

    # PHI at rest: everything created from here on is owner-only (restored when the command
    # ends, which matters only when the CLI runs inside another program, e.g. a test)
    ctx.call_on_close(make_private())
    overrides: dict[str, Any] = {
        k: v
        for k, v in dict(home=home, log_url=log_url, warehouse_url=warehouse_url, lake_url=lake_url,
                         log_level=log_level).items()
        if v is not None
    }
    ctx.obj = {"config": config, "overrides": overrides, "debug": debug}


# Each module adds its commands; a module whose optional extra is missing says how to get it.
_MODULES = ("pipeline", "logcmds", "sinks", "dlq", "edges", "audit", "dashboard", "model", "notes", "fhir", "extract", "bench")  # the order of `--help`
for _name in _MODULES:
    try:
        _mod = importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _exc:
        if not (_exc.name or "").startswith("vitalstream.cli"):
            raise
        continue
    _mod.register(app)


def main() -> None:
    try:
        app()  # errors inside a command are handled by OneLineErrors
    except KeyboardInterrupt:  # Ctrl-C outside a command (e.g. during start-up)
        raise SystemExit(130) from None


__all__ = ["app", "main"]
