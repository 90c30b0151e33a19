"""The live table ``vitalstream up`` shows: records and rate per kind of topic, consumer-group
lag, and the state of each component process (fits an 80x24 terminal)."""

from __future__ import annotations

import time
from typing import Any

from . import topics as T
from .config import Settings
from .log import is_private_group


class LiveView:
    """A live table: records per topic and rate, consumer-group lag, component state."""

    def __init__(self, settings: Settings) -> None:
        from rich.console import Console
        from rich.live import Live

        from .log import open_log

        self.log = open_log(settings.log_url)
        self.console = Console(stderr=True)
        self.live = Live(console=self.console, refresh_per_second=2, transient=False)
        self.live.start()
        self.last: dict[str, tuple[float, int]] = {}

    def update(self, procs: dict[str, Any]) -> None:
        from rich import box
        from rich.columns import Columns
        from rich.console import Group
        from rich.table import Table

        # One row per kind of topic (alerts and NEWS2 each their own), so the view fits an
        # 80x24 terminal; `vitalstream status` lists every topic.
        now = time.monotonic()
        totals: dict[str, list[int]] = {}
        for name in self.log.list_topics():
            n = self.log.describe_topic(name).records
            prev_t, prev_n = self.last.get(name, (now, n))
            self.last[name] = (now, n)
            info = T.BY_NAME.get(name)
            role = "other" if info is None else name if info.role in ("alerts", "deadletter") else info.role
            row = totals.setdefault(role, [0, 0, 0])
            row[0] += 1
            row[1] += n
            row[2] += round((n - prev_n) / (now - prev_t)) if now > prev_t else 0

        def table(title: str | None = None) -> Table:
            return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)

        t = table("vitalstream — live (Ctrl-C to stop)")
        for col in ("topics", "records", "per s"):
            t.add_column(col, justify="right" if col != "topics" else "left")
        order = ["raw", "reference", "processed", "notes", T.ALERTS, T.NEWS2, T.DEAD_LETTERS]
        for role, (topics, n, rate) in sorted(totals.items(), key=lambda kv: (
                order.index(kv[0]) if kv[0] in order else len(order), kv[0])):
            if n:
                label = role if topics == 1 else f"{role}, {topics} topics"
                t.add_row(label, f"{n:,}", f"{rate:,}")
        g = table()
        g.add_column("consumer group")
        g.add_column("lag", justify="right")
        for name in self.log.list_groups():
            if not is_private_group(name):
                g.add_row(name, f"{sum(x.lag for x in self.log.group_lag(name)):,}")
        c = table()
        c.add_column("component")
        c.add_column("state")
        for name, p in procs.items():
            c.add_row(name, "running" if p.is_alive() else f"exited {p.exitcode}")
        self.live.update(Group(t, "", Columns([g, c], padding=(0, 4))))

    def close(self, procs: dict[str, Any]) -> None:
        try:
            self.update(procs)
        finally:
            self.live.stop()
            self.log.close()
