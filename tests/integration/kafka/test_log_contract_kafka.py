"""The log contract suite (tests/contract/log_contract.py), unchanged, on a real Kafka broker."""

from __future__ import annotations

import pytest

from contract.log_contract import *  # noqa: F403 - the shared contract suite


@pytest.fixture
def log_url(kafka_bootstrap: str) -> str:
    return f"kafka://{kafka_bootstrap}"
