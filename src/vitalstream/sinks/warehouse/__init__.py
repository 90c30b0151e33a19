"""The warehouse: DuckDB embedded (default) or PostgreSQL, chosen by URL.

``duckdb:///path/warehouse.duckdb`` or ``postgresql://user:password@host:port/db``. Backends
load lazily, so ``import vitalstream`` never imports duckdb or psycopg.
"""

from __future__ import annotations

from typing import cast

from ...registry import open_url
from .base import BadBatch, Warehouse
from .sink import WAREHOUSE_GROUP, WarehouseSink


def open_warehouse(url: str, read_only: bool = False) -> Warehouse:
    """Open the warehouse a URL names (schema not migrated: call ``migrate()``)."""
    return cast(Warehouse, open_url("warehouse", url, read_only=read_only))  # the registry's "warehouse" backends


__all__ = ["WAREHOUSE_GROUP", "BadBatch", "Warehouse", "WarehouseSink", "open_warehouse"]
