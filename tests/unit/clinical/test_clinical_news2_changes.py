"""NEWS2 scores a minute again only when a reading can change it: the shortcut for a reading
that charts the sub-scores the minute's last score holds must emit exactly what scoring every
pending minute emits, every version, in the same order."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from clinical_helpers import vital
from hypothesis import given, settings
from hypothesis import strategies as st

from vitalstream.clinical import AlertEngine, EngineConfig, ManualClock, PatientContext

VALUES = {
    "heart_rate": st.sampled_from([40, 45, 60, 72, 90, 91, 111, 131]),
    "spo2": st.sampled_from([85, 91, 93, 95, 96, 99]),
    "systolic": st.sampled_from([90, 100, 110, 150, 220]),
    "respiratory_rate": st.sampled_from([8, 11, 16, 22, 26]),
    "temperature_c": st.sampled_from([35.0, 36.0, 36.5, 38.05, 39.2]),
    "consciousness": st.sampled_from(["A", "V", "alert", "nonsense"]),
    "on_oxygen": st.booleans(),
}


@st.composite
def readings(draw: st.DrawFn) -> list[tuple[int, str, dict[str, object]]]:
    """Readings of two patients, mostly in order, some late, a few per second."""
    out, t = [], 0
    for _ in range(draw(st.integers(1, 80))):
        t += draw(st.sampled_from([0, 1, 5, 20, 61]))
        late = draw(st.sampled_from([0, 0, 0, 30, 200]))
        fields = draw(st.lists(st.sampled_from(sorted(VALUES)), min_size=1, max_size=3, unique=True))
        out.append((max(0, t - late), draw(st.sampled_from(["p1", "p2"])), {f: draw(VALUES[f]) for f in fields}))
    return out


def scores(quick: bool, rows: list, cuts: list[int], scale2: bool, freshness: float) -> list:
    e = AlertEngine(EngineConfig(news2_freshness_s=freshness), ManualClock(datetime(2024, 4, 1, 12, tzinfo=UTC)))
    assert e.news2 is not None
    e.news2._quick = quick and e.news2._quick
    vitals = [vital(s, pid, event_id=f"{pid}-{i}", **f) for i, (s, pid, f) in enumerate(rows)]
    contexts = [PatientContext(spo2_scale=2) if scale2 and v.patient_id == "p2" else None for v in vitals]
    out = []
    bounds = sorted({0, len(vitals), *(c % (len(vitals) + 1) for c in cuts)})
    for lo, hi in itertools.pairwise(bounds):
        e.observe_batch(vitals[lo:hi], contexts[lo:hi])
        out += e.take_scores()
    return out


@settings(max_examples=100, deadline=None)
@given(readings(), st.lists(st.integers(0, 100), max_size=5), st.booleans(), st.sampled_from([30.0, 600.0, 3600.0]))
def test_skipping_unchanged_minutes_emits_what_scoring_them_emits(rows, cuts, scale2, freshness) -> None:  # type: ignore[no-untyped-def]
    assert scores(True, rows, cuts, scale2, freshness) == scores(False, rows, cuts, scale2, freshness)


def test_a_steady_reading_is_not_scored_again() -> None:
    e = AlertEngine(EngineConfig(), ManualClock())
    e.observe_batch([vital(0, heart_rate=72)])
    assert len(e.take_scores()) == 1
    e.observe_batch([vital(s, heart_rate=72 + s % 5) for s in range(1, 50)])  # same band: 51-90
    assert e.news2 is not None and e.news2.pending == {"p1": set()}  # nothing to score
    assert e.take_scores() == []
    e.observe_batch([vital(55, heart_rate=95)])  # 91-110 scores 1: the minute is sent again
    [again] = e.take_scores()
    assert again.subscores["heart_rate"] == 1
