"""Reading the lake back: what ``vitalstream replay --from-lake`` publishes again."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ...log.base import Record
from .codecs import file_records
from .fs import LakeLocation, open_lake
from .incarnations import recorded
from .layout import HOUR_MS, parse_final, parse_part, path_hour


@dataclass(frozen=True)
class LakeFile:
    path: str
    topic: str
    partition: int
    start: int
    hour: int | None  # event hour (hours since the epoch); None for staged parts
    staged: bool
    incarnation: str = ""  # the tag of the log's incarnation that wrote it ("": untagged)


def incarnation_order(loc: LakeLocation, topic: str, tags: Iterable[str]) -> list[str]:
    """``tags`` oldest first: untagged files, then recorded incarnations by when they were
    recorded, then any without a marker (copied in by hand) by name."""
    rank = {"": (0, "")} | {i.tag: (1, i.recorded_at) for i in recorded(loc, topic)}
    return sorted(set(tags), key=lambda t: (*rank.get(t, (2, "")), t))


def list_files(loc: LakeLocation, topic: str) -> list[LakeFile]:
    """Final files of ``topic`` plus the staged parts of its open segments: by incarnation
    (oldest first, :func:`incarnation_order`), then partition and offset."""
    fs, root = loc.fs, loc.root
    finals: list[LakeFile] = []
    for path in fs.glob(f"{root}/topics/{topic}/year=*/month=*/day=*/hour=*/{topic}+*"):
        parsed = parse_final(posixpath.basename(path), topic)
        hour = path_hour(path)
        if parsed is None or hour is None:
            continue
        partition, start, tag = parsed
        finals.append(LakeFile(path, topic, partition, start, hour, False, tag))
    closed = {(f.incarnation, f.partition, f.start) for f in finals}
    parts: list[LakeFile] = []
    for path in fs.glob(f"{root}/_staging/{topic}/*/*.parquet"):
        parsed_part = parse_part(posixpath.basename(path))
        if parsed_part is None:
            continue
        segment, start, tag = parsed_part
        partition = int(posixpath.basename(posixpath.dirname(path)))
        if (tag, partition, segment) in closed:
            continue  # leftover part of a segment whose final file exists
        parts.append(LakeFile(path, topic, partition, start, None, True, tag))
    files = finals + parts
    order = {t: i for i, t in enumerate(incarnation_order(loc, topic, (f.incarnation for f in files)))}
    return sorted(files, key=lambda f: (order[f.incarnation], f.partition, f.start))


def read_lake(
    url: str | LakeLocation,
    topic: str,
    since_ms: int | None = None,
    until_ms: int | None = None,
) -> Iterator[Record]:
    """Archived records of ``topic`` with ``since_ms <= timestamp < until_ms``: every
    incarnation, oldest first, and within one in partition and offset order, each record once
    (a record of an open segment is read from its part)."""
    loc = open_lake(url) if isinstance(url, str) else url
    seen: set[tuple[str, int, int]] = set()
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
            ident = (f.incarnation, r.partition, r.offset)  # offsets restart in a new incarnation
            if ident in seen:
                continue
            seen.add(ident)
            yield r
