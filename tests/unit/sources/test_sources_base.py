"""Every edge is a Source; sources stop between acknowledged batches; components and sinks are
chosen by name from registries."""

from __future__ import annotations

import itertools
import threading

import pytest

from vitalstream import topics as T
from vitalstream.config import load
from vitalstream.errors import ConfigError
from vitalstream.log import open_log
from vitalstream.simulate import make
from vitalstream.simulate.run import SimulatorSource
from vitalstream.sinks import build_sinks
from vitalstream.sources.base import Source
from vitalstream.sources.files import FileSource
from vitalstream.sources.http import HttpSource
from vitalstream.sources.mqtt import MqttBridge
from vitalstream.sources.testing import read_topic
from vitalstream.supervise import RUNNERS, Component


@pytest.fixture
def settings(tmp_path):
    return load(environ={}, overrides={"home": str(tmp_path / "home"), "partitions": 2})


def test_every_edge_is_a_source_with_its_own_name() -> None:
    edges = (HttpSource, MqttBridge, FileSource, SimulatorSource)
    assert all(issubclass(e, Source) for e in edges)
    assert len({e.name for e in edges}) == len(edges)


def test_a_stopped_file_source_resumes_after_its_last_flushed_batch(tmp_path, settings) -> None:
    lines = [m.value for m in itertools.islice(make("device", patients=3).events(), 25)]
    f = tmp_path / "device.jsonl"
    f.write_bytes(b"\n".join(lines) + b"\n")
    stop = threading.Event()
    stop.set()  # already asked to stop: one batch is flushed and checkpointed, then it returns
    with open_log(settings.log_url) as log:
        first = FileSource(log, f, "jsonl", T.DEVICE_DATA, settings, batch_size=10)
        first.run(stop)
        assert first.result is None and len(read_topic(log, T.DEVICE_DATA)) == 10
        rest = FileSource(log, f, "jsonl", T.DEVICE_DATA, settings, batch_size=10)
        rest.run(threading.Event())
        assert rest.result is not None and rest.result.skipped == 10 and rest.result.accepted == 15
        assert len(read_topic(log, T.DEVICE_DATA)) == 25  # nothing sent twice


def test_simulator_source_counts_what_the_log_holds(settings) -> None:
    sent = SimulatorSource(settings, "device", patients=4, rate=0, count=30).send(threading.Event())
    with open_log(settings.log_url) as log:
        held = sum(log.describe_topic(t).records for t in log.list_topics())
    assert sent == held and sent >= 30


def test_component_kinds_come_from_the_runner_registry() -> None:
    assert set(RUNNERS) == {"simulate", "processor", "prepare", "score", "sinks", "mqtt", "serve", "model",
                            "dashboard", "notes"}
    with pytest.raises(ConfigError, match=r"unknown kind 'kafka-connect'.*simulate"):
        Component("x", "kafka-connect")


def test_sinks_are_chosen_by_name(settings) -> None:
    with open_log(settings.log_url) as log:
        [landing] = build_sinks(log, settings, ["landing"])
        assert list(landing.topics) == [T.PROCESSED_SMARTWATCH] and landing.group.endswith("landing")
        every = build_sinks(log, settings)
        assert [type(w).__name__ for w in every] == ["LakeSink", "LakeSink", "WarehouseSink"]
        with pytest.raises(ConfigError, match="unknown sink 'archive'; choose from lake, landing"):
            build_sinks(log, settings, ["archive"])
        for w in (landing, *every):
            w.close()
