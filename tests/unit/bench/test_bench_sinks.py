"""The "one sink alone" harness on a tiny pre-loaded log: every sink reads everything."""

from __future__ import annotations

import pytest

from vitalstream.bench.runner import Plan, Run


@pytest.mark.timeout(240)
def test_each_sink_alone_reads_the_whole_log(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VITALSTREAM_TEST_POSTGRES", raising=False)  # its own integration test
    doc = Run(Plan(events=1500, quick=True), ("sinks",), kafka=False).run()
    s = doc["scenarios"]
    for name in ("sink_duckdb", "sink_lake"):
        assert s[name]["complete"] and s[name]["events"] == s[name]["expected"] >= 1500, (name, s[name])
        assert s[name]["events_per_s"] > 0 and s[name]["cpu_us_per_record"] > 0
    assert s["sink_duckdb"]["rows"] >= 1500  # every processed vital became a row
    assert s["sink_postgres"]["events_per_s"] is None and s["sink_postgres"]["note"].startswith("skipped")
