"""A small warehouse history that exercises the model (shared by the DuckDB unit tests and the
PostgreSQL integration tests): loaded through the real warehouse sink, as the pipeline would.

* user 10001 changes twice (moves DE -> FR -> AU), with events before, between and after the
  changes; user 10002 has events but no user record yet; version 2 of 10001 is delivered twice.
* activity 20001 is renamed (Running -> Jogging) between two events.
* smartwatch user ``sw-1`` sleeps on 2024-12-29 and 2024-12-30 (ISO weeks 2024-52 and 2025-01).
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from vitalstream import topics as T
from vitalstream.events.canonical import ProcessedVital
from vitalstream.log.base import Record
from vitalstream.sinks.warehouse import WarehouseSink, open_warehouse

MODEL_TABLES = ("stg_users", "stg_activities", "stg_heart_rates", "stg_smartwatch", "dim_users",
                "dim_activities", "dim_dates", "dim_times", "fct_heart_rates", "daily_aggregates",
                "weekly_aggregates", "monthly_aggregates")


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _ms(text: str) -> int:
    return int(t(text).timestamp() * 1000)


def user(uid: int, country: str, last_update: str) -> dict:
    return {"userid": uid, "fname": "Ada", "lname": "Byron", "dob": "19700101", "sex": "F",
            "height": 170.0, "weight": 60.0, "blood_type": "A+", "race": "x",
            "origin_country_code": "DE", "origin_country_name": "Germany", "address": "Street 1",
            "address_country_code": country, "address_country_name": country,
            "last_update": last_update}


def heart_rate(n: int, uid: int, when: str, hr: int, activity: int = 20001) -> ProcessedVital:
    return ProcessedVital(event_id=f"hr-{n}", patient_id=str(uid), source="heart-rate",
                          event_time=t(when), heart_rate=hr, activity_id=activity,
                          latitude=-33.9 if uid == 10002 else 52.5, longitude=13.4,
                          data_type="heart_rate", original_timestamp=when,
                          processed_timestamp=t("2025-01-02T00:00:00"))


def smartwatch(n: int, when: str, hr: int, steps: int, sleeping: bool,
               processed: str = "2025-01-02T00:00:00") -> ProcessedVital:
    return ProcessedVital(event_id=f"sw-{n}", patient_id="sw-1", user_id="sw-1", source="smartwatch",
                          event_time=t(when), heart_rate=hr, steps=steps, sleeping=sleeping,
                          device_id="dev-1", data_type="smartwatch", original_timestamp=when,
                          processed_timestamp=t(processed))


USERS = [("2024-01-01T00:00:00", user(10001, "DE", "2024-01-01T00:00:00Z")),
         ("2024-03-01T00:00:00", user(10001, "FR", "2024-03-01T00:00:00Z")),
         ("2024-03-01T00:00:00", user(10001, "FR", "2024-03-01T00:00:00Z")),  # re-delivered
         ("2024-05-01T00:00:00", user(10001, "AU", "2024-05-01T00:00:00Z"))]
ACTIVITIES = [("2024-01-01T00:00:00", {"activity_id": 20001, "activity_name": "Running",
                                      "last_update": "2024-01-01T00:00:00Z"}),
              ("2024-04-15T00:00:00", {"activity_id": 20001, "activity_name": "Jogging",
                                      "last_update": "2024-04-15T00:00:00Z"})]
HEART_RATES = [heart_rate(1, 10001, "2023-12-01T08:00:00", 70),   # before the first version
               heart_rate(2, 10001, "2024-02-01T08:00:00", 80),   # DE
               heart_rate(3, 10001, "2024-02-01T09:00:00", 100),  # DE, same day
               heart_rate(4, 10001, "2024-04-01T08:00:00", 90),   # FR, Running
               heart_rate(5, 10001, "2024-06-01T20:00:00", 60),   # AU, Jogging
               heart_rate(6, 10002, "2024-06-01T03:00:00", 55)]   # no user record
# expected: event -> (country of the user version, activity name)
EXPECTED_VERSIONS = {"hr-1": ("DE", "Running"), "hr-2": ("DE", "Running"), "hr-3": ("DE", "Running"),
                     "hr-4": ("FR", "Running"), "hr-5": ("AU", "Jogging"), "hr-6": (None, "Jogging")}
SMARTWATCH = [smartwatch(1, "2024-12-29T01:00:00", 50, 0, True),
              smartwatch(2, "2024-12-29T12:00:00", 120, 500, False),
              smartwatch(3, "2024-12-30T01:00:00", 60, 0, True),
              smartwatch(4, "2024-12-30T02:00:00", 70, 0, True),
              smartwatch(5, "2024-12-30T12:00:00", 130, 100, False),
              smartwatch(6, "2025-01-03T12:00:00", 110, 50, False)]  # awake all day: no average
LATE = smartwatch(7, "2024-12-29T02:00:00", 44, 0, True, processed="2025-01-05T00:00:00")

_enc = msgspec.json.Encoder()


def records() -> list[Record]:
    out: list[Record] = []

    def add(topic: str, value: object, when_ms: int) -> None:
        out.append(Record(topic, 0, len(out), None, _enc.encode(value), when_ms))

    for when, u in USERS:
        add(T.HR_USERS, u, _ms(when))
    for when, a in ACTIVITIES:
        add(T.HR_ACTIVITIES, a, _ms(when))
    for v in HEART_RATES:
        add(T.PROCESSED_HR, v, _ms("2025-01-02T00:00:00"))
    for v in SMARTWATCH:
        add(T.PROCESSED_SMARTWATCH, v, _ms("2025-01-02T00:00:00"))
    return out


def load(warehouse_url: str, recs: list[Record]) -> None:
    sink = WarehouseSink(open_warehouse(warehouse_url))
    try:
        sink.write(recs)
    finally:
        sink.close()


def late_record() -> Record:
    return Record(T.PROCESSED_SMARTWATCH, 0, 1000, None, _enc.encode(LATE), _ms("2025-01-05T00:00:00"))


def snapshot(warehouse_url: str) -> dict[str, list[tuple]]:
    """Every row of every model table, sorted (to compare two runs)."""
    with open_warehouse(warehouse_url, read_only=True) as wh:
        return {name: sorted(wh.query(f"SELECT * FROM {name}")[1], key=repr) for name in MODEL_TABLES}


# -- what the model says about the scenario (observed at one moment, compared by the tests) -------
def rows(warehouse_url: str, sql: str) -> list[dict]:
    with open_warehouse(warehouse_url) as wh:
        return wh.rows(sql)


def observe(url: str) -> dict:
    """The figures the tests check, read now (the module fixture changes the data later)."""
    out: dict = {}
    out["versions"] = {r["event_id"]: (r["country"], r["activity"]) for r in rows(url, """
        SELECT f.event_id, u.address_country_code AS country, a.activity_name AS activity
        FROM fct_heart_rates f LEFT JOIN dim_users u ON u.user_sk = f.user_sk
        LEFT JOIN dim_activities a ON a.activity_sk = f.activity_sk""")}
    out["dim_users"] = [(u["user_id"], u["c"], u["open"], u["is_current"]) for u in rows(
        url, "SELECT user_id, address_country_code AS c, valid_to IS NULL AS open, is_current "
             "FROM dim_users ORDER BY valid_from")]
    out["users_history"] = rows(url, "SELECT count(*) AS n FROM users_history")[0]["n"]
    out["dim_activities"] = [a["activity_name"] for a in rows(
        url, "SELECT activity_name FROM dim_activities ORDER BY valid_from")]
    out["facts"] = {r["event_id"]: (r["previous_heart_rate"], r["day_min_heart_rate"], r["day_max_heart_rate"],
                                    r["day_avg_heart_rate"], r["date_key"], r["time_key"])
                    for r in rows(url, "SELECT * FROM fct_heart_rates")}
    out["daily"] = {str(r["event_date"]): (r["iso_year"], r["iso_week"], r["total_steps"], r["avg_heart_rate"])
                    for r in rows(url, "SELECT * FROM daily_aggregates")}
    out["weekly"] = {(r["iso_year"], r["iso_week"]): (r["total_steps"], r["avg_heart_rate"], str(r["period_start"]))
                     for r in rows(url, "SELECT * FROM weekly_aggregates")}
    out["monthly"] = {(r["year"], r["month"]): (r["total_steps"], r["avg_heart_rate"])
                      for r in rows(url, "SELECT * FROM monthly_aggregates")}
    return out


EXPECTED_DIM_USERS = [(10001, "DE", False, False), (10001, "FR", False, False), (10001, "AU", True, True)]
# event -> (previous heart rate, day min, day max, day avg, date_key, time_key)
EXPECTED_FACTS = {"hr-1": (None, 70, 70, 70.0, 20231201, 480), "hr-2": (70, 80, 100, 90.0, 20240201, 480),
                  "hr-3": (80, 80, 100, 90.0, 20240201, 540), "hr-4": (100, 90, 90, 90.0, 20240401, 480),
                  "hr-5": (90, 60, 60, 60.0, 20240601, 1200), "hr-6": (None, 55, 55, 55.0, 20240601, 180)}
EXPECTED_DAILY = {"2024-12-29": (2024, 52, 500, 50.0),  # sleep only: the 120 awake is not averaged
                  "2024-12-30": (2025, 1, 100, 65.0),
                  "2025-01-03": (2025, 1, 50, None)}  # no sleep that day: no average
EXPECTED_WEEKLY = {(2024, 52): (500, 50.0, "2024-12-23"), (2025, 1): (150, 65.0, "2024-12-30")}
EXPECTED_MONTHLY = {(2024, 12): (600, 60.0), (2025, 1): (50, None)}
# after the late sleep reading (44 at 02:00 on 2024-12-29)
EXPECTED_DAILY_LATE = {**EXPECTED_DAILY, "2024-12-29": (2024, 52, 500, 47.0)}


def changed_tables(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> dict[str, int]:
    """Model table -> how many of its rows are new or different."""
    return {name: len(set(after[name]) - set(before[name])) for name in MODEL_TABLES if before[name] != after[name]}
