"""Identity attacks replayed on the embedded pipeline with a real PostgreSQL warehouse."""

from __future__ import annotations

import pytest

from contract.identity_contract import IdentityContract


class TestIdentityOnPostgres(IdentityContract):
    @pytest.fixture
    def warehouse_url(self, pg_schema_url) -> str:
        return pg_schema_url
