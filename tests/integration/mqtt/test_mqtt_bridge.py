"""The MQTT bridge against a real Mosquitto broker (``mqtt_url`` fixture)."""

from __future__ import annotations

import itertools
import json
import time

import msgspec
import pytest

from vitalstream import topics as T
from vitalstream.config import load
from vitalstream.deadletter import DeadLetter
from vitalstream.log import open_log
from vitalstream.simulate import make
from vitalstream.sources.mqtt import BridgeError, MqttBridge, publish_all
from vitalstream.testing import Faults, FaultyLog, read_topic


@pytest.fixture
def settings(tmp_path, mqtt_url, unique_name):
    return load(environ={}, overrides={
        "home": str(tmp_path), "partitions": 2,
        "mqtt": {"url": mqtt_url, "topics": [f"{unique_name}/health/device_data"],
                 "client_id": f"bridge-{unique_name}"}})


@pytest.fixture
def log(settings):
    with open_log(settings.log_url) as lg:
        yield lg


def device_messages(n: int) -> list[bytes]:
    return [o.value for o in itertools.islice(make("device", patients=7).events(), n)]


def wait_for(pred, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def test_messages_land_in_the_log_keyed_by_device_and_rejects_dead_lettered(settings, log) -> None:
    topic = settings.mqtt.topics[0]
    bridge = MqttBridge(log, settings).start()
    try:
        good = device_messages(50)
        bad = [b"not json", b'{"deviceId": "d-1"}', json.dumps({**json.loads(good[0]),
                                                                 "heartRate": -3}).encode()]
        publish_all(settings.mqtt, good + bad, topic)
        wait_for(lambda: bridge.received == 53)
    finally:
        bridge.stop()
    recs = read_topic(log, T.DEVICE_DATA)
    assert len(recs) == 50
    assert all(r.key == json.loads(r.value)["deviceId"].encode() for r in recs)
    dls = [DeadLetter.from_record(r) for r in read_topic(log, T.DEAD_LETTERS)]
    assert len(dls) == 3 and {d.stage for d in dls} == {"ingest.mqtt"}
    assert {dict(d.original_headers)["mqtt.topic"] for d in dls} == {topic.encode()}
    assert {d.source_topic for d in dls} == {T.DEVICE_DATA}


def test_restart_delivers_messages_published_while_down(settings, log) -> None:
    topic = settings.mqtt.topics[0]
    MqttBridge(log, settings).start().stop()  # the persistent session now exists
    msgs = device_messages(300)
    publish_all(settings.mqtt, msgs, topic)  # bridge is down
    bridge = MqttBridge(log, settings).start()
    try:
        wait_for(lambda: bridge.received >= 300)
    finally:
        bridge.stop()
    values = sorted(r.value for r in read_topic(log, T.DEVICE_DATA))
    assert values == sorted(msgs)  # none lost, none doubled


def test_no_puback_before_the_log_has_it(settings, log) -> None:
    topic = settings.mqtt.topics[0]
    faults = Faults(at=1, times=None)  # the log refuses every flush: nothing can become durable
    down = FaultyLog(open_log(settings.log_url), faults)
    bridge = MqttBridge(down, settings).start()
    msgs = device_messages(20)
    try:
        publish_all(settings.mqtt, msgs, topic)
        # delivered to the bridge, which tried to store them and retried: they are held un-acked
        wait_for(lambda: faults.failed >= 2 and faults.refused > 0)
    finally:
        bridge.stop()  # dies with the messages un-acked
        down.close()
    assert bridge.received == 0
    assert read_topic(log, T.DEVICE_DATA) == []
    bridge = MqttBridge(log, settings).start()  # same session: the broker redelivers
    try:
        wait_for(lambda: len(read_topic(log, T.DEVICE_DATA)) >= 20)
    finally:
        bridge.stop()
    assert sorted(r.value for r in read_topic(log, T.DEVICE_DATA)) == sorted(msgs)


def test_wrong_credentials_clear_error(settings, log) -> None:
    url = settings.mqtt.url
    scheme, rest = url.split("://", 1)
    host = rest.split("@", 1)[-1]
    bad = msgspec.structs.replace(settings, mqtt=msgspec.structs.replace(
        settings.mqtt, url=f"{scheme}://vitalstream:wrong-password@{host}"))
    with pytest.raises(BridgeError) as exc:
        MqttBridge(log, bad).start(timeout=10)
    text = str(exc.value)
    assert "refused" in text and "password" in text
    assert "wrong-password" not in text


def test_unreachable_broker_clear_error(settings, log) -> None:
    bad = msgspec.structs.replace(settings, mqtt=msgspec.structs.replace(
        settings.mqtt, url="mqtt://u:p@127.0.0.1:1"))
    with pytest.raises(BridgeError, match="cannot reach"):
        MqttBridge(log, bad).start()


def test_simulate_target_publishes_device_messages_through_the_bridge(settings, log) -> None:
    from vitalstream.sources.targets import open_target

    bridge = MqttBridge(log, settings).start()
    try:
        url = settings.mqtt.url.rstrip("/") + "/" + settings.mqtt.topics[0]
        target = open_target(url, settings)
        sim = make("device", patients=3)
        batch = list(itertools.islice(sim.events(), 30))
        target.send(batch)
        target.close()
        wait_for(lambda: bridge.received >= 30)
    finally:
        bridge.stop()
    assert sorted(r.value for r in read_topic(log, T.DEVICE_DATA)) == sorted(m.value for m in batch)
