"""Identity attacks replayed on the embedded pipeline with the DuckDB warehouse (the same
scenarios run on PostgreSQL in tests/integration/postgres/test_postgres_identity.py)."""

from __future__ import annotations

import pytest

from contract.identity_contract import IdentityContract


class TestIdentityOnDuckDb(IdentityContract):
    @pytest.fixture
    def warehouse_url(self, tmp_path) -> str:
        return f"duckdb:///{tmp_path}/warehouse.duckdb"
