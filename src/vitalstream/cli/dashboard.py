"""The web dashboard and its accounts.

    vitalstream dashboard [--host 127.0.0.1] [--port 8050]
    vitalstream dashboard user add NAME --role clinician|analyst|admin   (password asked twice)
    vitalstream dashboard demo-login     (make demo: the demo clinician, created on first use)
"""

from __future__ import annotations

import os
import threading

import typer

from .common import settings_from, warn

dashboard_app = typer.Typer(help="The web dashboard: live board, patients, reports, health, read API.",
                            invoke_without_command=True)
user_app = typer.Typer(help="Dashboard accounts.", no_args_is_help=True)
dashboard_app.add_typer(user_app, name="user")


@dashboard_app.callback()
def dashboard(
    ctx: typer.Context,
    host: str = typer.Option(None, help="address to bind (default dashboard.host, 127.0.0.1)"),
    port: int = typer.Option(None, help="port (default dashboard.port, 8050)"),
) -> None:
    """Serve the dashboard until Ctrl-C (on DuckDB it also runs the warehouse sink)."""
    if ctx.invoked_subcommand is not None:
        return
    from ..dashboard.server import run
    from .sinks import _stop_on_signals

    s = settings_from(ctx)
    stop: threading.Event = _stop_on_signals()
    run(s, stop, host=host, port=port, warn=warn,
        ready=lambda url: typer.echo(f"dashboard: {url} (Ctrl-C to stop)", err=True))


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="login name"),
    role: str = typer.Option(..., help="clinician, analyst or admin"),
) -> None:
    """Add an account (or set its password and role) in the users file, owner-only."""
    from ..dashboard.accounts import add_account

    password = os.environ.get("VITALSTREAM__DASHBOARD_PASSWORD") or typer.prompt(
        "password", hide_input=True, confirmation_prompt=True)
    path = add_account(settings_from(ctx), name, role, password)
    typer.echo(f"account {name} ({role}) saved in {path}", err=True)


@dashboard_app.command("demo-login")
def demo_login(ctx: typer.Context) -> None:
    """Create the demo clinician on first use and print where to log in (for make demo)."""
    from ..dashboard.accounts import ensure_demo_account
    from ..dashboard.server import url_of

    s = settings_from(ctx)
    name, password = ensure_demo_account(s)
    typer.echo(f"dashboard: {url_of(s)}  log in as {name} / {password}  "
               f"(password kept owner-only in {s.home_path}/dashboard-demo-login)")


def register(app: typer.Typer) -> None:
    app.add_typer(dashboard_app, name="dashboard")
