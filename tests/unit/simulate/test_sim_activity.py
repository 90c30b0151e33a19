"""Heart rate follows activity (seed 3) and sleep (seed 4); notes vary their wording (seed 2)."""

from __future__ import annotations

from collections import Counter
from itertools import islice
from statistics import mean

import msgspec

from vitalstream import topics
from vitalstream.events import decode, normalise
from vitalstream.simulate import make
from vitalstream.simulate.heartrate import HR_RANGES, activity_category

_any = msgspec.json.Decoder()


def test_heart_rate_stays_in_the_activity_band() -> None:
    sim = make("heart-rate", patients=30, seed=4, interval_s=20.0)
    ref = sim.reference()
    activities = {_any.decode(m.value)["activity_id"]: _any.decode(m.value)["activity_name"]
                  for m in ref if m.topic == topics.HR_ACTIVITIES}
    assert len(activities) == 23
    assert all(20001 <= a <= 20999 for a in activities)
    users = [m for m in ref if m.topic == topics.HR_USERS]
    assert [int(m.key) for m in users] == list(range(10001, 10031))
    seen: Counter[str] = Counter()
    strings = 0
    changes: Counter[str] = Counter()
    for msg in islice(sim.events(), 30 * 4320):  # one day at 20 s
        if msg.topic != topics.HR_DATA:  # a user moved or an activity was renamed: a new version
            changes[msg.topic] += 1
            decode(msg.topic, msg.value)
            continue
        strings += b'"heart_rate":"' in msg.value
        event = decode(msg.topic, msg.value)
        name = activities[event.meta.activity_id]  # type: ignore[attr-defined]
        category = activity_category(name)
        lo, hi = HR_RANGES[category]
        assert lo <= event.heart_rate <= hi, (name, event.heart_rate)  # type: ignore[attr-defined]
        seen[category] += 1
    assert seen["rest"] and seen["intense"] and seen["other"]
    assert 0 < strings < 30 * 4320  # some users send numbers as strings, like the seed
    assert changes[topics.HR_USERS] > 10 and changes[topics.HR_ACTIVITIES] > 3


def test_heart_rate_users_sleep_at_local_night() -> None:
    sim = make("heart-rate", patients=10, seed=2, interval_s=300.0)
    names = {_any.decode(m.value)["activity_id"]: _any.decode(m.value)["activity_name"]
             for m in sim.reference() if m.topic == topics.HR_ACTIVITIES}
    asleep = Counter(
        names[decode(m.topic, m.value).meta.activity_id] == "Sleep"  # type: ignore[attr-defined]
        for m in islice(sim.events(), 10 * 288 * 2) if m.topic == topics.HR_DATA)
    # 8 of 24 local hours are night
    assert 0.2 < asleep[True] / (asleep[True] + asleep[False]) < 0.45


def test_smartwatch_sleep_lowers_heart_rate_and_stops_steps() -> None:
    sim = make("smartwatch", patients=20, seed=3, interval_s=60.0)
    asleep_hr: list[int] = []
    awake_hr: list[int] = []
    variants: Counter[str] = Counter()
    asleep_hours: Counter[int] = Counter()
    for msg in islice(sim.events(), 20 * 1440):  # one day per device
        event = decode(msg.topic, msg.value)
        variants[type(event).__name__] += 1
        [vital] = normalise(msg.topic, event)
        assert vital.heart_rate is not None and vital.steps is not None
        if vital.sleeping:
            assert vital.steps == 0
            asleep_hr.append(vital.heart_rate)
            asleep_hours[vital.event_time.hour] += 1
        else:
            awake_hr.append(vital.heart_rate)
    assert set(variants) == {"SmartwatchEvent", "SmartwatchEventLabelled"}
    assert asleep_hr and awake_hr
    assert mean(asleep_hr) < mean(awake_hr) - 10
    assert sum(asleep_hours[h] for h in (1, 2, 3, 4, 5)) > 0.6 * sum(asleep_hours.values())
    assert asleep_hours[14] == 0


def test_smartwatch_steps_accumulate_while_awake() -> None:
    sim = make("smartwatch", patients=5, seed=8, start=None, interval_s=10.0)
    steps = [normalise(m.topic, decode(m.topic, m.value))[0].steps or 0
             for m in islice(sim.events(), 5 * 8640)]
    assert sum(steps) > 1000
    assert min(steps) == 0


def test_notes_vary_wording_and_include_negation_family_and_uncertainty() -> None:
    sim = make("notes", patients=10, seed=1)
    texts = [decode(m.topic, m.value).medical_entry  # type: ignore[attr-defined]
             for m in islice(sim.events(), 2000)]
    joined = "\n".join(texts)
    for phrase in ("No signs of", "denies", "Family history", "Possible", "Suspected",
                   "Prescribed", "another", "ruled out", "twice daily"):
        assert phrase in joined, phrase
    assert len(set(texts)) > 300
    assert not all("signs of" in t for t in texts)
