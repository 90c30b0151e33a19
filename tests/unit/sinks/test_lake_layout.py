"""Lake paths and names: every name carries the log's incarnation of its topic."""

from __future__ import annotations

import pytest

from vitalstream.sinks.lake.layout import (
    file_name,
    final_path,
    incarnation_tag,
    parse_final,
    parse_part,
    part_name,
    path_hour,
)

UUID = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"


def test_incarnation_tag_keeps_uuids_and_makes_kafka_ids_url_safe() -> None:
    assert incarnation_tag(UUID) == UUID
    # Kafka prints its topic UUID in standard base64: '/' would be a directory, '+' our separator
    assert incarnation_tag("f05F6gOcQVsTY8/OGSE4bw") == "f05F6gOcQVsTY8_OGSE4bw"
    assert incarnation_tag("a+b/c==") == "a-b_c"
    assert incarnation_tag("a+b/c") != incarnation_tag("a/b+c")  # one-to-one on base64
    for bad in ("", "   ", "a b", "x" * 65, "../etc"):
        with pytest.raises(ValueError):
            incarnation_tag(bad)


def test_final_names_round_trip_and_sort_by_offset() -> None:
    name = file_name("heart-rate-data", 3, 42, "parquet", UUID)
    assert name == f"heart-rate-data+3+0000000000000000042+{UUID}.parquet"
    assert parse_final(name, "heart-rate-data") == (3, 42, UUID)
    assert parse_final(file_name("t", 0, 7, "jsonl", "abc_-9"), "t") == (0, 7, "abc_-9")
    names = [file_name("t", 0, o, "parquet", UUID) for o in (9, 10, 100, 2)]
    assert sorted(names) == [file_name("t", 0, o, "parquet", UUID) for o in (2, 9, 10, 100)]
    # another incarnation of the same offsets has another name
    assert file_name("t", 0, 0, "parquet", "other") != file_name("t", 0, 0, "parquet", UUID)


def test_untagged_names_from_before_incarnations_still_parse() -> None:
    assert parse_final("heart-rate-data+0+0000000000000000013.parquet", "heart-rate-data") == (0, 13, "")
    assert parse_part("0000000000000000010+0000000000000000012.parquet") == (10, 12, "")


def test_names_of_other_topics_and_stray_files_are_not_ours() -> None:
    name = file_name("heart-rate-data", 0, 1, "parquet", UUID)
    assert parse_final(name, "heart-rate") is None
    assert parse_final(f".{name}.tmp-1234abcd", "heart-rate-data") is None
    assert parse_final("heart-rate-data+0+1+bad tag.parquet", "heart-rate-data") is None
    assert parse_part("notes.txt") is None


def test_parts_and_paths() -> None:
    assert parse_part(part_name(10, 12, UUID)) == (10, 12, UUID)
    hour = 1_711_958_400 // 3600  # 2024-04-01T08:00Z
    path = final_path("/lake", "t", 1, 5, hour, "parquet", UUID)
    assert path == f"/lake/topics/t/year=2024/month=04/day=01/hour=08/t+1+0000000000000000005+{UUID}.parquet"
    assert path_hour(path) == hour
