"""What every route of the dashboard shares (on ``app.state.ctx``), and small helpers."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import audit
from ..config import Settings
from ..log import Log
from ..reports import REPORTS, run_report
from .accounts import Accounts, User
from .board import Board, iso
from .feed import Feed
from .history import History
from .sessions import Sessions

WINDOWS = {"1h": (3600, 0), "6h": (6 * 3600, 60), "24h": (86400, 300), "7d": (7 * 86400, 1800),
           "30d": (30 * 86400, 7200)}  # window -> (seconds, bucket seconds; 0 = every reading)


@dataclass
class Context:
    settings: Settings
    log: Log
    history: History | None
    board: Board
    feed: Feed
    accounts: Accounts
    sessions: Sessions
    started: float = 0.0
    components: dict[str, str] = field(default_factory=dict)  # name -> state, for the health page
    sink_health: Any = None  # runtime.Health of the warehouse sink this process runs (DuckDB)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def audit(self, user: User, subject: str, action: str = "read", **detail: object) -> None:
        """Record a read (or other action) before its data is returned (vitalstream.audit)."""
        audit.record(self.log, actor=user.name, role=user.role, action=action, subject=subject, detail=detail)


def jsonable(value: Any) -> Any:
    """Rows as JSON values: datetimes as UTC ISO-8601 with Z."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "is_finite"):  # Decimal from PostgreSQL
        return float(value)
    return value


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")


def parse_since(text: str) -> datetime | None:
    """``2h`` / ``30m`` / ``7d`` ago, or an ISO-8601 time (naive means UTC); ValueError else."""
    text = text.strip()
    if not text:
        return None
    m = _DURATION.match(text)
    if m:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
        return datetime.now(UTC) - timedelta(**{unit: float(m.group(1))})
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


class ReportRefused(ValueError):
    """A report that cannot run as asked (its reason is safe to show)."""


def report_rows(history: History, name: str, limit: int, since: datetime | None,
                patient: str = "") -> list[dict[str, Any]]:
    """Rows of ``vitalstream report NAME`` as the pages and the API run it: the research
    reports need the model built, and only reports with patient rows filter by patient."""
    report = REPORTS[name]
    if report.needs_model and not history.reader.has_table("fct_heart_rates"):
        raise ReportRefused("the warehouse model is not built yet: run `vitalstream model build` "
                            "(`vitalstream up` builds it on a schedule)")
    if patient and report.needs_model:
        raise ReportRefused(f"{name} has no patient rows: it aggregates")
    return run_report(history.reader, name, limit=limit, since=since,  # type: ignore[arg-type]
                      patient=patient or None)


def window(name: str) -> tuple[datetime, int]:
    """(since, bucket seconds) of a chart window name, e.g. ``24h``."""
    seconds, bucket = WINDOWS.get(name, WINDOWS["24h"])
    return datetime.now(UTC) - timedelta(seconds=seconds), bucket
