"""The measured recall of PHI removal on >= 500 synthetic (Faker) items (docs/privacy.md)."""

from __future__ import annotations

import pytest

from vitalstream.privacy.evaluate import STRUCTURED, TEXT_IDS_AND_DATES, evaluate

pytest.importorskip("faker", reason="the PHI evaluation needs Faker: pip install 'vitalstream[dev]'")


def test_recall_of_identifiers_and_dates_is_at_least_99_percent() -> None:
    report = evaluate(items=600, seed=0)
    print("\n" + report.table())
    for kind, value, _ in report.residual:
        print(f"residual {kind}: {value!r}")
    assert sum(report.injected.values()) >= 600 * 20
    assert report.recall(tuple(f"record:{k}" for k in STRUCTURED)) >= 0.99
    assert report.recall(tuple(f"note:{k}" for k in TEXT_IDS_AND_DATES)) >= 0.99


def test_fewer_than_500_items_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 500"):
        evaluate(items=100)
