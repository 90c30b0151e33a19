"""The sink contract over a real PostgreSQL server (each test in its own schema: pg_schema_url)."""

from __future__ import annotations

import pytest

from contract.sink_contract import WarehouseContract


class TestPostgresWarehouse(WarehouseContract):
    @pytest.fixture
    def warehouse_url(self, pg_schema_url) -> str:
        return pg_schema_url
