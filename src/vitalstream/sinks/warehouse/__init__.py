"""The warehouse: DuckDB embedded (default) or PostgreSQL, chosen by URL.

``duckdb:///path/warehouse.duckdb`` or ``postgresql://user:password@host:port/db``. Backends
load lazily, so ``import vitalstream`` never imports duckdb or psycopg.
"""

from __future__ import annotations

from ...errors import ConfigError
from ...registry import load
from .base import WAREHOUSE_GROUP, BadBatch, Warehouse, WarehouseSink

BACKENDS: dict[str, tuple[str, str]] = {
    "duckdb": ("vitalstream.sinks.warehouse.duckdb:DuckDbWarehouse", "lake"),
    "postgresql": ("vitalstream.sinks.warehouse.postgres:PostgresWarehouse", "postgres"),
    "postgres": ("vitalstream.sinks.warehouse.postgres:PostgresWarehouse", "postgres"),
}


def open_warehouse(url: str, read_only: bool = False) -> Warehouse:
    """Open the warehouse a URL names (schema not migrated: call ``migrate()``)."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in BACKENDS:
        raise ConfigError(f"warehouse url {url!r}: scheme must be one of "
                          + ", ".join(f"{s}://" for s in BACKENDS))
    target, extra = BACKENDS[scheme]
    return load(target, extra)(url, read_only=read_only)  # type: ignore[no-any-return]


__all__ = ["BACKENDS", "WAREHOUSE_GROUP", "BadBatch", "Warehouse", "WarehouseSink", "open_warehouse"]
