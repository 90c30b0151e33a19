"""Run the installed ``vitalstream`` console script as an operator would (ops security tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXE = str(Path(sys.executable).parent / "vitalstream")


def vs(home: Path | None, *args: str, stdin: bytes | None = None, env: dict | None = None,
       timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("VITALSTREAM_")}
    full_env.update(env or {})
    home_args = ["--home", str(home)] if home is not None else []
    return subprocess.run([EXE, *home_args, *args], input=stdin, capture_output=True,
                          env=full_env, timeout=timeout)


def jsonl(data: bytes) -> list[dict]:
    return [json.loads(x) for x in data.splitlines() if x.strip()]


def assert_one_line_error(r: subprocess.CompletedProcess[bytes], code: int = 2) -> str:
    """Exit ``code``, exactly one non-empty stderr line starting ``error:``, no traceback."""
    err = r.stderr.decode()
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("warning:")]
    assert r.returncode == code, (r.returncode, err)
    assert "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]
