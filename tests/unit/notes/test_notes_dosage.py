"""Dose, unit, route and frequency parsing and normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vitalstream.notes.dosage import dosage_of, frequency_of


@pytest.mark.parametrize(("text", "expected"), [
    (" 500 mg twice daily", (500.0, "mg", None, "twice daily")),
    (" 500mg PO BID", (500.0, "mg", "oral", "twice daily")),
    (" 2 puffs inhaled every 4-6 hours as needed", (2.0, "puffs", "inhaled", "every 4 hours")),
    (" 1 g q6h prn", (1.0, "g", None, "every 6 hours")),
    (" 10 units subcutaneously at bedtime", (10.0, "units", "subcutaneous", "at night")),
    (" 100 mcg once daily", (100.0, "mcg", None, "once daily")),
    (" 5 mL by mouth three times a day", (5.0, "mL", "oral", "three times daily")),
    (" 0.5 mg IV stat", (0.5, "mg", "intravenous", "once")),
    (" 400 mg as needed", (400.0, "mg", None, "as needed")),
    (" 20 mg daily", (20.0, "mg", None, "once daily")),
    (" 50 mg tds", (50.0, "mg", None, "three times daily")),
    (" 1 tablet qid", (None, None, None, "four times daily")),
    (" once weekly 70 mg", (70.0, "mg", None, "weekly")),
    (" every morning", (None, None, None, "every morning")),
    ("", (None, None, None, None)),
    (" for 7 days", (None, None, None, None)),
])
def test_dosage(text: str, expected: tuple[object, ...]) -> None:
    d = dosage_of(text)
    assert (d.dose, d.unit, d.route, d.frequency) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("every 8 hours", "every 8 hours"), ("q12h", "every 12 hours"), ("every six hours", "every 6 hours"),
    ("nightly", "at night"), ("PRN", "as needed"), ("b.i.d.", "twice daily"), ("once a day", "once daily"),
])
def test_frequency_normalised(text: str, expected: str) -> None:
    assert frequency_of(text) == expected


@given(st.text(max_size=300))
def test_dosage_of_any_text(text: str) -> None:
    d = dosage_of(text)
    assert d.dose is None or d.dose >= 0
