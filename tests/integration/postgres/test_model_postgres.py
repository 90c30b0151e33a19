"""The warehouse model on the real PostgreSQL: the same dbt project and the same scenario as the
DuckDB unit tests (tests/unit/model), in a schema of its own. One module fixture runs dbt three
times: build, build again, late event + build."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "unit", "model"))
import model_scenario as M

from vitalstream.config import load
from vitalstream.model import schedule

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def runs(postgres_url, tmp_path_factory):
    import uuid

    import psycopg

    schema = f"vs_model_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in postgres_url else "?"
    url = f"{postgres_url}{sep}options=-csearch_path%3D{schema}"
    home = tmp_path_factory.mktemp("pg-model-home")
    settings = load(environ={}, overrides={"home": str(home), "warehouse_url": url})
    try:
        M.load(url, M.records())
        out: dict = {"url": url, "schema": schema}
        out["first"] = schedule.build_and_record(settings)
        out["snap1"], out["seen"] = M.snapshot(url), M.observe(url)
        out["second"] = schedule.build_and_record(settings)
        out["snap2"] = M.snapshot(url)
        M.load(url, [M.late_record()])
        out["third"] = schedule.build_and_record(settings)
        out["snap3"], out["seen_late"] = M.snapshot(url), M.observe(url)
        out["runs"] = schedule.last_runs(url, 10)
        yield out
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_build_passes_in_its_own_schema(runs) -> None:
    assert runs["first"].ok, runs["first"].summary()
    assert runs["first"].models == 14 and not runs["first"].failed
    assert [r["ok"] for r in runs["runs"]] == [True, True, True]


def test_events_map_to_the_versions_valid_at_their_time(runs) -> None:
    seen = runs["seen"]
    assert seen["versions"] == M.EXPECTED_VERSIONS
    assert seen["dim_users"] == M.EXPECTED_DIM_USERS
    assert seen["users_history"] == 3
    assert seen["facts"] == M.EXPECTED_FACTS


def test_sleep_only_average_and_iso_weeks(runs) -> None:
    seen = runs["seen"]
    assert seen["daily"] == M.EXPECTED_DAILY
    assert seen["weekly"] == M.EXPECTED_WEEKLY
    assert seen["monthly"] == M.EXPECTED_MONTHLY


def test_two_runs_change_no_row_and_a_late_event_only_its_periods(runs) -> None:
    assert runs["snap2"] == runs["snap1"]
    assert runs["third"].ok
    assert M.changed_tables(runs["snap2"], runs["snap3"]) == {
        "stg_smartwatch": 1, "daily_aggregates": 1, "weekly_aggregates": 1, "monthly_aggregates": 1}
    assert runs["seen_late"]["daily"] == M.EXPECTED_DAILY_LATE
