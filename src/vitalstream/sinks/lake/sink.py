"""The rotating lake sink: every raw record archived as received, in deterministic segments.

See :mod:`vitalstream.sinks.lake` for the layout, the rotation rule and how the open segment is
kept durable as staged parts, and :mod:`.incarnations` for why every name carries the log's
incarnation of its topic and when the sink refuses to start.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ... import topics as T
from ...errors import TopicError
from ...log.base import Record, TopicPartition
from ..base import LakeUnavailable, Sink
from .codecs import ExtraColumns, jsonl_bytes, parquet_bytes, read_parquet, records_table
from .fs import FORMATS, open_lake, put_file, remove_file, transient_errors
from .incarnations import TopicIds, admit, record
from .layout import HOUR_MS, final_path, incarnation_tag, parse_part, part_name, staging_dir

LAKE_GROUP = "vitalstream-lake"


@dataclass
class _Segment:
    partition: int
    start: int
    hour: int
    chunk: int
    rows: list[Record]

    @property
    def last(self) -> int:
        return self.rows[-1].offset


class LakeSink(Sink):
    """Archives ``topics`` (default: every raw topic) to the lake at ``url``.

    ``topic_id`` tells the log's current topic id of a topic (:func:`.log_topic_ids`); files
    are named by it. ``new_incarnation`` lets the sink start archiving an incarnation the lake
    does not know beside the ones it holds (once, for the incarnations current at the first
    check); without it the sink raises :class:`.UnknownIncarnation` before writing anything.
    """

    def __init__(
        self,
        url: str,
        topics: Sequence[str] = T.RAW_TOPICS,
        *,
        topic_id: TopicIds,
        new_incarnation: bool = False,
        group: str = LAKE_GROUP,
        format: str | None = None,
        rotate_records: int | None = None,
        extra_columns: ExtraColumns | None = None,
    ) -> None:
        self.location = open_lake(url, format, rotate_records)
        self.fs = self.location.fs
        self.root = self.location.root
        self.ext = FORMATS[self.location.format]
        self.rotate = self.location.rotate_records
        self.topics = tuple(topics)
        self.group = group
        self.extra_columns = extra_columns
        self._open: dict[TopicPartition, _Segment] = {}
        self._closed: list[tuple[str, int, int, str]] = []  # (topic, partition, start, tag) to clean up
        self._errors = transient_errors()
        self._topic_id = topic_id
        self._new_incarnation = new_incarnation
        self._tags: dict[str, str] = {}  # topic → tag of the incarnation this sink archives
        self._unrecorded: dict[str, str] = {}  # topic → topic_id whose marker the first write adds
        self._checked = False
        self.files_written = 0

    # -- Worker -----------------------------------------------------------------------------
    def assigned(self, partitions: set[TopicPartition]) -> None:
        for tp in list(self._open):
            if tp not in partitions:
                del self._open[tp]
        # A rebalance may follow a topic deleted and created again: look at the log afresh.
        self._tags.clear()
        self.check_incarnations()

    def check_incarnations(self) -> None:
        """Admit the log's current incarnation of every topic the sink reads that exists, or
        raise :class:`.UnknownIncarnation` (see :func:`.admit`)."""
        self._guard(lambda: [self._tag(t, missing_ok=True) for t in self.topics])
        self._checked = True

    def write(self, records: list[Record]) -> None:
        self._guard(lambda: self._write(records))

    def _guard(self, fn: Callable[[], object]) -> None:
        try:
            fn()
        except self._errors as exc:
            raise LakeUnavailable(f"lake {self.location.url}: {type(exc).__name__}: {exc}") from exc

    def _tag(self, topic: str, missing_ok: bool = False) -> str | None:
        if topic in self._tags:
            return self._tags[topic]
        try:
            topic_id = self._topic_id(topic)
        except TopicError:
            if missing_ok:  # nothing to read from it yet; checked again on its first batch
                return None
            raise
        # --new-incarnation acknowledges the incarnations current when the sink starts only.
        if admit(self.location, topic, topic_id, new_incarnation=self._new_incarnation and not self._checked):
            self._unrecorded.pop(topic, None)
        else:
            self._unrecorded[topic] = topic_id
        tag = self._tags[topic] = incarnation_tag(topic_id)
        return tag

    def close(self) -> None:
        self._open.clear()

    # -- batch ------------------------------------------------------------------------------
    def _write(self, records: list[Record]) -> None:
        # The previous batch has been committed (the loop only calls us again after a commit):
        # parts of segments it closed are no longer needed for a replay.
        self._cleanup_closed()
        for topic in {r.topic for r in records}:
            self._tag(topic)
            if topic in self._unrecorded:  # its marker goes before its first file
                record(self.location, topic, self._unrecorded.pop(topic))
        by_tp: dict[TopicPartition, list[Record]] = {}
        for r in records:
            by_tp.setdefault((r.topic, r.partition), []).append(r)
        finals: list[_Segment] = []
        parts: list[tuple[_Segment, list[Record]]] = []
        new_open: dict[TopicPartition, _Segment] = {}
        rotate = self.rotate
        for tp, rows in by_tp.items():
            seg = self._open.get(tp)
            if seg is None or rows[0].offset != seg.last + 1:
                seg = self._resume(tp, rows[0].offset)
            base: list[Record] = seg.rows if seg else []
            added: list[Record] = []
            for r in rows:
                hour, chunk = r.timestamp_ms // HOUR_MS, r.offset // rotate
                if seg is None or hour != seg.hour or chunk != seg.chunk:
                    if seg is not None:
                        finals.append(_Segment(seg.partition, seg.start, seg.hour, seg.chunk, base + added))
                    seg = _Segment(r.partition, r.offset, hour, chunk, [])
                    base, added = [], []
                added.append(r)
            assert seg is not None
            if added:
                parts.append((seg, added))
            new_open[tp] = _Segment(seg.partition, seg.start, seg.hour, seg.chunk, base + added)
        # Final files first: a part of a later segment implies the earlier one is final.
        for seg in finals:
            self._write_final(seg)
        for seg, added in parts:
            self._write_part(seg, added)
        self._open.update(new_open)
        self._closed.extend((s.rows[0].topic, s.partition, s.start, self._tags[s.rows[0].topic]) for s in finals)
        self._checked = True

    def _resume(self, tp: TopicPartition, first: int) -> _Segment | None:
        """Rebuild the open segment of ``tp`` from its parts; ``first`` is the next offset."""
        topic, partition = tp
        found = self._list_parts(topic, partition, self._tags[topic])
        keep: list[tuple[int, int, str]] = []
        for seg_start, part_start, path in found:
            if part_start >= first:  # written by a batch that was never committed
                self._rm(path)
            else:
                keep.append((seg_start, part_start, path))
        if not keep:
            return None
        seg_start = max(s for s, _, _ in keep)
        rows: dict[int, Record] = {}
        for s, _, path in keep:
            if s < seg_start:  # a closed segment whose cleanup did not happen before a crash
                self._rm(path)
                continue
            for r in read_parquet(self.fs, path):
                if r.offset < first:
                    rows[r.offset] = r
        if not rows:
            return None
        ordered = [rows[o] for o in sorted(rows)]
        head = ordered[0]
        return _Segment(partition, seg_start, head.timestamp_ms // HOUR_MS, head.offset // self.rotate, ordered)

    def _cleanup_closed(self) -> None:
        for topic, partition, start, tag in self._closed:
            for s, _, path in self._list_parts(topic, partition, tag):
                if s <= start:
                    self._rm(path)
        self._closed.clear()

    # -- files ------------------------------------------------------------------------------
    def _list_parts(self, topic: str, partition: int, tag: str) -> list[tuple[int, int, str]]:
        """Staged parts of incarnation ``tag`` (other incarnations' stay as they are)."""
        d = staging_dir(self.root, topic, partition)
        try:
            names = self.fs.ls(d, detail=False)
        except FileNotFoundError:
            return []
        out = []
        for path in names:
            parsed = parse_part(posixpath.basename(path))
            if parsed and parsed[2] == tag:
                out.append((parsed[0], parsed[1], path))
        return out

    def _rm(self, path: str) -> None:
        remove_file(self.fs, path)

    def _write_final(self, seg: _Segment) -> None:
        topic = seg.rows[0].topic
        path = final_path(self.root, topic, seg.partition, seg.start, seg.hour, self.ext, self._tags[topic])
        if self.ext == "jsonl":
            self._put(path, jsonl_bytes(seg.rows))
        else:
            self._put(path, parquet_bytes(records_table(seg.rows, self.extra_columns)))

    def _write_part(self, seg: _Segment, added: list[Record]) -> None:
        topic = added[0].topic
        name = part_name(seg.start, added[0].offset, self._tags[topic])
        self._put(f"{staging_dir(self.root, topic, seg.partition)}/{name}", parquet_bytes(records_table(added)))

    def _put(self, path: str, data: bytes) -> None:
        put_file(self.fs, path, data)
        self.files_written += 1
