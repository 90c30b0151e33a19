"""The lake names files by Kafka's topic UUID and refuses a recreated topic (issue 11, item 2).

Kafka prints topic ids in standard base64 ('/' and '+' possible): the lake must turn them into
safe, one-to-one file names, and a topic deleted and created again must never overwrite the
archive of the first one.
"""

from __future__ import annotations

import re
import time

import pytest

from vitalstream.log import open_log
from vitalstream.log.base import Log, Record, TopicSpec
from vitalstream.sinks.lake import (
    LakeSink,
    UnknownIncarnation,
    incarnation_tag,
    list_files,
    log_topic_ids,
    open_lake,
    read_lake,
)

T0 = 1_711_958_400_000


def produce_and_read(log: Log, topic: str, group: str, phase: bytes, n: int) -> list[Record]:
    with log.producer() as p:
        for i in range(n):
            p.send(topic, phase + b"%d" % i, key=b"k", timestamp_ms=T0 + i * 600_000)
        p.flush()
    got: list[Record] = []
    deadline = time.monotonic() + 60
    with log.consumer(group, [topic]) as c:
        while len(got) < n and time.monotonic() < deadline:
            got += c.poll(max_records=n, timeout=1.0)
    assert len(got) == n
    return got


@pytest.fixture
def kafka_log(kafka_bootstrap: str):
    log = open_log(f"kafka://{kafka_bootstrap}")
    yield log
    log.close()


def test_recreated_kafka_topic_cannot_overwrite_the_lake(kafka_log: Log, unique_name: str, tmp_path) -> None:
    topic, url = unique_name, f"file://{tmp_path}/lake"
    kafka_log.create_topic(TopicSpec(topic, 1))
    try:
        first_id = kafka_log.describe_topic(topic).topic_id
        first = produce_and_read(kafka_log, topic, f"{topic}-a", b"first ", 30)
        LakeSink(url, [topic], topic_id=log_topic_ids(kafka_log)).process(first)
        loc = open_lake(url)
        tags = {f.incarnation for f in list_files(loc, topic)}
        assert tags == {incarnation_tag(first_id)} and not {"/", "+", "="} & set(tags.pop())
        before = {f.path: loc.fs.cat_file(f.path) for f in list_files(loc, topic)}

        kafka_log.delete_topic(topic)
        kafka_log.create_topic(TopicSpec(topic, 1))
        second_id = kafka_log.describe_topic(topic).topic_id
        assert second_id != first_id
        second = produce_and_read(kafka_log, topic, f"{topic}-b", b"second ", 20)
        assert second[0].offset == 0  # offsets restarted: the old names would collide
        with pytest.raises(UnknownIncarnation, match=re.escape(first_id)):
            LakeSink(url, [topic], topic_id=log_topic_ids(kafka_log)).process(second)
        LakeSink(url, [topic], topic_id=log_topic_ids(kafka_log), new_incarnation=True).process(second)
        after = {f.path: loc.fs.cat_file(f.path) for f in list_files(loc, topic)}
        assert {p: after[p] for p in before} == before
        assert [r.value for r in read_lake(url, topic)] == [r.value for r in first + second]
    finally:
        kafka_log.delete_topic(topic)
