"""The sink contract over a real PostgreSQL server (each test in its own schema)."""

from __future__ import annotations

import pytest
from contract.sink_contract import WarehouseContract


@pytest.fixture
def pg_schema_url(postgres_url, unique_name):
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {unique_name}")
    sep = "&" if "?" in postgres_url else "?"
    yield f"{postgres_url}{sep}options=-csearch_path%3D{unique_name}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {unique_name} CASCADE")


class TestPostgresWarehouse(WarehouseContract):
    @pytest.fixture
    def warehouse_url(self, pg_schema_url) -> str:
        return pg_schema_url
