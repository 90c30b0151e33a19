"""A mistyped command line is a usage error (exit 2, click's message), not an internal error."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from vitalstream.cli import app


@pytest.mark.parametrize("args, says", [
    (["status", "--bogus"], "No such option: --bogus"),
    (["report", "nope"], "Invalid value for 'name'"),
])
def test_usage_errors_exit_2_with_clicks_message(tmp_path, args: list[str], says: str) -> None:
    r = CliRunner().invoke(app, ["--home", str(tmp_path), *args])
    assert r.exit_code == 2
    assert says in r.output and "internal error" not in r.output
