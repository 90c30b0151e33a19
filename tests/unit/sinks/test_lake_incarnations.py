"""The lake sink's incarnation guard, without a log: ``topic_id`` is what the log would say."""

from __future__ import annotations

import os
import stat
from typing import Any

import pytest

from contract.sink_contract import T, raw_records
from vitalstream.log.base import Record
from vitalstream.sinks.lake import LakeSink, UnknownIncarnation, list_files, open_lake, read_lake, recorded

A = "0d5a9c8e-1111-4aaa-8bbb-000000000001"
B = "0d5a9c8e-2222-4aaa-8bbb-000000000002"


def files(url: str) -> dict[str, bytes]:
    loc = open_lake(url)
    return {f.path: loc.fs.cat_file(f.path) for f in list_files(loc, T.HEART_RATE)}


def archive(url: str, topic_id: str, records: list[Record], **options: Any) -> LakeSink:
    sink = LakeSink(url, [T.HEART_RATE], topic_id=lambda _: topic_id, rotate_records=40, **options)
    sink.assigned({(T.HEART_RATE, 0), (T.HEART_RATE, 1)})
    for i in range(0, len(records), 33):
        sink.process(records[i:i + 33])
    return sink


def again(records: list[Record]) -> list[Record]:
    """The same offsets with other values: what a reset log hands out next."""
    return [Record(r.topic, r.partition, r.offset, r.key, b"second " + r.value, r.timestamp_ms, r.headers)
            for r in records]


def test_a_new_incarnation_is_refused_then_archived_beside_the_old(tmp_path) -> None:
    url = f"file://{tmp_path}/lake"
    first = raw_records(150, partitions=2, per_hour=30)
    archive(url, A, first)
    before = files(url)
    assert [i.topic_id for i in recorded(open_lake(url), T.HEART_RATE)] == [A]

    with pytest.raises(UnknownIncarnation) as refused:
        archive(url, B, again(first))
    message = str(refused.value)
    assert "\n" not in message and T.HEART_RATE in message and A in message and B in message
    assert "--new-incarnation" in message
    assert files(url) == before  # nothing written, nothing removed

    second = again(first)[:100]
    archive(url, B, second, new_incarnation=True)
    after = files(url)
    assert {p: after[p] for p in before} == before  # every archived file untouched
    assert len(after) > len(before)
    got = list(read_lake(url, T.HEART_RATE))
    assert len(got) == 250
    ordered = sorted(first, key=lambda r: (r.partition, r.offset)) + sorted(second, key=lambda r: (r.partition, r.offset))
    assert got == ordered  # every incarnation, oldest first
    assert [i.topic_id for i in recorded(open_lake(url), T.HEART_RATE)] == [A, B]
    # both incarnations known now: either may go on without the option
    archive(url, A, first)
    archive(url, B, second)
    assert files(url) == after  # replaying an incarnation rewrites identical files


def test_new_incarnation_acknowledges_the_incarnation_at_start_only(tmp_path) -> None:
    url = f"file://{tmp_path}/lake"
    records = raw_records(60, partitions=2)
    archive(url, A, records)
    current = {"id": B}
    sink = LakeSink(url, [T.HEART_RATE], topic_id=lambda _: current["id"], new_incarnation=True)
    sink.assigned({(T.HEART_RATE, 0)})
    sink.process(again(records)[:10])
    current["id"] = "0d5a9c8e-3333-4aaa-8bbb-000000000003"  # reset again while running
    with pytest.raises(UnknownIncarnation):
        sink.assigned({(T.HEART_RATE, 0)})


def test_untagged_archive_from_before_incarnations_is_kept_and_read_first(tmp_path) -> None:
    url = f"file://{tmp_path}/lake"
    records = raw_records(80, partitions=1, per_hour=20)
    archive(url, A, records)
    loc = open_lake(url)
    for path in list(files(url)):  # as an older version named them
        loc.fs.mv(path, path.replace(f"+{A}.", "."))
    loc.fs.rm(f"{loc.root}/_incarnations", recursive=True)
    with pytest.raises(UnknownIncarnation, match="untagged"):
        archive(url, B, again(records))
    archive(url, B, again(records), new_incarnation=True)
    got = list(read_lake(url, T.HEART_RATE))
    assert got == records + again(records)


def test_an_empty_lake_records_an_incarnation_with_its_first_file_only(tmp_path) -> None:
    url = f"file://{tmp_path}/lake"
    sink = LakeSink(url, [T.HEART_RATE, T.BLOOD_OXYGEN], topic_id=lambda t: A)
    sink.assigned(set())
    assert not os.path.exists(tmp_path / "lake")  # started, wrote nothing
    # a reset before anything was archived is not refused
    archive(url, B, raw_records(10, partitions=1))
    assert [i.topic_id for i in recorded(open_lake(url), T.HEART_RATE)] == [B]
    assert recorded(open_lake(url), T.BLOOD_OXYGEN) == []


def test_a_log_without_topic_ids_is_refused(tmp_path) -> None:
    with pytest.raises(UnknownIncarnation, match="no topic id"):
        archive(f"file://{tmp_path}/lake", "", raw_records(5, partitions=1))


def test_local_files_are_owner_only(tmp_path) -> None:
    root = tmp_path / "lake"
    archive(f"file://{root}", A, raw_records(150, partitions=2, per_hour=30))
    seen = 0
    for d, _dirs, names in os.walk(root):
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700, d
        for n in names:
            assert stat.S_IMODE(os.stat(os.path.join(d, n)).st_mode) == 0o600, n
            seen += 1
    assert seen > 5
