"""Processed entries, problems and medications in PostgreSQL: the same tables and question."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "unit", "notes"))
from test_notes_warehouse import ACTIVE_DIABETES_ON_METFORMIN, _records

from vitalstream.sinks.warehouse import WarehouseSink, open_warehouse


@pytest.fixture(scope="module")
def extractor():
    from vitalstream.notes.extractor import shared_extractor

    return shared_extractor()


def test_notes_in_postgres(pg_schema_url, extractor) -> None:
    records = _records(extractor)
    with open_warehouse(pg_schema_url) as wh:
        sink = WarehouseSink(wh)
        sink.process(records)
        sink.process(records)
        assert (wh.count("processed_entries"), wh.count("note_problems")) == (4, 6)
        assert [r["patient_id"] for r in wh.rows(ACTIVE_DIABETES_ON_METFORMIN)] == ["1", "4"]
        [entry] = wh.rows("SELECT problems FROM processed_entries WHERE patient_id = '3'")
        assert {p["assertion"] for p in entry["problems"]} == {"family", "present"}
