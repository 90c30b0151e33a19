"""The per-batch GC pause leaves the collector as it found it, whatever the batch does."""

from __future__ import annotations

import gc

import pytest

from vitalstream.processing.gcpause import gc_paused


def test_paused_inside_and_restored_after_even_on_error() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("a poison batch")
    assert gc.isenabled()


def test_a_caller_that_disabled_the_gc_keeps_it_disabled() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
