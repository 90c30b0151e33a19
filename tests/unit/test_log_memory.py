"""The log contract on ``vitalstream.testing.memory_log``: the test kit's log keeps every promise
the embedded backend makes (it *is* the embedded backend, on a temporary directory)."""

from __future__ import annotations

from pathlib import Path

import pytest

from contract.log_contract import *  # noqa: F403 - the shared contract suite
from vitalstream.log.embedded import EmbeddedLog
from vitalstream.testing import memory_log


@pytest.fixture
def log():  # overrides the contract's fixture: the log under test is the kit's
    with memory_log() as lg:
        yield lg


@pytest.fixture
def log_url(log) -> str:  # a second handle (or a killed producer process) opens the same log
    return log.url


def test_memory_log_is_the_embedded_backend_and_leaves_nothing_behind() -> None:
    with memory_log() as lg:
        assert isinstance(lg, EmbeddedLog)
        where = Path(lg.url.removeprefix("sqlite:///")).parent
        assert where.is_dir()
    assert not where.exists()
