"""What every command shares: the settings built from global flags, output helpers, errors.

Commands get the settings with ``settings_from(ctx)``; global flags (``--home``, ``--config``,
``--log-url`` ...) sit on the root command and override file and environment.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import typer

from ..config import Settings
from ..errors import VitalstreamError

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
    return settings


def open_configured_log(ctx: typer.Context):  # type: ignore[no-untyped-def]
    from ..log import open_log

    return open_log(settings_from(ctx).log_url)


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def friendly_errors(fn: F) -> F:
    """Turn vitalstream's own errors into one clear line and exit code 2, not a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except VitalstreamError as exc:
            raise fail(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None, title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    columns = list(columns or (rows[0].keys() if rows else []))
    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in columns))
    Console().print(table)


def print_json_lines(rows: Iterable[Any]) -> None:
    for r in rows:
        sys.stdout.write(json.dumps(r, default=str) + "\n")
