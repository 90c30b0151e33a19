"""Properties over arbitrary vital sequences: alerts follow the thresholds, alert states
alternate per (patient, rule), batching and restarts do not change the outputs, and replays
add nothing.

An engine that emits nothing would satisfy the last three, so every generated sequence also
carries one patient (``z``) whose SpO2 stays low long enough for any generated rule variant,
then recovers; those properties first check that this episode was raised and cleared.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from clinical_helpers import instant, vital
from hypothesis import example, given, settings
from hypothesis import strategies as st

from vitalstream.clinical import AlertEngine, EngineConfig, ManualClock, default_rules
from vitalstream.clinical.rules import any_breach, compile_rules
from vitalstream.events.canonical import Alert, Vital

reading = st.tuples(
    st.sampled_from(["a", "b"]),
    st.integers(-30, 400),  # seconds since the previous reading; negative = out of order
    st.one_of(st.none(), st.integers(70, 100)),  # spo2
    st.one_of(st.none(), st.integers(30, 170)),  # heart rate
    st.one_of(st.none(), st.booleans()),  # fall
)


def build(readings: list[tuple[str, int, int | None, int | None, bool | None]]) -> list[Vital]:
    """Patient ``z``'s known episode, then the generated readings of ``a`` and ``b``."""
    t, out = 0, list(KNOWN_EPISODE)
    for i, (pid, gap, spo2, hr, fall) in enumerate(readings):
        t += gap
        out.append(vital(t, pid, event_id=f"e{i}", spo2=spo2, heart_rate=hr, fall_detected=fall))
    return out


# SpO2 88 (below 90, not far enough below to escalate) every 30 s for 210 s: persisted for
# every generated persistence (<= 120 s) and k-of-n (<= 3 of 5); then four readings of 97
# clear it for every generated clear_samples (<= 3).
KNOWN_EPISODE = [vital(30 * i, "z", event_id=f"z{i}", spo2=88) for i in range(8)] + [
    vital(240 + 30 * i, "z", event_id=f"z{8 + i}", spo2=97) for i in range(4)]


def known_episode(alerts: list[Alert]) -> list[str]:
    return [a.state for a in alerts if a.patient_id == "z" and a.rule == "low_spo2"]


def configs() -> st.SearchStrategy[EngineConfig]:
    base = default_rules()
    variant = st.fixed_dictionaries(
        {
            "persistence_s": st.sampled_from([None, 0.0, 30.0, 120.0]),
            "k_of_n": st.sampled_from([None, (1, 1), (3, 5), (2, 3)]),
            "clear_samples": st.integers(1, 3),
            "suppression_s": st.sampled_from([0.0, 60.0, 300.0]),
        }
    )
    return variant.map(
        lambda v: EngineConfig(rules={**base, "low_spo2": base["low_spo2"].with_(**v),
                                      "tachycardia": base["tachycardia"].with_(**v)})
    )


def engine(config: EngineConfig) -> AlertEngine:
    return AlertEngine(config, ManualClock(datetime(2024, 4, 1, 9, tzinfo=UTC)))


def assert_alternates(alerts: list[Alert]) -> None:
    open_: dict[tuple[str, str], bool] = {}
    for a in alerts:
        key = (a.patient_id, a.rule)
        if a.state == "raised":
            assert not open_.get(key), f"two raises in a row for {key}"
        else:
            assert open_.get(key), f"{a.state} without an open alert for {key}"
        open_[key] = a.state != "cleared"


@settings(max_examples=150, deadline=None)
@given(st.lists(reading, max_size=80), configs())
def test_states_alternate_raised_escalated_cleared(readings, config) -> None:  # type: ignore[no-untyped-def]
    alerts = engine(config).observe_batch(build(readings))
    assert known_episode(alerts) == ["raised", "cleared"]
    assert_alternates(alerts)
    assert len({a.alert_id for a in alerts}) == len(alerts)


