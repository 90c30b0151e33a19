"""The lake contract over the local filesystem (file://)."""

from __future__ import annotations

import pytest

from contract.sink_contract import LakeContract


class TestFileLake(LakeContract):
    @pytest.fixture
    def lake_url(self, tmp_path) -> str:
        return f"file://{tmp_path}/lake"
