"""Report tables fit 80 columns, one line per row; --wide cuts nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vitalstream.cli.sinks import REPORT_COLUMNS
from vitalstream.cli.tables import Column, print_table

CONTACT = "Sofia Yilmaz (son) +1-555-0121, or the ward's night nurse on extension 4411"
ROWS = [
    {"event_time": datetime(2026, 11, 30, 8, 15, 2, 743000, tzinfo=UTC), "patient_id": f"patient-{i:04d}",
     "spo2": 86 + i, "age": 70 + i, "medical_history": "COPD; hypertension; type 2 diabetes",
     "emergency_contact": CONTACT, "event_id": f"a079e0e3-5fd9-8900-9119-bb78881a9f5{i}"}
    for i in range(3)
]


@pytest.fixture(autouse=True)
def _eighty_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")


def _lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.rstrip("\n").split("\n")


def test_report_view_fits_80_columns_with_one_line_per_row(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(ROWS, REPORT_COLUMNS["low-oxygen"], title="SpO2 below 90 %")
    lines = _lines(capsys)
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert lines[0] == "SpO2 below 90 % · 2026-11-30 UTC"  # one day: the date moves to the title
    assert lines[1].split() == ["time", "patient", "SpO2", "age", "history", "emergency", "contact"]
    body = lines[3:]
    assert len(body) == len(ROWS)  # nothing wrapped onto a second line
    assert body[0].startswith("08:15:02  patient-0000    86   70  ")
    assert "…" in body[0] and "a079e0e3" not in body[0]  # free text cut, the event id not shown


def test_times_on_several_days_keep_the_date(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"at": "2026-11-29T23:59:58.100Z", "actor": "alice"}, {"at": "2026-11-30T00:00:01Z", "actor": "bob"}]
    print_table(rows, [Column("at", "time"), Column("actor")], title="audit entries")
    lines = _lines(capsys)
    assert lines[0] == "audit entries"
    assert lines[3].split() == ["2026-11-29", "23:59:58", "alice"]


def test_wide_shows_every_column_and_exact_values(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(ROWS, None, title="SpO2 below 90 %", wide=True)
    lines = _lines(capsys)
    assert lines[1].split()[-1] == "event_id"
    assert CONTACT in lines[3] and "a079e0e3-5fd9-8900-9119-bb78881a9f50" in lines[3]
    assert "2026-11-30 08:15:02.743000+00:00" in lines[3]


def test_formatters_numbers_and_no_markup(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"patient_id": "[bold]p1[/bold]", "total": 5, "missing": '["respiratory_rate", "consciousness"]'},
            {"patient_id": "p2", "total": 12, "missing": "[]"}]
    print_table(rows, REPORT_COLUMNS["news2"], title="NEWS2")
    lines = _lines(capsys)
    assert lines[3].split()[:4] == ["[bold]p1[/bold]", "5", "RR", "ACVPU"]  # data is never markup
    assert lines[4].index("12") == lines[3].index("5") - 1  # numbers right-aligned


def test_empty_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    print_table([], REPORT_COLUMNS["falls-elderly"], title="falls", empty="no rows")
    assert _lines(capsys) == ["falls: no rows"]
