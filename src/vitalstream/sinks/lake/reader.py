"""Reading the lake back: what ``vitalstream replay --from-lake`` publishes again."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass

from ...log.base import Record, TopicPartition
from .codecs import file_records
from .fs import LakeLocation, open_lake
from .layout import FINAL, HOUR_MS, PART, path_hour


@dataclass(frozen=True)
class LakeFile:
    path: str
    topic: str
    partition: int
    start: int
    hour: int | None  # event hour (hours since the epoch); None for staged parts
    staged: bool


def list_files(loc: LakeLocation, topic: str) -> list[LakeFile]:
    """Final files of ``topic`` plus the staged parts of its open segments, by partition/offset."""
    fs, root = loc.fs, loc.root
    finals: list[LakeFile] = []
    for path in fs.glob(f"{root}/topics/{topic}/year=*/month=*/day=*/hour=*/{topic}+*"):
        m = FINAL.match(posixpath.basename(path))
        hour = path_hour(path)
        if not m or hour is None or m.group("topic") != topic:
            continue
        finals.append(LakeFile(path, topic, int(m.group("partition")), int(m.group("start")), hour, False))
    closed = {(f.partition, f.start) for f in finals}
    parts: list[LakeFile] = []
    for path in fs.glob(f"{root}/_staging/{topic}/*/*.parquet"):
        m = PART.match(posixpath.basename(path))
        if not m:
            continue
        partition = int(posixpath.basename(posixpath.dirname(path)))
        if (partition, int(m.group(1))) in closed:
            continue  # leftover part of a segment whose final file exists
        parts.append(LakeFile(path, topic, partition, int(m.group(2)), None, True))
    return sorted(finals + parts, key=lambda f: (f.partition, f.start))


def read_lake(
    url: str | LakeLocation,
    topic: str,
    since_ms: int | None = None,
    until_ms: int | None = None,
) -> Iterator[Record]:
    """Archived records of ``topic`` with ``since_ms <= timestamp < until_ms``, in partition
    and offset order, each once (a record of an open segment is read from its part)."""
    loc = open_lake(url) if isinstance(url, str) else url
    seen: set[TopicPartition | tuple[str, int, int]] = set()
    for f in list_files(loc, topic):
        if f.hour is not None:
            if since_ms is not None and (f.hour + 1) * HOUR_MS <= since_ms:
                continue
            if until_ms is not None and f.hour * HOUR_MS >= until_ms:
                continue
        for r in file_records(loc.fs, f.path):
            if since_ms is not None and r.timestamp_ms < since_ms:
                continue
            if until_ms is not None and r.timestamp_ms >= until_ms:
                continue
            ident = (r.topic, r.partition, r.offset)
            if ident in seen:
                continue
            seen.add(ident)
            yield r
