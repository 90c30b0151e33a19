"""Alert rules against alert fatigue: persistence, hysteresis, de-duplication, suppression,
escalation, falls, thresholds of every rule. Event time drives windows; the clock only
stamps ``raise_time``."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import msgspec
import pytest
from clinical_helpers import T0, instant, vital

from vitalstream.clinical import (
    AlertEngine,
    EngineConfig,
    ManualClock,
    PatientContext,
    RuleConfig,
    default_rules,
)
from vitalstream.errors import ConfigError
from vitalstream.events.canonical import Alert, ProcessedVital


def run(engine: AlertEngine, readings: list[tuple[float, dict[str, object]]]) -> list[Alert]:
    return engine.observe_batch([vital(s, **f) for s, f in readings])


def states(alerts: list[Alert]) -> list[tuple[str, str]]:
    return [(a.rule, a.state) for a in alerts]


def only(rule: str, cfg: RuleConfig | None = None) -> EngineConfig:
    return EngineConfig(rules={rule: cfg or default_rules()[rule]}, news2=False)


# -- persistence -----------------------------------------------------------------------------


def test_a_single_low_reading_raises_nothing(engine: AlertEngine) -> None:
    assert run(engine, [(0, {"spo2": 85}), (10, {"spo2": 97}), (20, {"spo2": 97})]) == []


def test_two_low_readings_inside_the_persistence_window_raise_nothing(engine: AlertEngine) -> None:
    assert run(engine, [(0, {"spo2": 85}), (20, {"spo2": 86}), (25, {"spo2": 95})]) == []


def test_sustained_low_spo2_raises_exactly_once(engine: AlertEngine, clock: ManualClock) -> None:
    alerts = run(engine, [(s, {"spo2": 87}) for s in range(0, 600, 5)])
    assert states(alerts) == [("low_spo2", "raised")]
    (a,) = alerts
    assert a.severity == "high" and a.values == {"spo2": 87} and a.patient_id == "p1"
    assert a.event_time == T0 + timedelta(seconds=10)  # third sample: 3 of 5
    assert a.event_id == "p1-10" and a.raise_time == clock.now()


def test_persistence_by_event_time_alone() -> None:
    cfg = default_rules()["low_spo2"].with_(k_of_n=None)
    engine = AlertEngine(only("low_spo2", cfg), ManualClock())
    assert run(engine, [(0, {"spo2": 88}), (10, {"spo2": 88}), (29.9, {"spo2": 88})]) == []
    (a,) = run(engine, [(30, {"spo2": 88})])
    assert a.state == "raised" and a.event_time == T0 + timedelta(seconds=30)


def test_persistence_by_time_needs_consecutive_breaches() -> None:
    cfg = default_rules()["low_spo2"].with_(k_of_n=None)
    engine = AlertEngine(only("low_spo2", cfg), ManualClock())
    readings = [(0, {"spo2": 88}), (20, {"spo2": 95}), (40, {"spo2": 88}), (60, {"spo2": 88})]
    assert run(engine, readings) == []


def test_k_of_n_counts_breaches_among_the_last_n_samples() -> None:
    cfg = default_rules()["low_spo2"].with_(persistence_s=None)
    engine = AlertEngine(only("low_spo2", cfg), ManualClock())
    # breach, ok, breach, ok, ok, ok: never 3 of the last 5
    assert run(engine, [(i, {"spo2": s}) for i, s in enumerate([88, 95, 88, 95, 95, 95, 88])]) == []
    # last five at 8 s: 95, 95, 88, 88, 88
    (a,) = run(engine, [(7, {"spo2": 88}), (8, {"spo2": 88})])
    assert a.state == "raised"


def test_readings_far_apart_do_not_make_one_episode() -> None:
    engine = AlertEngine(only("low_spo2"), ManualClock())
    hours = [(h * 7200, {"spo2": 88}) for h in range(5)]  # 2 h apart > max_gap_s
    assert run(engine, hours) == []


# -- hysteresis, de-duplication, clear -------------------------------------------------------


def test_recovery_past_the_hysteresis_band_clears(engine: AlertEngine) -> None:
    raised = run(engine, [(0, {"spo2": 87}), (10, {"spo2": 87}), (20, {"spo2": 87})])
    assert states(raised) == [("low_spo2", "raised")]
    # 90 and 91 are inside the band: no longer breaching, not yet recovered
    assert run(engine, [(30 + i * 10, {"spo2": s}) for i, s in enumerate([90, 91, 90, 91])]) == []
    assert run(engine, [(80, {"spo2": 92})]) == []  # clear needs 2 consecutive samples
    (c,) = run(engine, [(90, {"spo2": 93})])
    assert (c.state, c.severity, c.values, c.event_id) == ("cleared", "high", {"spo2": 93}, "p1-90")


def test_a_reading_inside_the_band_resets_the_clear_count(engine: AlertEngine) -> None:
    run(engine, [(0, {"spo2": 87}), (10, {"spo2": 87}), (20, {"spo2": 87})])
    assert run(engine, [(30, {"spo2": 92}), (40, {"spo2": 91}), (50, {"spo2": 92})]) == []
    assert states(run(engine, [(60, {"spo2": 92})])) == [("low_spo2", "cleared")]


def test_while_active_nothing_is_raised_again(engine: AlertEngine) -> None:
    alerts = run(engine, [(s, {"spo2": 88 if s % 20 else 89}) for s in range(0, 3600, 10)])
    assert states(alerts) == [("low_spo2", "raised")]


def test_flapping_around_the_threshold_does_not_flood(engine: AlertEngine) -> None:
    # an hour of SpO2 alternating 89 / 93 every 10 s: 360 readings, 180 threshold crossings
    alerts = run(engine, [(s, {"spo2": 89 if (s // 10) % 2 == 0 else 93}) for s in range(0, 3600, 10)])
    assert states(alerts) == [("low_spo2", "raised")]  # one episode, still open


def test_slow_flapping_is_bounded_by_the_suppression_window(engine: AlertEngine) -> None:
    # 1 minute low, 1 minute recovered, for two hours
    readings = [(s, {"spo2": 88 if (s // 60) % 2 == 0 else 95}) for s in range(0, 7200, 10)]
    alerts = run(engine, readings)
    counts = Counter(a.state for a in alerts)
    # 60 low spells; at most one raise per suppression window (300 s) plus the first
    assert counts["raised"] <= 7200 / 300 + 1
    assert abs(counts["raised"] - counts["cleared"]) <= 1
    assert_alternates(alerts)


def assert_alternates(alerts: list[Alert]) -> None:
    open_: dict[tuple[str, str], bool] = {}
    for a in alerts:
        key = (a.patient_id, a.rule)
        if a.state == "raised":
            assert not open_.get(key), f"two raises in a row for {key}"
            open_[key] = True
        else:
            assert open_.get(key), f"{a.state} without a raise for {key}"
            open_[key] = a.state == "escalated"


# -- suppression -----------------------------------------------------------------------------


def raise_and_clear(engine: AlertEngine) -> None:
    assert states(run(engine, [(0, {"spo2": 87}), (10, {"spo2": 87}), (20, {"spo2": 87}),
                               (30, {"spo2": 95}), (40, {"spo2": 95})])) == [
        ("low_spo2", "raised"), ("low_spo2", "cleared")]


def test_a_re_raise_inside_the_suppression_window_is_suppressed(engine: AlertEngine) -> None:
    raise_and_clear(engine)  # cleared at 40 s
    assert run(engine, [(s, {"spo2": 88}) for s in range(50, 340, 10)]) == []
    (a,) = run(engine, [(340, {"spo2": 88})])  # first breach at or after 40 + 300
    assert (a.state, a.event_id) == ("raised", "p1-340")


def test_a_suppressed_episode_that_recovers_emits_nothing(engine: AlertEngine) -> None:
    raise_and_clear(engine)
    low = [(s, {"spo2": 88}) for s in range(50, 100, 10)]
    ok = [(s, {"spo2": 96}) for s in range(100, 400, 10)]
    assert run(engine, low + ok) == []


def test_a_new_episode_after_the_window_raises_normally(engine: AlertEngine) -> None:
    raise_and_clear(engine)
    assert run(engine, [(s, {"spo2": 96}) for s in range(50, 400, 10)]) == []
    alerts = run(engine, [(400, {"spo2": 88}), (410, {"spo2": 88}), (420, {"spo2": 88})])
    assert states(alerts) == [("low_spo2", "raised")]


def test_worsening_breaks_through_suppression(engine: AlertEngine) -> None:
    raise_and_clear(engine)
    assert run(engine, [(50, {"spo2": 88}), (60, {"spo2": 88}), (70, {"spo2": 88})]) == []
    (a,) = run(engine, [(80, {"spo2": 86})])  # 4 points below the threshold
    assert (a.state, a.values) == ("raised", {"spo2": 86})


# -- escalation ------------------------------------------------------------------------------


def test_escalation_only_on_further_worsening(engine: AlertEngine) -> None:
    alerts = run(engine, [(0, {"spo2": 89}), (10, {"spo2": 89}), (20, {"spo2": 89})])
    assert [(a.state, a.severity) for a in alerts] == [("raised", "high")]
    assert run(engine, [(30, {"spo2": 87}), (40, {"spo2": 86})]) == []  # 3 points: no
    (e,) = run(engine, [(50, {"spo2": 85})])  # 4 points below the raise value
    assert (e.state, e.severity, e.values) == ("escalated", "critical", {"spo2": 85})
    assert run(engine, [(60, {"spo2": 87}), (70, {"spo2": 83}), (80, {"spo2": 82})]) == []
    (e2,) = run(engine, [(90, {"spo2": 81})])
    assert (e2.state, e2.severity) == ("escalated", "critical")  # capped at critical
    assert states(run(engine, [(100, {"spo2": 94}), (110, {"spo2": 94})])) == [
        ("low_spo2", "cleared")]


def test_hypertensive_crisis_escalates_on_either_pressure(engine: AlertEngine) -> None:
    bp = [(s, {"systolic": 185, "diastolic": 100}) for s in (0, 10, 20)]
    assert states(run(engine, bp)) == [("hypertensive_crisis", "raised")]
    # raised 5 mmHg over (185 vs 180); escalates once some pressure is 20 mmHg further over
    assert run(engine, [(30, {"systolic": 170, "diastolic": 144})]) == []
    (e,) = run(engine, [(40, {"systolic": 170, "diastolic": 145})])
    assert e.state == "escalated" and e.values == {"systolic": 170, "diastolic": 145}


# -- falls -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("age", "severity"), [(None, "high"), (40, "high"), (65, "high"),
                                               (66, "critical"), (90, "critical")])
def test_fall_severity_by_age(engine: AlertEngine, age: int | None, severity: str) -> None:
    ctx = PatientContext(age=age)
    (a,) = engine.observe(vital(0, fall_detected=True), ctx)
    assert (a.rule, a.state, a.severity) == ("fall", "raised", severity)
    if age is not None:
        assert a.values == {"fall_detected": True, "age": age}


def test_fall_is_instantaneous_deduplicated_and_cleared(engine: AlertEngine) -> None:
    assert states(run(engine, [(0, {"fall_detected": False})])) == []
    assert states(run(engine, [(5, {"fall_detected": True}), (6, {"fall_detected": True})])) == [
        ("fall", "raised")]
    assert states(run(engine, [(10, {"fall_detected": False})])) == [("fall", "cleared")]


def test_fall_age_is_remembered_and_read_from_processed_vitals(engine: AlertEngine) -> None:
    engine.observe(vital(0, heart_rate=70), PatientContext(age=80))
    (a,) = engine.observe(vital(10, fall_detected=True))
    assert a.severity == "critical"
    pv = ProcessedVital(event_id="x", patient_id="p2", source="vitals", event_time=T0,
                        fall_detected=True, data_type="fall_detection",
                        original_timestamp="2024-04-01T08:00:00Z", processed_timestamp=T0,
                        age=70)
    (b,) = engine.observe(pv)
    assert (b.patient_id, b.severity) == ("p2", "critical")


def test_fall_clears_itself_when_no_normal_reading_comes(engine: AlertEngine) -> None:
    assert states(run(engine, [(0, {"fall_detected": True})])) == [("fall", "raised")]
    assert run(engine, [(200, {"fall_detected": True})]) == []  # same incident
    # 300 s after the last fall: the old alert is closed, the new fall is a new alert
    alerts = run(engine, [(1000, {"fall_detected": True})])
    assert states(alerts) == [("fall", "cleared"), ("fall", "raised")]
    assert alerts[0].alert_id != alerts[1].alert_id


# -- thresholds of every rule ----------------------------------------------------------------

# rule, field(s) at the raise boundary: (no breach, breach); at the clear boundary:
# (still active, clears) after a raise
BOUNDARIES = [
    ("low_spo2", {"spo2": 90}, {"spo2": 89}, {"spo2": 91}, {"spo2": 92}),
    ("tachycardia", {"heart_rate": 100}, {"heart_rate": 101}, {"heart_rate": 96},
     {"heart_rate": 95}),
    ("bradycardia", {"heart_rate": 60}, {"heart_rate": 59}, {"heart_rate": 61},
     {"heart_rate": 62}),
    ("hypertensive_crisis", {"systolic": 179, "diastolic": 119},
     {"systolic": 180, "diastolic": 80}, {"systolic": 170, "diastolic": 100},
     {"systolic": 169, "diastolic": 109}),
    ("hypertensive_crisis", {"systolic": 179, "diastolic": 119},
     {"systolic": 150, "diastolic": 120}, {"systolic": 150, "diastolic": 110},
     {"systolic": 150, "diastolic": 109}),
    ("fever", {"temperature_c": 37.9}, {"temperature_c": 38.0}, {"temperature_c": 37.8},
     {"temperature_c": 37.7}),
]


@pytest.mark.parametrize(("rule", "ok", "bad", "band", "recovered"), BOUNDARIES)
def test_raise_and_clear_thresholds(
    rule: str,
    ok: dict[str, object],
    bad: dict[str, object],
    band: dict[str, object],
    recovered: dict[str, object],
) -> None:
    engine = AlertEngine(only(rule, instant(default_rules()[rule])), ManualClock())
    assert engine.observe(vital(0, **ok)) == []
    assert states(engine.observe(vital(10, **bad))) == [(rule, "raised")]
    assert engine.observe(vital(20, **band)) == []
    assert states(engine.observe(vital(30, **recovered))) == [(rule, "cleared")]


def test_tachycardia_and_bradycardia_share_the_heart_rate(engine: AlertEngine) -> None:
    fast = run(engine, [(s, {"heart_rate": 130}) for s in (0, 10, 20)])
    slow = run(engine, [(s, {"heart_rate": 45}) for s in (30, 40, 50)])
    assert states(fast) == [("tachycardia", "raised")]
    assert states(slow) == [("tachycardia", "cleared"), ("bradycardia", "raised")]


def test_a_combined_reading_feeds_every_rule(engine: AlertEngine) -> None:
    reading = {"heart_rate": 130, "spo2": 85, "systolic": 190, "diastolic": 125,
               "temperature_c": 39.0}
    alerts = run(engine, [(s, reading) for s in (0, 10, 20)])
    assert sorted(a.rule for a in alerts) == ["fever", "hypertensive_crisis", "low_spo2",
                                              "tachycardia"]


def test_patients_are_independent(engine: AlertEngine) -> None:
    batch = [vital(s, patient_id=p, spo2=85) for s in (0, 10, 20) for p in ("a", "b")]
    batch += [vital(s, patient_id="c", spo2=97) for s in (0, 10, 20)]
    alerts = engine.observe_batch(batch)
    assert sorted(a.patient_id for a in alerts) == ["a", "b"]


def test_disabled_and_omitted_rules_do_nothing() -> None:
    rules = {**default_rules(), "low_spo2": default_rules()["low_spo2"].with_(enabled=False)}
    del rules["fall"]
    engine = AlertEngine(EngineConfig(rules=rules), ManualClock())
    assert run(engine, [(s, {"spo2": 80, "fall_detected": True}) for s in (0, 10, 20)]) == []


def test_out_of_order_and_duplicate_readings_are_ignored(engine: AlertEngine) -> None:
    run(engine, [(100, {"spo2": 97})])
    late = [(s, {"spo2": 80}) for s in (10, 20, 30, 40, 100)]  # all older than or equal to 100
    assert run(engine, late) == []
    assert run(engine, [(110, {"spo2": 80}), (110, {"spo2": 80}), (120, {"spo2": 80})]) == []


def test_raise_time_comes_from_the_clock_event_time_from_the_vital(clock: ManualClock) -> None:
    engine = AlertEngine(EngineConfig(), clock)
    later = clock.advance(3600)
    (a,) = engine.observe(vital(0, fall_detected=True))
    assert a.raise_time == later and a.event_time == T0


def test_naive_event_times_are_taken_as_utc(engine: AlertEngine) -> None:
    naive = msgspec.structs.replace(vital(0, spo2=85), event_time=datetime(2024, 4, 1, 8, 0))
    assert engine.observe(naive) == []
    assert run(engine, [(0, {"spo2": 85})]) == []  # the same instant in UTC: not newer
    assert states(run(engine, [(10, {"spo2": 85}), (20, {"spo2": 85})])) == [
        ("low_spo2", "raised")]
    (fall,) = engine.observe(msgspec.structs.replace(
        vital(0, fall_detected=True), event_time=datetime(2024, 4, 1, 8, 1)))
    assert fall.event_time == T0 + timedelta(minutes=1) and fall.event_time.tzinfo is not None


# -- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"k_of_n": (6, 5)},
        {"k_of_n": (0, 5)},
        {"persistence_s": -1},
        {"suppression_s": -5},
        {"clear_samples": 0},
        {"severity": "urgent"},
    ],
)
def test_invalid_rule_settings_are_config_errors(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        default_rules()["low_spo2"].with_(**bad)


def test_thresholds_must_name_the_rule_fields() -> None:
    with pytest.raises(ConfigError, match="thresholds"):
        AlertEngine(EngineConfig(rules={"low_spo2": RuleConfig({"heart_rate": 90},
                                                               {"spo2": 92})}))


def test_unknown_rules_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown rules"):
        AlertEngine(EngineConfig(rules={"hypothermia": RuleConfig()}))


def test_thresholds_are_configurable() -> None:
    cfg = instant(default_rules()["tachycardia"]).with_(thresholds={"heart_rate": 120},
                                                        clear_thresholds={"heart_rate": 110})
    engine = AlertEngine(only("tachycardia", cfg), ManualClock())
    assert engine.observe(vital(0, heart_rate=120)) == []
    assert states(engine.observe(vital(10, heart_rate=121))) == [("tachycardia", "raised")]
    assert engine.observe(vital(20, heart_rate=111)) == []
    assert states(engine.observe(vital(30, heart_rate=110))) == [("tachycardia", "cleared")]
