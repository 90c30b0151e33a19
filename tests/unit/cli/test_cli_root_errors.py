"""The root command's error handling (OneLineErrors) with typer's own exception classes."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from vitalstream.cli.common import OneLineErrors

app = typer.Typer(cls=OneLineErrors)


@app.command()
def interrupted() -> None:
    raise KeyboardInterrupt


@app.command()
def bad_value(limit: int = 1) -> None:
    raise typer.BadParameter(f"limit {limit} is not allowed")


@app.command()
def broken() -> None:
    raise RuntimeError("a bug")


def test_ctrl_c_exits_130_quietly() -> None:
    result = CliRunner().invoke(app, ["interrupted"])
    assert result.exit_code == 130
    assert "Traceback" not in result.output


def test_a_bad_parameter_is_a_usage_error_not_an_internal_error() -> None:
    result = CliRunner().invoke(app, ["bad-value"])
    assert result.exit_code == 2
    assert "limit 1 is not allowed" in result.output
    assert "internal error" not in result.output


def test_a_bug_is_one_line_with_exit_1() -> None:
    result = CliRunner().invoke(app, ["broken"])
    assert result.exit_code == 1
    assert result.output.strip() == "error: internal error: RuntimeError: a bug (run with --debug for the traceback)"
