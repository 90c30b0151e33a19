"""The pure parts of the peer comparison: summaries, interleaving, output counts, and the
clinical rules every peer runs (persistence, hysteresis, NEWS2)."""

from __future__ import annotations

from vitalstream.bench.peers import clinical, transform
from vitalstream.bench.stats import compare_counts, counts_line, interleave, summary


def test_summary_is_median_and_range_and_skips_failed_runs() -> None:
    assert summary([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3}
    assert summary([4.0, None, 2.0]) == {"median": 3.0, "min": 2.0, "max": 4.0, "n": 2}
    assert summary([None]) == {"median": None, "min": None, "max": None, "n": 0}


def test_interleave_runs_every_implementation_once_per_round() -> None:
    order = interleave(["a", "b", "c"], 3)
    assert [name for _, name in order] == ["a", "b", "c"] * 3
    assert [rep for rep, _ in order] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert interleave(["a"], 0) == []


def test_compare_counts_flags_the_kinds_that_differ() -> None:
    cmp = compare_counts({"vitalstream": {"processed": 100, "alert": 7, "changelog": 40},
                          "quix": {"processed": 100, "alert": 9, "changelog": 55},
                          "ck_loop": {"processed": 100, "alert": 7}})
    assert cmp["kinds"]["processed"]["agree"] and not cmp["kinds"]["alert"]["agree"]
    assert cmp["kinds"]["changelog"]["counts"]["ck_loop"] is None  # absent: not a disagreement by itself
    assert cmp["differ"] == ["alert", "changelog"] and cmp["agree"] is False
    line = counts_line(cmp)
    assert "alert: vitalstream 7 · quix 9 · ck_loop 7 (differ)" in line
    assert line.splitlines()[-1] == "processed: vitalstream 100 · quix 100 · ck_loop 100"
    assert compare_counts({"a": {"x": 1}, "b": {"x": 1}})["agree"] is True


def _hr(value: int, i: int = 0) -> dict[str, object]:
    return {"patient_id": "P1", "event_id": f"e{i}", "timestamp": "2026-01-01T00:00:00+00:00",
            "heart_rate": value, "data_type": "heart_rate"}


def test_alerts_need_persistence_and_clear_with_hysteresis() -> None:
    state = clinical.new_state()
    kinds = [[o["record_type"] for o in clinical.observe(state, _hr(v, i), "heart_rate")]
             for i, v in enumerate([120, 80, 120, 120])]
    # 3 of the last 5 readings breached: raised on the fourth reading, not before
    assert [k.count("alert") for k in kinds] == [0, 0, 0, 1]
    again = clinical.observe(state, _hr(125, 4), "heart_rate")
    assert not any(o["record_type"] == "alert" for o in again)  # already raised: not raised again
    for v in (97, 99):  # between the clear (<= 95) and raise (> 100) thresholds: stays raised
        clinical.observe(state, _hr(v), "heart_rate")
    assert state["rules"]["tachycardia"]["active"]
    clinical.observe(state, _hr(90), "heart_rate")
    assert state["rules"]["tachycardia"]["active"]  # one reading past the clear threshold is not enough
    clinical.observe(state, _hr(90), "heart_rate")
    assert not state["rules"]["tachycardia"]["active"]


def test_news2_points_and_emission_on_change_only() -> None:
    assert [clinical.news2_points("heart_rate", v) for v in (40, 45, 70, 100, 120, 140)] == [3, 1, 0, 1, 2, 3]
    assert [clinical.news2_points("spo2", v) for v in (91, 93, 95, 97)] == [3, 2, 1, 0]
    assert [clinical.news2_points("systolic", v) for v in (90, 95, 105, 150, 220)] == [3, 2, 1, 0, 3]
    state = clinical.new_state()
    first = clinical.observe(state, _hr(70), "heart_rate")
    assert [o["score"] for o in first if o["record_type"] == "news2"] == [0]
    assert clinical.observe(state, _hr(72), "heart_rate") == []  # same score: nothing new


def test_step_routes_every_output_to_its_topic() -> None:
    topics = transform.output_topics("x-")
    d = {"event_id": "e", "patient_id": "P1", "timestamp": "2026-01-01T00:00:00+00:00",
         "data_type": "fall_detection", "fall_detected": True}
    out = transform.step("fall-detection-data", "fall_detection", d, {"P1": {"age": 80}}, clinical.new_state())
    assert [transform.topic_of(o, topics) for o in out] == ["x-processed-fall-detection-data", "x-alerts"]
    assert out[0]["age"] == 80 and out[1]["rule"] == "fall"
    bad = transform.step("fall-detection-data", "fall_detection", {**d, "fall_detected": 1}, {}, clinical.new_state())
    assert [transform.topic_of(o, topics) for o in bad] == ["x-dlq-topic"]
