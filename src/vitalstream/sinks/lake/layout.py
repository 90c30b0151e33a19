"""Where the lake puts things: directories by event hour, names by partition, offset, incarnation.

    <root>/topics/<topic>/year=YYYY/month=MM/day=DD/hour=HH/<topic>+<partition>+<start>+<tag>.<ext>
    <root>/_staging/<topic>/<partition>/<segment start>+<part start>+<tag>.parquet
    <root>/_incarnations/<topic>/<tag>.json

Offsets are zero-padded to 19 digits (int64), so names sort by offset. ``<tag>`` names the
log's incarnation of the topic (:func:`incarnation_tag` of its ``topic_id``): offsets restart
at 0 after a topic is deleted and created again or the log is rebuilt, and the tag keeps the
new incarnation's files from ever taking an archived file's name. Files written before
incarnations existed have no tag (read as the incarnation ``""``).
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


_TAG = r"[A-Za-z0-9_-]{1,64}"
_TAG_RE = re.compile(f"^{_TAG}$")


def incarnation_tag(topic_id: str) -> str:
    """The file-name form of a log's ``topic_id``: a UUID as is; Kafka's base64 topic id in
    its URL-safe spelling (``+/`` → ``-_``, no padding), which is one-to-one."""
    tag = topic_id.strip().replace("+", "-").replace("/", "_").rstrip("=")
    if not _TAG_RE.match(tag):
        raise ValueError(f"topic id {topic_id!r} cannot name lake files")
    return tag


def file_name(topic: str, partition: int, start: int, ext: str, tag: str) -> str:
    return f"{topic}+{partition}+{start:0{OFFSET_DIGITS}d}+{tag}.{ext}"


def final_path(root: str, topic: str, partition: int, start: int, hour: int, ext: str, tag: str) -> str:
    return f"{hour_dir(root, topic, hour)}/{file_name(topic, partition, start, ext, tag)}"


def staging_dir(root: str, topic: str, partition: int) -> str:
    return f"{root}/_staging/{topic}/{partition}"


def part_name(segment_start: int, part_start: int, tag: str) -> str:
    return f"{segment_start:0{OFFSET_DIGITS}d}+{part_start:0{OFFSET_DIGITS}d}+{tag}.parquet"


def incarnations_dir(root: str, topic: str) -> str:
    return f"{root}/_incarnations/{topic}"


_PART = re.compile(rf"^(\d+)\+(\d+)(?:\+({_TAG}))?\.parquet$")
_HOUR = re.compile(r"year=(\d{4})/month=(\d{2})/day=(\d{2})/hour=(\d{2})")


def parse_final(name: str, topic: str) -> tuple[int, int, str] | None:
    """``(partition, start, tag)`` of a final file's base name (tag ``""``: untagged)."""
    m = re.match(rf"^{re.escape(topic)}\+(\d+)\+(\d+)(?:\+({_TAG}))?\.(?:parquet|jsonl)$", name)
    return (int(m.group(1)), int(m.group(2)), m.group(3) or "") if m else None


def parse_part(name: str) -> tuple[int, int, str] | None:
    """``(segment start, part start, tag)`` of a staged part's base name."""
    m = _PART.match(name)
    return (int(m.group(1)), int(m.group(2)), m.group(3) or "") if m else None


def path_hour(path: str) -> int | None:
    """The event hour (hours since the epoch) of a final file's directory, if it has one."""
    h = _HOUR.search(path)
    if not h:
        return None
    y, mo, d, hh = (int(x) for x in h.groups())
    return int(datetime(y, mo, d, hh, tzinfo=UTC).timestamp()) // 3600
