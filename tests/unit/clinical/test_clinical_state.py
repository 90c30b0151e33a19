"""Per-patient state: snapshot/restore equivalence, replay without duplicates, dirty
tracking, deterministic ids, and the NEWS2 tracker inside the same state (one score per
patient and minute of event time; see vitalstream.clinical.tracker)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from clinical_helpers import T0, vital

from vitalstream.clinical import (
    AlertEngine,
    EngineConfig,
    ManualClock,
    News2Tracker,
    PatientContext,
    alert_id,
    score_id,
)
from vitalstream.clinical.ids import NAMESPACE
from vitalstream.clinical.state import decode
from vitalstream.events.canonical import Vital


def episode() -> list[Vital]:
    """Two patients: a low-SpO2 episode that raises, escalates and clears, plus fevers."""
    out = []
    spo2 = [95, 89, 88, 88, 87, 84, 83, 91, 92, 93, 88, 88, 88, 96, 96]
    for i, s in enumerate(spo2):
        out.append(vital(i * 10, "p1", spo2=s, heart_rate=80 + i, respiratory_rate=18))
        out.append(vital(i * 10 + 1, "p2", temperature_c=37.0 + i * 0.2, spo2=97))
    return out


def fresh_engine(start: datetime | None = None) -> AlertEngine:
    return AlertEngine(EngineConfig(), ManualClock(start or datetime(2024, 4, 1, 9, tzinfo=UTC)))


def run_all(engine: AlertEngine, vitals: list[Vital]) -> tuple[list, list]:
    alerts = engine.observe_batch(vitals)
    return alerts, engine.take_scores()


def save(engine: AlertEngine, into: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """What a processor writes to the compacted changelog: the newest value per key."""
    into = {} if into is None else into
    into.update({key: value for _, key, value in engine.changelog()})
    engine.clear_dirty()
    return into


def final(scores: list) -> dict[str, object]:
    """The newest version of every score_id, without the wall-clock field."""
    return {s.score_id: msgspec.structs.replace(s, computed_time=T0) for s in scores}


@pytest.mark.parametrize("cut", [1, 5, 9, 14, 21, 29])
def test_restart_mid_episode_gives_the_same_outputs(cut: int) -> None:
    vitals = episode()
    reference = fresh_engine()
    expected = reference.observe_batch(vitals[:cut]) + reference.observe_batch(vitals[cut:])
    expected_scores = reference.take_scores()

    first = fresh_engine()
    before = first.observe_batch(vitals[:cut])
    scores = first.take_scores()
    saved = save(first)

    second = fresh_engine()  # a new process, same clock reading
    second.restore_changelog(saved.items())
    after = second.observe_batch(vitals[cut:])
    assert before + after == expected
    assert len(expected) > 0 and {a.state for a in expected} == {"raised", "escalated", "cleared"}
    # the newest version of every score is the reference's
    assert final(scores + second.take_scores()) == final(expected_scores)


def test_replaying_after_a_crash_reproduces_the_same_alerts_and_ids() -> None:
    vitals = episode()
    engine = fresh_engine()
    engine.observe_batch(vitals[:6])
    committed = {pid: engine.snapshot(pid) for pid in engine.dirty_patients()}
    engine.clear_dirty()
    first_try = engine.observe_batch(vitals[6:])  # produced, then the worker dies uncommitted

    recovered = fresh_engine()
    for pid, data in committed.items():
        recovered.restore(pid, data)
    assert recovered.observe_batch(vitals[6:]) == first_try


def test_re_observing_what_the_state_reflects_raises_nothing() -> None:
    vitals = episode()
    engine = fresh_engine()
    assert engine.observe_batch(vitals)
    engine.take_scores()
    assert engine.observe_batch(vitals) == []
    assert engine.take_scores() == []

    restored = fresh_engine()
    restored.restore_changelog(save(engine).items())
    assert restored.observe_batch(vitals) == []
    assert restored.observe_batch(list(reversed(vitals))) == []
    assert restored.take_scores() == []
    assert restored.dirty_patients() == set()


def test_dirty_tracking_and_drop() -> None:
    engine = fresh_engine()
    engine.observe_batch([vital(0, "a", spo2=97), vital(0, "b", heart_rate=70)])
    assert engine.dirty_patients() == {"a", "b"}
    engine.clear_dirty()
    assert engine.dirty_patients() == set()
    engine.observe_batch([vital(0, "a", spo2=97), vital(10, "b", heart_rate=71)])  # a: replay
    assert engine.dirty_patients() == {"b"}
    engine.observe(vital(20, "a"), PatientContext(age=70))  # context alone changes state
    assert engine.dirty_patients() == {"a", "b"}
    engine.drop(["a", "b"])
    assert engine.patients() == set() and engine.dirty_patients() == set()
    assert engine.take_scores() == []


def test_snapshot_of_an_unknown_patient_restores_to_nothing() -> None:
    engine = fresh_engine()
    engine.observe(vital(0, "a", spo2=97))
    engine.restore("a", engine.snapshot("never-seen"))
    assert engine.patients() == set()


@pytest.mark.parametrize("garbage", [b"", b"\xff\x00garbage", b"\x81\xa6schema\x63"])
def test_corrupt_snapshots_are_rejected(garbage: bytes) -> None:
    with pytest.raises(ValueError):
        fresh_engine().restore("a", garbage)


def test_snapshots_are_small_and_hold_context() -> None:
    engine = fresh_engine()
    engine.observe(vital(0, "a", spo2=97, heart_rate=70), PatientContext(age=80, spo2_scale=2))
    records = engine.changelog()
    assert [key for _, key, _ in records] == ["a", "a\x1fn2:0"]  # 8:00 is minute 0 mod 60
    assert all(len(value) < 200 for _, _, value in records)
    other = fresh_engine()
    other.restore_changelog((key, value) for _, key, value in records)
    (fall,) = other.observe(vital(10, "a", fall_detected=True))
    assert fall.severity == "critical"
    assert other.news2_score("a").scale == 2  # type: ignore[union-attr]


def test_restore_forgets_episodes_of_rules_no_longer_run() -> None:
    engine = fresh_engine()
    engine.observe_batch([vital(s, spo2=85, heart_rate=130) for s in (0, 10, 20)])
    rules = {k: v for k, v in EngineConfig().rules.items() if k != "tachycardia"}
    other = AlertEngine(EngineConfig(rules=rules), ManualClock())
    other.restore("p1", engine.snapshot("p1"))
    assert set(decode(engine.snapshot("p1")).rules) == {"low_spo2", "tachycardia"}
    assert set(decode(other.snapshot("p1")).rules) == {"low_spo2"}
    assert [a.rule for a in other.observe_batch([vital(s, spo2=96, heart_rate=80)
                                                 for s in (30, 40)])] == ["low_spo2"]


# -- ids ---------------------------------------------------------------------------------------


def test_ids_are_uuid5_over_the_documented_fields() -> None:
    expected = uuid.uuid5(NAMESPACE, "alert\x1fp1\x1flow_spo2\x1fraised\x1fe1")
    assert alert_id("p1", "low_spo2", "raised", "e1") == str(expected)
    when = datetime(2024, 4, 1, 10, tzinfo=UTC)
    assert score_id("p1", when) == str(
        uuid.uuid5(NAMESPACE, "news2\x1fp1\x1f2024-04-01T10:00:00+00:00"))
    # the same instant in another zone is the same score
    assert score_id("p1", when.astimezone(datetime.now().astimezone().tzinfo)) == score_id(
        "p1", when)


def test_ids_are_deterministic_and_distinct() -> None:
    a_alerts, a_scores = run_all(fresh_engine(), episode())
    b_alerts, b_scores = run_all(fresh_engine(datetime(2030, 1, 1, tzinfo=UTC)), episode())
    assert [a.alert_id for a in a_alerts] == [b.alert_id for b in b_alerts]
    assert [s.score_id for s in a_scores] == [s.score_id for s in b_scores]
    assert len({a.alert_id for a in a_alerts}) == len(a_alerts)
    assert a_alerts[0].raise_time != b_alerts[0].raise_time  # only processing time differs


# -- NEWS2 in the stream ---------------------------------------------------------------------


def test_one_score_per_patient_and_minute_with_the_latest_inputs() -> None:
    engine = fresh_engine()
    engine.observe_batch([vital(0, spo2=97), vital(10, heart_rate=120),
                          vital(20, respiratory_rate=26), vital(20, "p2", heart_rate=70)])
    s1, s2 = engine.take_scores()
    assert (s1.patient_id, s2.patient_id) == ("p1", "p2")
    assert s1.subscores == {"spo2": 0, "heart_rate": 2, "respiratory_rate": 3}
    assert (s1.total, s1.band, s1.partial) == (5, "medium", True)
    assert s1.missing == ["on_oxygen", "systolic", "consciousness", "temperature_c"]
    assert s1.event_time == T0  # the minute the score covers
    assert s1.score_id == score_id("p1", T0)
    assert engine.take_scores() == []
    engine.observe(vital(30, fall_detected=False))  # not a NEWS2 input
    assert engine.take_scores() == []
    engine.observe(vital(40, heart_rate=121))  # same minute, same score: nothing new
    assert engine.take_scores() == []
    engine.observe(vital(50, heart_rate=135))  # same minute, the score changed: sent again
    (s,) = engine.take_scores()
    assert (s.score_id, s.total, s.subscores["heart_rate"]) == (s1.score_id, 6, 3)
    engine.observe(vital(61, heart_rate=135))  # a new minute: a new score
    (s,) = engine.take_scores()
    assert s.event_time == T0 + timedelta(minutes=1) and s.total == 6


def test_stale_inputs_drop_out_of_the_score() -> None:
    engine = fresh_engine()
    engine.observe_batch([vital(0, temperature_c=39.5, consciousness="V"), vital(3000, spo2=97)])
    _, s = engine.take_scores()  # minutes 8:00 and 8:50
    assert s.subscores == {"spo2": 0, "consciousness": 3, "temperature_c": 2}
    engine.observe(vital(3601, heart_rate=70))  # 9:00: the temperature is over an hour old
    (s,) = engine.take_scores()
    assert s.subscores == {"spo2": 0, "heart_rate": 0}
    assert "temperature_c" in s.missing and "consciousness" in s.missing


def test_scale_2_comes_from_the_patient_context() -> None:
    engine = fresh_engine()
    engine.observe(vital(0, spo2=90, on_oxygen=False), PatientContext(spo2_scale=2))
    (s,) = engine.take_scores()
    assert s.scale == 2 and s.subscores == {"spo2": 0, "on_oxygen": 0}
    engine.observe(vital(10, "p9", spo2=90, on_oxygen=False))
    (s,) = engine.take_scores()
    assert s.scale == 1 and s.subscores["spo2"] == 3


def test_an_unscoreable_value_is_missing_not_a_crash(caplog: pytest.LogCaptureFixture) -> None:
    engine = fresh_engine()
    engine.observe(vital(0, heart_rate=70, consciousness="sleepy"))
    (s,) = engine.take_scores()
    assert "consciousness" in s.missing and s.subscores == {"heart_rate": 0}
    assert "sleepy" not in caplog.text  # no PHI in logs


def test_news2_can_be_switched_off() -> None:
    engine = AlertEngine(EngineConfig(news2=False), ManualClock())
    engine.observe(vital(0, heart_rate=70))
    assert engine.take_scores() == [] and engine.news2_score("p1") is None


def test_the_tracker_works_on_its_own() -> None:
    clock = ManualClock()
    tracker = News2Tracker(clock, freshness_s=600)
    tracker.observe(vital(0, heart_rate=135, systolic=85))
    tracker.observe(vital(0, heart_rate=50))  # not newer: ignored
    (s,) = tracker.take_scores()
    assert (s.total, s.band, s.computed_time) == (6, "medium", clock.now())
    assert tracker.current("p1") == s and tracker.current("nobody") is None
    assert tracker.store.dirty == {"p1"}
