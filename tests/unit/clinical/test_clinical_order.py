"""Scores and alerts depend on the readings and their event times only: not on batch
boundaries, restarts, or how the streams of different sources interleave on arrival.

Each source (here: one per vital) delivers its own readings in event-time order, as a topic
partition does; the sources interleave arbitrarily, as they do in a repartition topic fed by
several workers. The newest version of every NEWS2 score_id and the set of alerts must match
the reference order.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import msgspec
from clinical_helpers import T0, vital
from hypothesis import given, settings
from hypothesis import strategies as st

from vitalstream.clinical import AlertEngine, EngineConfig, ManualClock
from vitalstream.events.canonical import Vital

FIELDS = {
    "heart_rate": st.integers(35, 160),
    "spo2": st.integers(80, 100),
    "systolic": st.integers(85, 200),
    "respiratory_rate": st.integers(6, 30),
    "temperature_c": st.sampled_from([35.0, 36.5, 38.05, 39.2]),
}


def engine(**config: float) -> AlertEngine:
    return AlertEngine(EngineConfig(**config), ManualClock(datetime(2024, 4, 1, 12, tzinfo=UTC)))


def run(e: AlertEngine, vitals: list[Vital], cuts: list[int]) -> tuple[dict, dict]:
    alerts, scores = [], []
    bounds = sorted({0, len(vitals), *(c % (len(vitals) + 1) for c in cuts)})
    for lo, hi in itertools.pairwise(bounds):
        alerts += e.observe_batch(vitals[lo:hi])
        scores += e.take_scores()
    newest = {s.score_id: msgspec.structs.replace(s, computed_time=T0) for s in scores}
    return {a.alert_id: a for a in alerts}, newest


@st.composite
def streams(draw: st.DrawFn) -> list[list[Vital]]:
    """One in-order stream per vital for two patients, over up to ~15 minutes."""
    out = []
    for patient in ("p1", "p2"):
        for field, values in FIELDS.items():
            n = draw(st.integers(0, 12))
            gaps = draw(st.lists(st.integers(1, 150), min_size=n, max_size=n))
            t = draw(st.integers(0, 60))
            stream = []
            for gap in gaps:
                t += gap
                stream.append(vital(t, patient, event_id=f"{patient}-{field}-{t}", **{field: draw(values)}))
            out.append(stream)
    return out


def interleave(parts: list[list[Vital]], seed: int) -> list[Vital]:
    rnd = random.Random(seed)
    queues = [list(p) for p in parts if p]
    out = []
    while queues:
        q = rnd.choice(queues)
        out.append(q.pop(0))
        if not q:
            queues.remove(q)
    return out


@settings(max_examples=150, deadline=None)
@given(streams(), st.integers(0, 10**6), st.lists(st.integers(0, 400), max_size=6))
def test_any_interleaving_and_batching_gives_the_same_scores_and_alerts(parts, seed, cuts) -> None:  # type: ignore[no-untyped-def]
    by_time = sorted((v for p in parts for v in p), key=lambda v: (v.event_time, v.event_id))
    ref_alerts, ref_scores = run(engine(), by_time, [])
    alerts, scores = run(engine(), interleave(parts, seed), cuts)
    assert scores == ref_scores
    assert alerts == ref_alerts


@settings(max_examples=60, deadline=None)
@given(streams(), st.integers(0, 10**6), st.integers(0, 400))
def test_a_restart_from_the_changelog_changes_nothing(parts, seed, cut) -> None:  # type: ignore[no-untyped-def]
    vitals = interleave(parts, seed)
    ref_alerts, ref_scores = run(engine(), vitals, [])
    cut %= len(vitals) + 1
    first = engine()
    a1 = first.observe_batch(vitals[:cut])
    s1 = first.take_scores()
    saved = {key: value for _, key, value in first.changelog()}
    second = engine()
    second.restore_changelog(saved.items())
    a2 = second.observe_batch(vitals[cut:])
    s2 = second.take_scores()
    assert {a.alert_id: a for a in a1 + a2} == ref_alerts
    assert {s.score_id: msgspec.structs.replace(s, computed_time=T0) for s in s1 + s2} == ref_scores


def test_a_late_reading_re_scores_the_minutes_it_belongs_to() -> None:
    e = engine()
    e.observe_batch([vital(m * 60, heart_rate=135) for m in range(5)])
    assert [s.total for s in e.take_scores()] == [3] * 5
    e.observe(vital(70, spo2=91))  # SpO2 from another source, arriving late: minutes 1..4
    got = e.take_scores()
    assert [(s.event_time, s.total, s.band) for s in got] == [
        (T0 + timedelta(minutes=m), 6, "medium") for m in range(1, 5)]


def test_a_reading_later_than_the_reorder_window_counts_but_its_minute_is_not_scored() -> None:
    e = engine(news2_reorder_s=180)  # three minutes held
    e.observe_batch([vital(m * 60, heart_rate=135) for m in range(6)])
    e.take_scores()
    e.observe(vital(30, spo2=91))  # minute 0: outside the window (minutes 3..5 held)
    got = e.take_scores()
    assert [(s.event_time, s.total) for s in got] == [(T0 + timedelta(minutes=m), 6) for m in (3, 4, 5)]
    saved = {key: value for _, key, value in e.changelog()}
    assert len([k for k in saved if "\x1fn2:" in k]) <= 3  # one key per minute of the window