@settings(max_examples=100, deadline=None)
@given(st.lists(reading, max_size=60), configs(), st.lists(st.integers(0, 60), max_size=4))
def test_batching_and_restarts_do_not_change_the_outputs(readings, config, cuts) -> None:  # type: ignore[no-untyped-def]
    vitals = build(readings)
    expected = engine(config).observe_batch(vitals)
    assert known_episode(expected) == ["raised", "cleared"]

    current = engine(config)
    got: list[Alert] = []
    bounds = sorted({0, len(vitals), *(c for c in cuts if c < len(vitals))})
    for lo, hi in itertools.pairwise(bounds):
        got += current.observe_batch(vitals[lo:hi])
        saved = {pid: current.snapshot(pid) for pid in current.dirty_patients()}
        restarted = engine(config)
        for pid in current.patients() - set(saved):
            restarted.restore(pid, current.snapshot(pid))
        for pid, data in saved.items():
            restarted.restore(pid, data)
        current = restarted
    assert got == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(reading, max_size=60), configs(), st.integers(0, 80))
def test_replaying_a_prefix_adds_nothing(readings, config, n) -> None:  # type: ignore[no-untyped-def]
    vitals = build(readings)  # n >= 12 replays the known episode's raise and clear too
    e = engine(config)
    assert known_episode(e.observe_batch(vitals)) == ["raised", "cleared"]
    assert e.take_scores()
    e.clear_dirty()
    assert e.observe_batch(vitals[:n]) == []
    assert e.take_scores() == []
    assert e.dirty_patients() == set()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 600), st.one_of(st.none(), st.integers(87, 100))),
                max_size=60))
@example([(10, 95), (10, 89), (10, 91), (10, 88), (10, 92), (10, 89)])
def test_alerts_follow_the_thresholds_exactly(readings) -> None:  # type: ignore[no-untyped-def]
    """An instantaneous low-SpO2 rule against an oracle: a raise at every reading below 90
    while closed, a clear at every reading of 92 or more while open, nothing else (87..89 is
    never far enough below 90 to escalate)."""
    vitals, expected, open_, t = [], [], False, 0
    for i, (gap, spo2) in enumerate(readings):
        t += gap
        vitals.append(vital(t, "p", event_id=f"e{i}", spo2=spo2))
        if spo2 is not None and not open_ and spo2 < 90:
            expected.append(("raised", f"e{i}"))
            open_ = True
        elif spo2 is not None and open_ and spo2 >= 92:
            expected.append(("cleared", f"e{i}"))
            open_ = False
    config = EngineConfig(rules={"low_spo2": instant(default_rules()["low_spo2"])}, news2=False)
    got = [(a.state, a.event_id) for a in engine(config).observe_batch(vitals)]
    assert got == expected


_threshold = st.one_of(st.integers(30, 200), st.floats(30, 200, allow_nan=False))


@settings(max_examples=100, deadline=None)
@given(
    st.data(),
    st.fixed_dictionaries(
        {
            "heart_rate": st.one_of(st.none(), st.integers(20, 220)),
            "spo2": st.one_of(st.none(), st.integers(50, 100)),
            "systolic": st.one_of(st.none(), st.integers(60, 260)),
            "diastolic": st.one_of(st.none(), st.integers(30, 160)),
            "temperature_c": st.one_of(st.none(), st.floats(33, 43, allow_nan=False)),
            "fall_detected": st.one_of(st.none(), st.booleans()),
        }
    ),
)
def test_the_fused_common_path_predicate_matches_the_rules(data, fields) -> None:  # type: ignore[no-untyped-def]
    rules = {}
    for name, cfg in default_rules().items():
        thresholds = {f: data.draw(_threshold) for f in cfg.thresholds}
        rules[name] = cfg.with_(thresholds=thresholds)
    compiled = compile_rules(rules)
    subset = data.draw(st.lists(st.sampled_from(compiled), unique_by=lambda r: r.name))
    v = vital(0, **fields)
    assert any_breach(subset)(v) == any(r.breach(v) for r in subset)
