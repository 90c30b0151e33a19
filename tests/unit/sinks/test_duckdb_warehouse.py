"""The sink contract over the embedded DuckDB warehouse."""

from __future__ import annotations

import pytest

from contract.sink_contract import WarehouseContract


class TestDuckDbWarehouse(WarehouseContract):
    @pytest.fixture
    def warehouse_url(self, tmp_path) -> str:
        return f"duckdb:///{tmp_path}/warehouse.duckdb"
