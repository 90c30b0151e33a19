"""A restart from the compacted changelog written batch by batch changes nothing.

The newest NEWS2 minute is not rewritten while more in-order readings land in it (they are
the patient's latest readings, held by the snapshot written with them): a restore must put
them back, whatever batch the restart comes after. Unlike the one-batch restart of
``test_clinical_order``, here the changelog accumulates over many batches, as on the topic.
"""

from __future__ import annotations

import itertools

import msgspec
import test_clinical_order as order
from clinical_helpers import T0, vital
from hypothesis import given, settings
from hypothesis import strategies as st

from vitalstream.clinical import AlertEngine


def _batches(e: AlertEngine, vitals: list, bounds: list[int], saved: dict[str, bytes]) -> tuple[list, list]:
    alerts, scores = [], []
    for lo, hi in itertools.pairwise(bounds):
        alerts += e.observe_batch(vitals[lo:hi])
        scores += e.take_scores()
        saved.update({key: value for _, key, value in e.changelog()})  # compacted: newest per key
        e.clear_dirty()
    return alerts, scores


@settings(max_examples=80, deadline=None)
@given(order.streams(), st.integers(0, 10**6), st.lists(st.integers(0, 400), max_size=8), st.integers(0, 400))
def test_a_restart_after_any_batch_changes_nothing(parts, seed, cuts, restart) -> None:  # type: ignore[no-untyped-def]
    vitals = order.interleave(parts, seed)
    ref_alerts, ref_scores = order.run(order.engine(), vitals, [])
    bounds = sorted({0, len(vitals), *(c % (len(vitals) + 1) for c in cuts)})
    k = restart % len(bounds)
    saved: dict[str, bytes] = {}
    a1, s1 = _batches(order.engine(), vitals, bounds[:k + 1], saved)
    second = order.engine()
    second.restore_changelog(saved.items())
    a2, s2 = _batches(second, vitals, bounds[k:], {})
    assert {a.alert_id: a for a in a1 + a2} == ref_alerts
    assert {s.score_id: msgspec.structs.replace(s, computed_time=T0) for s in s1 + s2} == ref_scores
    live = order.engine()
    _batches(live, vitals, bounds, {})
    assert second._store.minutes == live._store.minutes  # every minute's readings, not only the scores


def test_readings_of_the_newest_minute_come_back_from_the_snapshot() -> None:
    e = order.engine()
    saved: dict[str, bytes] = {}
    # the later readings chart the same sub-scores: the score does not change, nor is the
    # minute rewritten
    _batches(e, [vital(0, "a", heart_rate=70, spo2=97), vital(10, "a", heart_rate=72), vital(20, "a", spo2=98)],
             [0, 1, 2, 3], saved)
    other = order.engine()
    other.restore_changelog(saved.items())
    assert other.news2_score("a") == e.news2_score("a")
    # minute 0 is complete once minute 1 starts: the restored engine scores it as the live one
    e.observe(vital(61, "a", heart_rate=70))
    other.observe(vital(61, "a", heart_rate=70))
    assert other._store.minutes["a"] == e._store.minutes["a"]
