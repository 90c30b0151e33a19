"""Run the packaged dbt project against vitalstream's warehouse, through dbt's own runner.

The profile is generated from the warehouse URL for each run, in a private temporary
directory that is deleted afterwards; a user never writes ``profiles.yml``. A PostgreSQL
password never reaches a file: the profile reads it from an environment variable whose
``DBT_ENV_SECRET_`` prefix makes dbt scrub it from its own logs, set only for the run.
dbt's ``target/`` and ``logs/`` live under ``<home>/model/``: the project inside the
package is only read.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ..errors import ConfigError, require
from ..redact import redact_text, redact_url

logger = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).parent / "dbt"
COMMANDS = ("build", "run", "test", "docs")
_PASSWORD_ENV = "DBT_ENV_SECRET_VITALSTREAM_PASSWORD"
# dbt keeps global state (flags, the adapter registry): one invocation per process at a time.
_ONE_AT_A_TIME = threading.Lock()


@dataclass
class ModelResult:
    """What one dbt invocation did: ``ok`` is False if any model, test or the run itself failed."""

    command: str
    ok: bool
    started_at: datetime
    duration_s: float
    models: int = 0  # models run
    tests: int = 0  # data and unit tests run
    failed: list[str] = field(default_factory=list)  # "<kind> <name>: message" for each failure
    rows: int = 0  # rows the fact and aggregate tables hold afterwards (schedule.record counts them)
    message: str = ""

    def summary(self) -> str:
        state = "ok" if self.ok else "FAILED"
        text = (f"model {self.command} {state} in {self.duration_s:.1f}s: {self.models} models, "
                f"{self.tests} tests, {self.rows} rows")
        if self.failed:
            text += f"; {len(self.failed)} failed: " + "; ".join(self.failed[:5])
        elif self.message and not self.ok:
            text += f"; {self.message}"
        return text


def dbt_target(warehouse_url: str, schema: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The dbt target for a warehouse URL, and the environment it needs (the password)."""
    parts = urlsplit(warehouse_url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if parts.scheme == "duckdb":
        from ..sinks.warehouse.duckdb import DuckDbWarehouse

        # the very path string the sink opens: DuckDB shares one database per path in a process
        path = DuckDbWarehouse(warehouse_url).path
        if path == ":memory:":
            raise ConfigError("the warehouse model needs a DuckDB file, not :memory:")
        if "encryption_key_env" in query or "encryption_key_file" in query:
            raise ConfigError("the warehouse model cannot run on an encrypted DuckDB warehouse yet "
                              "(dbt-duckdb would open it without the key); use PostgreSQL")
        # in `up`, the sink opens and closes the same database in another thread: a connect
        # that meets DuckDB still shutting it down is retried (1, 2, 4, 8 s)
        retries = {"connect_attempts": 5, "retryable_exceptions": ["IOException", "ResourceInUseException"]}
        return {"type": "duckdb", "path": path, "schema": schema, "threads": 1, "retries": retries}, {}
    if parts.scheme in ("postgresql", "postgres"):
        target: dict[str, Any] = {
            "type": "postgres", "host": parts.hostname or "localhost", "port": parts.port or 5432,
            "user": unquote(parts.username or ""), "dbname": parts.path.lstrip("/") or "postgres",
            "schema": schema, "threads": 2, "connect_timeout": 10,
            "password": "{{ env_var('" + _PASSWORD_ENV + "', '') }}",
        }
        if "sslmode" in query:
            target["sslmode"] = query["sslmode"]
        return target, {_PASSWORD_ENV: unquote(parts.password or "")}
    raise ConfigError(f"the warehouse model runs on duckdb:// or postgresql://, not {redact_url(warehouse_url)}")


def warehouse_schema(warehouse_url: str) -> str:
    """The schema the warehouse sink writes to (a PostgreSQL URL may set it with search_path)."""
    if urlsplit(warehouse_url).scheme == "duckdb":
        return "main"
    from ..sinks.warehouse import open_warehouse

    with open_warehouse(warehouse_url) as wh:
        return str(wh.query("SELECT current_schema()")[1][0][0])


@contextlib.contextmanager
def _profile(target: dict[str, Any], env: dict[str, str]) -> Iterator[str]:
    import msgspec

    with tempfile.TemporaryDirectory(prefix="vitalstream-dbt-") as tmp:  # 0700
        path = Path(tmp) / "profiles.yml"
        # JSON is YAML: no YAML writer needed
        doc = {"vitalstream": {"target": "warehouse", "outputs": {"warehouse": target}}}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(msgspec.json.encode(doc))
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            yield tmp
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def run(warehouse_url: str, command: str, work_dir: Path, select: Sequence[str] = (),
        quiet: bool = False, extra: Sequence[str] = ()) -> ModelResult:
    """Run ``dbt <command>`` (build, run, test, docs) over the warehouse; never raises for a
    failing model or test (see :attr:`ModelResult.ok`), only for bad configuration."""
    if command not in COMMANDS:
        raise ConfigError(f"unknown model command {command!r}; choose from {', '.join(COMMANDS)}")
    require("dbt.cli.main", "model")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    target, env = dbt_target(warehouse_url, warehouse_schema(warehouse_url))
    work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    args = ["docs", "generate"] if command == "docs" else [command]
    args += ["--project-dir", str(PROJECT_DIR), "--target-path", str(work_dir / "target"),
             "--log-path", str(work_dir / "logs"), "--no-use-colors"]
    if quiet:
        args.append("--quiet")
    for s in select:
        args += ["--select", s]
    args += list(extra)
    started, t0 = datetime.now(UTC), time.monotonic()
    with _ONE_AT_A_TIME, _profile(target, env) as profiles_dir, _turn(target):
        from dbt.cli.main import dbtRunner

        try:
            res = dbtRunner().invoke([*args, "--profiles-dir", profiles_dir])
        finally:
            if target["type"] == "duckdb":
                _release_duckdb()
    return _result(command, res, started, time.monotonic() - t0)


def _turn(target: dict[str, Any]) -> Any:
    """On DuckDB, the run takes its turn with the warehouse sink of this process (see
    :data:`vitalstream.sinks.warehouse.duckdb.PROCESS_LOCK`); PostgreSQL needs none."""
    if target["type"] != "duckdb":
        return contextlib.nullcontext()
    from ..sinks.warehouse.duckdb import PROCESS_LOCK

    return PROCESS_LOCK


def _release_duckdb() -> None:
    """dbt-duckdb keeps its database open after a run (for the next one in the process); let it
    go, so other processes (reports, queries) can open the file between model runs."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()  # type: ignore[no-untyped-call]


def _result(command: str, res: Any, started: datetime, duration: float) -> ModelResult:
    out = ModelResult(command, bool(res.success), started, duration)
    if res.exception is not None:
        out.ok = False
        out.message = redact_text(f"{type(res.exception).__name__}: {res.exception}")[:500]
    for r in getattr(res.result, "results", None) or []:
        node = getattr(r, "node", None)
        kind = getattr(node, "resource_type", "")
        kind = getattr(kind, "value", kind)
        status = str(getattr(r.status, "value", r.status))
        if kind == "model":
            out.models += 1
        elif kind in ("test", "unit_test"):
            out.tests += 1
        if status in ("error", "fail", "runtime error"):
            name = getattr(node, "name", "?")
            out.failed.append(redact_text(f"{kind} {name}: {(r.message or status)}")[:300])
    if out.failed:
        out.ok = False
    return out


__all__ = ["COMMANDS", "PROJECT_DIR", "ModelResult", "dbt_target", "run", "warehouse_schema"]
