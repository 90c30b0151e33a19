"""The replay client and the simulate HTTP target against a real server."""

from __future__ import annotations

import itertools
import json
import time

import pytest
from http_helpers import ADMIN_KEY, GATEWAY_KEY

from vitalstream import topics as T
from vitalstream.errors import ConfigError
from vitalstream.simulate import make
from vitalstream.sources.replay_client import event_time, load_events, replay
from vitalstream.sources.targets import HttpTarget, open_target
from vitalstream.testing import read_topic


def recording(tmp_path, n=120):
    path = tmp_path / "watch.jsonl"
    msgs = list(itertools.islice(make("smartwatch", patients=4).events(), n))
    lines = [m.value for m in reversed(msgs)] + [b"not json"]  # out of order on purpose
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, msgs


def test_replay_fast_stores_every_event_in_per_device_order(start, log, tmp_path) -> None:
    client = start()
    path, _ = recording(tmp_path)
    stats = replay(path, f"{str(client.base_url).rstrip('/')}/stream", api_key=GATEWAY_KEY, fast=True, batch_size=50)
    assert (stats.sent, stats.accepted, stats.rejected) == (121, 120, 1)
    recs = read_topic(log, T.SMARTWATCH)
    assert len(recs) == 120
    by_device: dict[bytes, list[float]] = {}
    for r in sorted(recs, key=lambda r: (r.partition, r.offset)):
        by_device.setdefault(r.key, []).append(event_time(r.value))
    assert all(ts == sorted(ts) for ts in by_device.values())
    assert len(read_topic(log, T.DEAD_LETTERS)) == 1


def test_replay_paces_by_speed(start, log, tmp_path) -> None:
    client = start()
    path = tmp_path / "w.jsonl"
    events = [{"device_id": "sw-1", "hr": 70, "steps": 0, "state": "awake", "timestamp": 1711958400 + i * 10}
              for i in range(3)]
    path.write_text("\n".join(json.dumps(e) for e in events))
    assert [t for t, _ in load_events(path)] == [1711958400, 1711958410, 1711958420]
    slept: list[float] = []
    now = [0.0]

    def sleep(s: float) -> None:  # the replay's clock is injected: no real waiting
        slept.append(round(s, 3))
        now[0] += s

    stats = replay(path, f"{str(client.base_url).rstrip('/')}/stream", api_key=GATEWAY_KEY, speed=10,
                   sleep=sleep, clock=lambda: now[0])
    assert slept == [1.0, 1.0] and (stats.sent, stats.accepted) == (3, 3)
    stored = sorted(r.offset for r in read_topic(log, T.SMARTWATCH))
    assert stored == [0, 1, 2]  # one device: one partition, in order


def test_target_retries_429_honouring_retry_after(start, log) -> None:
    client = start(rate_per_gateway=5.0)
    target = open_target(str(client.base_url), _settings(client))
    msgs = list(itertools.islice(make("smartwatch", patients=1).events(), 5))
    target.send(msgs)
    t0 = time.monotonic()
    target.send(msgs[:1])  # over the limit: 429, waits Retry-After (whole seconds), then succeeds
    waited = time.monotonic() - t0
    target.close()
    assert target.stats.retries >= 1 and waited >= 1.0  # type: ignore[attr-defined]
    assert len(read_topic(log, T.SMARTWATCH)) == 6


def _settings(client):  # type: ignore[no-untyped-def]
    from vitalstream.config import load

    return load(environ={}, overrides={"http": {"gateway_keys": [f"gw={GATEWAY_KEY}"],
                                                "admin_keys": [f"ops={ADMIN_KEY}"]}})


def test_target_sends_reference_records_to_their_topics(start, log) -> None:
    client = start()
    sim = make("vitals", patients=3)
    target = open_target(str(client.base_url), _settings(client))
    target.send(sim.reference() + list(itertools.islice(sim.events(), 20)))
    target.close()
    assert len(read_topic(log, T.PATIENT_METADATA)) == 3


def test_target_terminal_answers_raise(start) -> None:
    client = start()
    target = HttpTarget(str(client.base_url), api_key="wrong")
    with pytest.raises(ConfigError, match="403"):
        target.send(list(itertools.islice(make("smartwatch").events(), 1)))
    target.close()
    with pytest.raises(ConfigError):
        open_target("ftp://x", _settings(client))
