"""How the dashboard reads the warehouse without fighting the sink for DuckDB's file.

DuckDB lets one process open a database file for writing, and while it does no other process
may open it at all. So the dashboard does not wait for gaps between the sink's batches: on
DuckDB **the dashboard process is the warehouse's writer** — it runs the warehouse sink
itself, on a thread (``vitalstream up`` then runs the lake sinks in the sinks process and the
warehouse sink here), and reads through cursors of that same open database. DuckDB's MVCC
gives each read a consistent view of the batches committed so far while the sink keeps
writing. On PostgreSQL the sink stays where it is and the dashboard reads the server directly.
See docs/dashboard.md.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..config import Settings
from ..errors import ConfigError
from ..sinks import WarehouseUnavailable
from ..sinks.warehouse import Warehouse, WarehouseSink, open_warehouse
from ..sinks.warehouse.schema import Dialect


class Reader:
    """``rows(sql, params)`` from any thread (the shape :mod:`vitalstream.reports` needs)."""

    dialect: Dialect

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        raise NotImplementedError

    def has_table(self, name: str) -> bool:
        """Does the warehouse have this table yet? (a PostgreSQL warehouse the sink has not
        migrated to the latest schema lacks the newer ones)"""
        return bool(self.rows("SELECT 1 AS found FROM information_schema.tables "
                              "WHERE table_schema = current_schema() AND table_name = ?", [name]))


class CursorReader(Reader):
    """DuckDB: a fresh cursor of the writer's connection per query (cursors are thread-safe
    duplicates of the connection; each sees committed data)."""

    dialect = Dialect.DUCKDB

    def __init__(self, owner: Any) -> None:
        self.owner = owner

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.owner.read_cursor()
        try:
            table = cur.sql(sql, params=list(params) or None).to_arrow_table()
        finally:
            cur.close()
        cols = table.column_names
        return [dict(zip(cols, r, strict=True)) for r in zip(*(table.column(i).to_pylist() for i in range(len(cols))), strict=True)]


class LockedReader(Reader):
    """PostgreSQL: the warehouse's one connection, one query at a time."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self.dialect = warehouse.dialect
        self._lock = threading.Lock()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return self.warehouse.rows(sql, params)


@dataclass
class WarehouseAccess:
    reader: Reader
    sink: WarehouseSink | None  # the sink this process must run (DuckDB), else None
    warehouse: Warehouse

    def close(self) -> None:
        self.warehouse.close()


def _held(url: str) -> str:
    sep = "&" if "?" in url else "?"
    return url if "hold=" in url else f"{url}{sep}hold=true"


def open_access(settings: Settings) -> WarehouseAccess:
    """Open the warehouse for the dashboard (see the module docstring). Raises ConfigError
    when another process holds the DuckDB file."""
    url = settings.warehouse_url
    if url.startswith("duckdb:"):
        wh = open_warehouse(_held(url))
        try:
            wh.migrate()  # also opens the file and keeps it (hold=true)
        except WarehouseUnavailable as exc:
            raise ConfigError(
                f"{exc}: another process holds the DuckDB warehouse for writing (a `vitalstream "
                "sink warehouse` or `up` without the dashboard). The dashboard must be the "
                "warehouse's writer on DuckDB: stop that process, or run `vitalstream up`, which "
                "runs the warehouse sink inside the dashboard") from None
        sink = WarehouseSink(wh, dead_letter_payloads=settings.warehouse_dead_letter_payloads)
        return WarehouseAccess(CursorReader(wh), sink, wh)
    wh = open_warehouse(url)
    return WarehouseAccess(LockedReader(wh), None, wh)
