"""Cheap at a ward's rate: how long the sinks' batches gather, and how often a lingering batch
looks for more (issue 17, item 4)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from vitalstream import topics as T
from vitalstream.config import load
from vitalstream.errors import ConfigError
from vitalstream.log import TopicSpec, open_log
from vitalstream.runtime import LINGER_LOOKS, SINK_LINGER_S, gather
from vitalstream.sinks import LAKE_LINGER_S, build_sinks, linger_s
from vitalstream.testing import memory_log


def test_warehouse_linger_is_a_setting_in_milliseconds() -> None:
    assert load(environ={}).warehouse_linger_ms == 2000
    assert load(environ={"VITALSTREAM_WAREHOUSE_LINGER_MS": "0"}).warehouse_linger_ms == 0
    with pytest.raises(ConfigError, match="WAREHOUSE_LINGER_MS"):
        load(environ={"VITALSTREAM_WAREHOUSE_LINGER_MS": "-1"})


@pytest.mark.parametrize(
    ("lake_query", "names", "expected"),
    [
        ("", ["lake", "landing"], LAKE_LINGER_S),  # the lake holds records 10 s anyway
        ("?flush_s=1", ["lake", "landing"], 1.0),  # never longer than the lake's own flush
        ("?flush_s=0", ["lake"], SINK_LINGER_S),  # and never shorter than any sink's
        ("", None, 0.75),  # with the warehouse sink: its setting rules
    ],
)
def test_the_sinks_process_gathers_as_its_sinks_allow(tmp_path: Path, lake_query: str, names: list[str] | None,
                                                      expected: float) -> None:
    settings = load(environ={}, overrides={"home": str(tmp_path), "lake_url": f"file://{tmp_path}/lake{lake_query}",
                                           "warehouse_linger_ms": 750})
    with open_log(settings.log_url) as log:
        T.ensure_all(log)
        sinks = build_sinks(log, settings, names)
        try:
            assert linger_s(settings, sinks) == expected
        finally:
            for s in sinks:
                s.close()


class _CountingConsumer:
    """A real consumer that counts its polls."""

    def __init__(self, consumer: Any) -> None:
        self.consumer = consumer
        self.polls = 0

    def poll(self, max_records: int = 5000, timeout: float = 1.0) -> Any:
        self.polls += 1
        return self.consumer.poll(max_records=max_records, timeout=timeout)

    def assignment(self) -> Any:
        return self.consumer.assignment()


def test_a_lingering_batch_looks_a_few_times_and_gets_the_whole_trickle() -> None:
    with memory_log() as log, log.producer() as producer:
        log.create_topic(TopicSpec("trickle", partitions=1))
        counting = _CountingConsumer(log.consumer("g", ["trickle"]))
        # 20 writes 20 ms apart while the batch lingers: before, one look per write
        writes = [threading.Timer(0.02 * i, _write, (producer, i)) for i in range(20)]
        for w in writes:
            w.start()
        try:
            got = gather(counting, max_records=100, max_wait_s=2.0, linger_s=1.6)
        finally:
            for w in writes:
                w.cancel()
                w.join(5)
            counting.consumer.close()
    assert sorted(int(r.value) for r in got) == list(range(20))
    assert counting.polls <= 1 + LINGER_LOOKS


_WRITING = threading.Lock()  # timers may overlap on a busy machine


def _write(producer: Any, i: int) -> None:
    with _WRITING:
        producer.send("trickle", str(i).encode())
        producer.flush()
