"""The benchmark harness on tiny sizes, embedded only: every figure is there and readable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vitalstream.bench import report
from vitalstream.bench.inputs import mixed_vitals, smartwatch_vitals
from vitalstream.bench.latency import percentiles
from vitalstream.bench.peers import transform
from vitalstream.bench.runner import Plan, Run
from vitalstream.events import decode


def test_inputs_are_mixed_decodable_and_time_ordered() -> None:
    inp = mixed_vitals(400, patients=40)
    assert len(inp.events) == 400 and len(inp.topics()) >= 6
    assert all(a.timestamp_ms <= b.timestamp_ms for a, b in zip(inp.events, inp.events[1:], strict=False))
    for m in inp.events[:50]:
        decode(m.topic, m.value)
    assert {m.topic for m in smartwatch_vitals(100, patients=20).events} <= {
        "heart-rate-data", "blood-oxygen-data", "blood-pressure-data", "fall-detection-data"}


def test_peer_transform_agrees_with_vitalstream_validation() -> None:
    for m in smartwatch_vitals(200, patients=20).events:
        data_type = transform.RAW_TOPICS[m.topic][0]
        assert transform.validate(data_type, json.loads(m.value)) is None
    bad = {"event_id": "e", "patient_id": "p", "timestamp": "2024-04-01T00:00:00Z",
           "data_type": "heart_rate", "heart_rate": 0}
    assert transform.validate("heart_rate", bad) == "heart_rate: out of range"
    assert transform.step("heart-rate-data", "heart_rate", bad, {}, {})[0]["record_type"] == "dead_letter"


def test_percentiles() -> None:
    p = percentiles([float(i) for i in range(1, 101)])
    assert (p["p50_ms"], p["p95_ms"], p["p99_ms"]) == (50.0, 95.0, 99.0)
    assert percentiles([])["p99_ms"] is None


@pytest.mark.timeout(120)
def test_embedded_run_tiny(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = Plan(events=3000, peer_events=0, latency_s=1.0, memory_events=6000, quick=True)
    doc = Run(plan, ("limit", "e2e", "memory"), kafka=False).run()
    s = doc["scenarios"]
    for name in ("limit_embedded", "processor_embedded", "e2e_embedded"):
        sc = s[name]
        # plausible on any machine: more than nothing, less than a memcpy
        assert 0 < sc["events_per_s"] < 50_000_000, (name, sc)
        assert sc["events"] >= 3000, (name, sc)
        quantiles = [sc.get(k) for k in ("p50_ms", "p95_ms", "p99_ms")]
        if quantiles[0] is not None:
            assert 0 <= quantiles[0] <= quantiles[1] <= quantiles[2], (name, quantiles)
    assert s["processor_embedded"]["events"] == 3000
    assert s["e2e_embedded"]["complete"] and set(s["e2e_embedded"]["stages"]) >= {"produce", "process", "warehouse"}
    assert 0 < s["memory"]["rss_mb_long"] <= s["memory"]["peak_rss_mb"] < 1024
    assert set(doc["ratios"]) >= {"vs_quix", "vs_per_message", "of_limit"} and doc["ratios"]["of_limit"] > 0
    assert any(t["met"] is None for t in doc["targets"])  # the peers were not run: "not measured"
    out = report.write_json(doc, tmp_path / "r.json")
    assert json.loads(out.read_text())["scenarios"]["processor_embedded"]["events"] == 3000
    capsys.readouterr()
    report.print_table(doc)
    shown = capsys.readouterr().out
    for name, sc in s.items():  # every scenario is a row, with its event count as printed
        assert name in shown
        if name != "memory":
            assert report._fmt(sc.get("events")) in shown, name
    assert "ratios: " in shown and "not measured" in shown
    md = report.markdown(doc)
    assert md.count("\n| ") >= len(s) + len(doc["targets"])


def test_model_inputs_keep_the_first_version_of_each_user() -> None:
    from vitalstream.bench.model import heart_rate_inputs

    first, second = heart_rate_inputs(20_000, 500, users=100)
    assert sum(m.topic == "hr-data-topic" for m in first.events) == 20_000
    assert sum(m.topic == "hr-data-topic" for m in second.events) == 500 and not second.reference
    moves = [json.loads(m.value) for m in first.events if m.topic == "hr-users"]
    assert moves, "users move country within the run: the dimensions get type-2 versions"
    originals = {u["userid"]: u for u in (json.loads(m.value) for m in first.reference if m.topic == "hr-users")}
    for moved in moves:  # the reference records are the versions before the moves
        assert originals[moved["userid"]]["last_update"] < moved["last_update"]


def test_model_slowest_nodes(tmp_path: Path) -> None:
    from vitalstream.bench.model import slowest_nodes

    f = tmp_path / "run_results.json"
    f.write_text(json.dumps({"results": [{"unique_id": "model.vitalstream.fct_heart_rates", "execution_time": 3.0},
                                         {"unique_id": "model.vitalstream.dim_users", "execution_time": 0.5}]}))
    assert slowest_nodes(f) == [("fct_heart_rates", 3.0), ("dim_users", 0.5)]
    assert slowest_nodes(tmp_path / "missing.json") == []


@pytest.mark.timeout(180)
def test_model_and_dashboard_scenarios_tiny(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The harness, not the figures: tiny sizes, and no browser (the scenario says so)."""
    pytest.importorskip("dbt.cli.main")
    from vitalstream.bench import dashboard

    monkeypatch.setattr(dashboard, "chromium_path", lambda: None)
    plan = Plan(events=0, model_events=3000, dashboard_patients=50, quick=True)
    doc = Run(plan, ("model", "dashboard"), kafka=False).run()
    s = doc["scenarios"]
    m = s["model"]
    assert m["ok"], m
    assert m["rows"]["fct_heart_rates"] == 3000 + m["incremental_events"]
    assert m["full_build_s"] > 0 and m["incremental_build_s"] > 0 and m["tests"] > 0
    assert "quick: 3,000 events" in m["note"]
    api = s["dashboard_api"]
    assert api["patients"] == 50 and 0 < api["p50_ms"] <= api["p95_ms"] <= api["p99_ms"], api
    assert s["dashboard_dom"]["note"].startswith("skipped: no browser") and s["dashboard_dom"]["events_per_s"] is None
    met = {t["target"]: t["met"] for t in doc["targets"]}
    assert met["produce -> board DOM p95 <= 2 s at 5,000 events/s (Chromium)"] is None  # not measured
    assert met["board API p95 <= 100 ms with 1,000 patients"] in (True, False)
    report.print_table(doc)
    shown = capsys.readouterr().out
    assert "dashboard_dom" in shown and "skipped: no browser" in shown
