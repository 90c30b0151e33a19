"""The warehouse model (dbt, shipped inside vitalstream) and schema measurements.

    vitalstream model build|run|test [--select stg_users+ ...]
    vitalstream model docs            # dbt's docs site under <home>/model/target
    vitalstream model status          # the recent runs (scheduled ones too)
"""

from __future__ import annotations

import typer

from .common import fail, friendly_errors, print_table, settings_from

model_app = typer.Typer(help="The warehouse model (dbt): build, run, test, docs, status.", no_args_is_help=True)


def _run(ctx: typer.Context, command: str, select: list[str] | None) -> None:
    from ..model.runner import run
    from ..model.schedule import record, work_dir

    s = settings_from(ctx)
    result = run(s.warehouse_url, command, work_dir(s), select=select or ())
    if command != "docs":
        record(s.warehouse_url, result)
    typer.echo(result.summary(), err=True)
    if not result.ok:
        raise typer.Exit(1)


def _command(command: str, doc: str):  # type: ignore[no-untyped-def]
    @friendly_errors
    def cmd(ctx: typer.Context,
            select: list[str] = typer.Option(None, "--select", "-s", help="dbt node selection (repeatable)")) -> None:
        _run(ctx, command, select)

    cmd.__doc__ = doc
    return cmd


model_app.command("build")(_command("build", "Run and test every model in dependency order (dbt build); exit 1 if anything fails."))
model_app.command("run")(_command("run", "Build the models without testing them (dbt run)."))
model_app.command("test")(_command("test", "Run the data and unit tests (dbt test); exit 1 if any fails."))


@model_app.command("docs")
@friendly_errors
def docs(ctx: typer.Context) -> None:
    """Write dbt's documentation site (models, columns, tests, lineage) under <home>/model/target."""
    from ..model.schedule import work_dir

    _run(ctx, "docs", None)
    typer.echo(f"open {work_dir(settings_from(ctx)) / 'target' / 'index.html'}")


@model_app.command("status")
@friendly_errors
def status(ctx: typer.Context, limit: int = typer.Option(10, help="the newest N runs")) -> None:
    """The recent model runs (from `vitalstream model` and from `up`'s schedule)."""
    from ..model.schedule import last_runs

    rows = last_runs(settings_from(ctx).warehouse_url, limit)
    if not rows:
        raise fail("no model run recorded yet: run `vitalstream model build`")
    print_table(rows, title="model runs, newest first")


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")
