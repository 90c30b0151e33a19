"""The warehouse model on DuckDB: built by dbt over a history loaded through the real sink.

dbt runs take seconds, so one module-scoped fixture runs the whole sequence once (build,
build again, late event + build while the sink writes in the same process, a failing build
through the CLI) and the tests look at what each step left behind.
"""

from __future__ import annotations

import threading
from pathlib import Path

import model_scenario as M
import msgspec
import pytest
from typer.testing import CliRunner

from vitalstream import topics as T
from vitalstream.cli import app
from vitalstream.config import load
from vitalstream.log.base import Record
from vitalstream.model import schedule
from vitalstream.sinks.warehouse import open_warehouse


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("model-home")
    url = f"duckdb:///{home}/warehouse.duckdb"
    settings = load(environ={}, overrides={"home": str(home), "warehouse_url": url})
    M.load(url, M.records())
    out: dict = {"url": url, "home": home}
    out["first"] = schedule.build_and_record(settings)
    out["snap1"] = M.snapshot(url)
    out["seen"] = M.observe(url)
    out["second"] = schedule.build_and_record(settings)
    out["snap2"] = M.snapshot(url)

    # The late event, then a build while the warehouse sink loads in this process (as in `up`,
    # where the schedule is a thread of the sinks process): they take turns, nothing is lost.
    M.load(url, [M.late_record()])
    loaded: list[int] = []
    build = threading.Thread(target=lambda: out.__setitem__("third", schedule.build_and_record(settings)))
    build.start()
    with open_warehouse(url) as wh:
        for i in range(20):
            doc = msgspec.json.encode({"patient_id": f"p{i}", "age": 70, "updated_at": "2025-01-05T00:00:00Z"})
            wh.upsert({"patient_metadata": [doc], "patient_metadata_history": [doc]})
            loaded.append(i)
    build.join(120)
    out["loaded_during_build"] = len(loaded)
    out["snap3"] = M.snapshot(url)
    out["seen_late"] = M.observe(url)

    # A heart rate no model accepts: the build fails loudly, through the CLI.
    with open_warehouse(url) as wh:
        wh.query("INSERT INTO heart_rate_events (event_id, patient_id, source, event_time, heart_rate, data_type, "
                 "original_timestamp, processed_timestamp) VALUES ('bad', '10001', 'heart-rate', "
                 "now(), 400, 'heart_rate', 'x', now())")
    out["cli"] = CliRunner().invoke(app, ["--home", str(home), "--warehouse-url", url, "model", "build",
                                          "--select", "stg_heart_rates"])
    out["status"] = CliRunner().invoke(app, ["--home", str(home), "--warehouse-url", url, "model", "status"])
    return out


def test_first_build_passes_every_model_and_test(runs) -> None:
    first = runs["first"]
    assert first.ok, first.summary()
    assert first.models == 14 and first.tests >= 50 and not first.failed


def test_each_event_maps_to_the_user_and_activity_version_valid_at_its_time(runs) -> None:
    seen = runs["seen"]
    assert seen["versions"] == M.EXPECTED_VERSIONS
    assert seen["dim_users"] == M.EXPECTED_DIM_USERS
    assert seen["users_history"] == 3  # version 2 was delivered twice
    assert seen["dim_activities"] == ["Running", "Jogging"]


def test_facts_carry_previous_reading_and_day_figures(runs) -> None:
    assert runs["seen"]["facts"] == M.EXPECTED_FACTS


def test_sleep_only_average_and_iso_weeks(runs) -> None:
    seen = runs["seen"]
    assert seen["daily"] == M.EXPECTED_DAILY
    assert seen["weekly"] == M.EXPECTED_WEEKLY
    assert seen["monthly"] == M.EXPECTED_MONTHLY


def test_second_run_changes_no_row(runs) -> None:
    assert runs["second"].ok
    assert runs["snap2"] == runs["snap1"]


def test_late_event_updates_only_its_day_week_and_month_while_the_sink_writes(runs) -> None:
    assert runs["third"].ok, runs["third"].summary()
    assert runs["loaded_during_build"] == 20
    assert M.changed_tables(runs["snap2"], runs["snap3"]) == {
        "stg_smartwatch": 1, "daily_aggregates": 1, "weekly_aggregates": 1, "monthly_aggregates": 1}
    assert runs["seen_late"]["daily"] == M.EXPECTED_DAILY_LATE
    with open_warehouse(runs["url"]) as wh:
        assert wh.count("patient_metadata_history") == 20


def test_a_failing_test_fails_the_command_and_is_recorded(runs) -> None:
    cli = runs["cli"]
    assert cli.exit_code == 1
    assert "FAILED" in cli.stderr and "accepted_range_stg_heart_rates_heart_rate" in cli.stderr
    status = runs["status"]
    assert status.exit_code == 0
    recorded = schedule.last_runs(runs["url"], 10)
    assert [r["ok"] for r in recorded] == [False, True, True, True]
    assert all(r["command"] == "build" for r in recorded)


