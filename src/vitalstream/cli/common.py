"""What every command shares: the settings built from global flags, output helpers, errors.

Commands get the settings with ``settings_from(ctx)``; global flags (``--home``, ``--config``,
``--log-url`` ...) sit on the root command and override file and environment.

Errors are handled once, at the root (:class:`OneLineErrors`): vitalstream's own errors, disk
and database errors become one ``error: ...`` line (secrets redacted) and exit code 2; anything
else one ``internal error`` line and exit code 1. Usage errors (``typer.BadParameter``) are
typer's to show (exit code 2), Ctrl-C exits with 130. ``vitalstream --debug ...`` adds the
traceback (redacted too).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from typer.core import TyperGroup

from ..config import Settings
from ..errors import VitalstreamError
from ..redact import protect_logs, redact_text
from .tables import print_table as print_table  # every command prints its tables through here

if TYPE_CHECKING:
    # typer vendors click (since 0.26): the Context type of TyperGroup.invoke has no public name
    from typer._click.core import Context as ClickContext

    from ..log.base import Log

F = TypeVar("F", bound=Callable[..., Any])


def settings_from(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    settings = root.obj.get("settings") if isinstance(root.obj, dict) else None
    if settings is None:  # built lazily so `--help` never needs a valid config
        from ..config import load

        settings = load(root.obj.get("config"), overrides=root.obj.get("overrides"))
        root.obj["settings"] = settings
        logging.basicConfig(
            level=settings.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        protect_logs(settings)
        _check_home(settings)
    return settings


def _check_home(settings: Settings) -> None:
    """Create the home owner-only when an embedded store lives in it; warn if it is open."""
    from ..home import ensure_home

    home = settings.home_path
    if any(str(home) in url for url in (settings.log_url, settings.warehouse_url, settings.lake_url)):
        warning = ensure_home(home)
        if warning:
            warn(warning)


def open_configured_log(ctx: typer.Context) -> Log:
    from ..log import open_log

    return open_log(settings_from(ctx).log_url)


def one_line(message: str) -> str:
    """``message`` on one line, secrets redacted (a database error's caret lines dropped)."""
    lines = [ln.strip() for ln in str(message).splitlines()]
    return redact_text(" ".join(ln for ln in lines if ln and set(ln) - {"^", " "}))


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {one_line(message)}", err=True)
    return typer.Exit(code)


def warn(message: str) -> None:
    typer.echo(f"warning: {one_line(message)}", err=True)


def friendly_errors(fn: F) -> F:
    """Kept so existing commands need no edit: :class:`OneLineErrors` handles every error."""
    return fn


def describe_error(exc: BaseException) -> str | None:
    """One line for an error an operator can act on, or None for a bug."""
    if isinstance(exc, VitalstreamError):
        return str(exc)
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return f"{exc.strerror or type(exc).__name__}{where}: check the disk and the --home directory"
    if isinstance(exc, sqlite3.Error):
        return f"embedded log: {exc} (is the disk read-only or full?)"
    for module, what in (("duckdb", "warehouse (duckdb)"), ("psycopg", "warehouse (postgresql)")):
        mod = sys.modules.get(module)
        if mod is not None and isinstance(exc, getattr(mod, "Error", ())):
            return f"{what}: {exc}"
    return None


class OneLineErrors(TyperGroup):
    """The root command: every error becomes one line, no traceback unless ``--debug``."""

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.TyperException, typer.Exit, typer.Abort):  # usage errors, --help, exits: typer shows them
            raise
        except KeyboardInterrupt:  # Ctrl-C in a command that runs until interrupted
            raise typer.Exit(130) from None
        except Exception as exc:
            debug = isinstance(ctx.obj, dict) and ctx.obj.get("debug")
            if debug:
                import traceback

                sys.stderr.write(redact_text("".join(traceback.format_exception(exc))))
            message = describe_error(exc)
            if message is None:
                hint = "" if debug else " (run with --debug for the traceback)"
                raise fail(f"internal error: {type(exc).__name__}: {exc}{hint}", 1) from None
            raise fail(message) from None


def print_json_lines(rows: Iterable[Any]) -> None:
    for r in rows:
        sys.stdout.write(json.dumps(r, default=str) + "\n")
