"""Where the lake puts things: directories by event hour, file names by partition and offset.

    <root>/topics/<topic>/year=YYYY/month=MM/day=DD/hour=HH/<topic>+<partition>+<start>.<ext>
    <root>/_staging/<topic>/<partition>/<segment start>+<part start>.parquet

Offsets are zero-padded to 19 digits (int64), so names sort by offset.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

HOUR_MS = 3_600_000
OFFSET_DIGITS = 19  # int64 offsets; zero-padded so names sort by offset


def hour_dir(root: str, topic: str, hour: int) -> str:
    t = datetime.fromtimestamp(hour * 3600, UTC)
    return (f"{root}/topics/{topic}/year={t.year:04d}/month={t.month:02d}/day={t.day:02d}"
            f"/hour={t.hour:02d}")


def file_name(topic: str, partition: int, start: int, ext: str) -> str:
    return f"{topic}+{partition}+{start:0{OFFSET_DIGITS}d}.{ext}"


def final_path(root: str, topic: str, partition: int, start: int, hour: int, ext: str) -> str:
    return f"{hour_dir(root, topic, hour)}/{file_name(topic, partition, start, ext)}"


def staging_dir(root: str, topic: str, partition: int) -> str:
    return f"{root}/_staging/{topic}/{partition}"


def part_name(segment_start: int, part_start: int) -> str:
    return f"{segment_start:0{OFFSET_DIGITS}d}+{part_start:0{OFFSET_DIGITS}d}.parquet"


PART = re.compile(r"^(\d+)\+(\d+)\.parquet$")
FINAL = re.compile(r"^(?P<topic>.+)\+(?P<partition>\d+)\+(?P<start>\d+)\.(?P<ext>parquet|jsonl)$")
HOUR = re.compile(r"year=(\d{4})/month=(\d{2})/day=(\d{2})/hour=(\d{2})")


def path_hour(path: str) -> int | None:
    """The event hour (hours since the epoch) of a final file's directory, if it has one."""
    h = HOUR.search(path)
    if not h:
        return None
    y, mo, d, hh = (int(x) for x in h.groups())
    return int(datetime(y, mo, d, hh, tzinfo=UTC).timestamp()) // 3600