def test_model_artifacts_stay_under_home_and_no_profile_is_left(runs) -> None:
    home: Path = runs["home"]
    assert (home / "model" / "target" / "manifest.json").is_file()
    assert not list(home.rglob("profiles.yml"))
    assert not (Path(schedule.__file__).parent / "dbt" / "target").exists()


def test_history_is_loaded_by_the_sink_and_redelivery_adds_nothing(tmp_path) -> None:
    url = f"duckdb:///{tmp_path}/w.duckdb"
    recs = M.records()
    M.load(url, recs)
    M.load(url, recs)  # the whole batch again, as after a crash before the commit
    v = msgspec.json.encode({"patient_id": "p1", "age": 70, "gender": "F", "medical_history": "", "emergency_contact": "",
                             "blood_type": "A+", "allergies": "", "last_checkup_date": "2024-01-01", "device_id": "d1"})
    M.load(url, [Record(T.PATIENT_METADATA, 0, 0, None, v, 1_000), Record(T.PATIENT_METADATA, 0, 1, None, v, 1_000),
                 Record(T.PATIENT_METADATA, 0, 2, None, v, 2_000)])
    with open_warehouse(url) as wh:
        assert wh.count("users") == 1 and wh.count("users_history") == 3
        assert wh.count("activities") == 1 and wh.count("activities_history") == 2
        assert wh.count("patient_metadata_history") == 2  # by arrival time: the same record twice
        assert wh.rows("SELECT address_country_code FROM users")[0]["address_country_code"] == "AU"


def test_research_reports_read_the_model(runs) -> None:
    from vitalstream.reports import run_report

    with open_warehouse(runs["url"]) as wh:
        by_activity = {r["activity"]: r for r in run_report(wh, "hr-by-activity")}
        seasonal = run_report(wh, "seasonal")
        daypart = run_report(wh, "activity-by-daypart")
        demo = run_report(wh, "hr-by-demographics")
    assert by_activity["Running"]["events"] == 4 and by_activity["Jogging"]["events"] == 2
    assert by_activity["Running"]["avg_heart_rate"] == 85.0  # 70, 80, 100, 90
    # hr-6 was measured in the southern hemisphere in June: winter there
    assert {(r["month"], r["season"]) for r in seasonal} == {(12, "winter"), (2, "winter"), (4, "spring"),
                                                            (6, "summer"), (6, "winter")}
    night = [r for r in daypart if r["day_part"] == "night"]
    assert [(r["country"], r["activity"], r["share"]) for r in night] == [("?", "Jogging", 1.0)]
    assert {(r["age_band"], r["country"]) for r in demo} >= {(50, "DE"), (50, "FR"), (50, "AU")}


def test_the_profile_is_generated_and_keeps_the_password_out_of_files() -> None:
    from vitalstream.errors import ConfigError
    from vitalstream.model.runner import dbt_target

    target, env = dbt_target("postgresql://vs:s3cret@db:5433/wh?sslmode=require", "public")
    assert target["host"] == "db" and target["port"] == 5433 and target["dbname"] == "wh"
    assert target["sslmode"] == "require" and target["schema"] == "public"
    assert "s3cret" not in repr(target) and list(env.values()) == ["s3cret"]
    assert all(k.startswith("DBT_ENV_SECRET_") for k in env)  # dbt scrubs these from its logs
    duck, env = dbt_target("duckdb:////data/w.duckdb", "main")
    assert duck["path"].lstrip("/") == "data/w.duckdb" and not env
    for url in ("duckdb:///:memory:", "duckdb:////d/w.duckdb?encryption_key_env=K"):
        with pytest.raises(ConfigError):
            dbt_target(url, "main")


def test_up_schedules_the_model_where_the_warehouse_allows(tmp_path) -> None:
    from vitalstream.supervise import sink_components

    duck = load(environ={}, overrides={"home": str(tmp_path)})
    pg = load(environ={}, overrides={"home": str(tmp_path), "warehouse_url": "postgresql://vs@db/vs"})
    off = load(environ={"VITALSTREAM_MODEL_INTERVAL_S": "0"},
               overrides={"home": str(tmp_path), "warehouse_url": "postgresql://vs@db/vs"})
    assert [c.kind for c in sink_components(duck)] == ["sinks"]  # a thread of the sinks process
    assert schedule.runs_in_sinks_process(duck)
    assert [c.kind for c in sink_components(pg)] == ["sinks", "model"]
    assert [c.kind for c in sink_components(off)] == ["sinks"]


def test_json_vs_avro_sizes_are_measured() -> None:
    from vitalstream.events.sizes import measure

    sizes = {r["encoding"]: r for r in measure(500)}
    json_size = sizes["json"]["bytes"]
    assert sizes["json, numbers as strings (the seed's producer)"]["bytes"] > json_size
    assert sizes["avro per message (+5 bytes registry framing)"]["bytes"] < json_size / 2
    assert all(r["events"] == 500 and r["bytes"] > 0 for r in sizes.values())
