"""Which incarnations of a topic the lake holds, and the guard that keeps the archive append-only.

A log's offsets restart at 0 when a topic is deleted and created again (``vitalstream topics
reset``) or the log is lost and rebuilt. Every such *incarnation* has its own ``topic_id``
(:class:`~vitalstream.log.base.TopicInfo`), and the lake names its files by it, so a new
incarnation can never overwrite an archived file. The lake also records each incarnation it
has archived, one marker per incarnation::

    <root>/_incarnations/<topic>/<tag>.json   {"topic", "topic_id", "recorded_at"}

A sink refuses to start (:class:`UnknownIncarnation`) when the lake holds data of a topic but
not of the log's current incarnation: the log was reset or replaced, and an operator should
know before a new archive starts beside the old one. With ``new_incarnation`` it records the
new incarnation and goes on; old files stay untouched. Readers order incarnations by when
they were recorded (untagged files from before incarnations existed come first).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ...errors import TerminalError
from .fs import LakeLocation, put_file
from .layout import incarnation_tag, incarnations_dir

if TYPE_CHECKING:
    from ...log.base import Log

TopicIds = Callable[[str], str]  # topic name → the log's current topic_id


class UnknownIncarnation(TerminalError):
    """The lake holds another incarnation of a topic than the log has (reset or new log)."""


@dataclass(frozen=True, order=True)
class Incarnation:
    recorded_at: str  # ISO-8601 UTC; first, so incarnations sort by when they were recorded
    tag: str
    topic_id: str


def log_topic_ids(log: Log) -> TopicIds:
    """The ``topic_id`` of a topic as ``log`` has it now."""
    return lambda topic: log.describe_topic(topic).topic_id


def recorded(loc: LakeLocation, topic: str) -> list[Incarnation]:
    """The incarnations of ``topic`` the lake has recorded, oldest first."""
    try:
        paths = loc.fs.ls(incarnations_dir(loc.root, topic), detail=False)
    except FileNotFoundError:
        return []
    out = []
    for path in paths:
        name = posixpath.basename(path)
        if not name.endswith(".json") or name.startswith("."):
            continue
        doc = json.loads(loc.fs.cat_file(path))
        out.append(Incarnation(doc["recorded_at"], name[:-len(".json")], doc["topic_id"]))
    return sorted(out)


def record(loc: LakeLocation, topic: str, topic_id: str) -> None:
    """Write the marker of ``topic_id`` atomically, unless it exists (its time orders readers)."""
    path = f"{incarnations_dir(loc.root, topic)}/{incarnation_tag(topic_id)}.json"
    if loc.fs.exists(path):
        return
    doc = {"topic": topic, "topic_id": topic_id,
           "recorded_at": datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")}
    put_file(loc.fs, path, json.dumps(doc, sort_keys=True).encode() + b"\n")


def _holds_untagged(loc: LakeLocation, topic: str) -> bool:
    # Every tagged file is preceded by its marker, so data without markers is from before
    # incarnations existed.
    return any(loc.fs.exists(f"{loc.root}/{d}/{topic}") for d in ("topics", "_staging"))


def admit(loc: LakeLocation, topic: str, topic_id: str, *, new_incarnation: bool = False) -> bool:
    """Check that the sink may archive ``topic`` as the log's incarnation ``topic_id``.

    Returns whether that incarnation is recorded now (False: the lake holds nothing of the
    topic; the sink records it before its first file). Raises :class:`UnknownIncarnation` when
    the lake holds other incarnations only, unless ``new_incarnation`` (then it is recorded).
    """
    if not topic_id:
        raise UnknownIncarnation(f"the log reports no topic id for {topic!r}: cannot archive it safely")
    try:
        tag = incarnation_tag(topic_id)
    except ValueError as exc:
        raise UnknownIncarnation(f"{topic!r}: {exc}") from None
    known = recorded(loc, topic)
    if any(i.tag == tag for i in known):
        return True
    if not known and not _holds_untagged(loc, topic):
        return False
    if not new_incarnation:
        held = ", ".join(i.topic_id for i in known) or "untagged (archived before incarnations)"
        raise UnknownIncarnation(
            f"lake {loc.url} holds topic {topic!r} of incarnation {held}, but the log's {topic!r} is "
            f"incarnation {topic_id} (topic reset or new log?); refusing to archive it. To keep the "
            "archived files and start the new incarnation beside them, run with --new-incarnation "
            "(vitalstream sink lake|landing --new-incarnation, or vitalstream up --new-incarnation)")
    record(loc, topic, topic_id)
    return True
