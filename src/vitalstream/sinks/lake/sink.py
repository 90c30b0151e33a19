"""The rotating lake sink: every raw record archived as received, in deterministic segments.

See :mod:`vitalstream.sinks.lake` for the layout, the rotation rule and how the open segment is
kept (in memory with the log as its write-ahead log, staged parts when it must be durable), and
:mod:`.incarnations` for why every name carries the log's incarnation of its topic and when the
sink refuses to start.
"""

from __future__ import annotations

import posixpath
import time
from collections.abc import Callable, Sequence

from ... import topics as T
from ...errors import TopicError
from ...log.base import Record, TopicPartition
from ..base import LakeUnavailable, Sink
from .codecs import ExtraColumns, as_raw, file_bytes, last_offset, parquet_bytes, raw_table, read_table
from .fs import FORMATS, open_lake, put_file, remove_file, transient_errors
from .incarnations import TopicIds, admit, record
from .layout import HOUR_MS, final_path, incarnation_tag, parse_part, part_name, staging_dir
from .segments import OpenSegment, runs

LAKE_GROUP = "vitalstream-lake"
QUIET_S = 1.0  # no records for this long: write what is pending (the stream paused or ended)
# ... or for this many of its usual gaps between batches, if that is shorter (never under a
# quarter of QUIET_S): a stream whose batches came every 50 ms has ended after a few hundred ms
# without any, and its last records need not wait the second a trickle's pauses do
QUIET_GAPS = 4.0
PINNED_ROWS = 50_000  # pending slices keeping more batch rows in memory get buffers of their own


class LakeSink(Sink):
    """Archives ``topics`` (default: every raw topic) to the lake at ``url``.

    ``topic_id`` tells the log's current topic id of a topic (:func:`.log_topic_ids`); files
    are named by it. ``new_incarnation`` lets the sink start archiving an incarnation the lake
    does not know beside the ones it holds (once, for the incarnations current at the first
    check); without it the sink raises :class:`.UnknownIncarnation` before writing anything.

    Driven by :func:`~vitalstream.runtime.run_worker`, the sink keeps the open segments'
    records in memory and tells the loop what it may commit (:meth:`checkpoint`); called
    directly, every :meth:`process` is durable when it returns.
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
        flush_s: float | None = None,
        extra_columns: ExtraColumns | None = None,
    ) -> None:
        self.location = open_lake(url, format, rotate_records, flush_s)
        self.fs = self.location.fs
        self.root = self.location.root
        self.ext = FORMATS[self.location.format]
        self.rotate = self.location.rotate_records
        self.flush_s = self.location.flush_s
        self.topics = tuple(topics)
        self.group = group
        self.extra_columns = extra_columns
        self._open: dict[TopicPartition, OpenSegment] = {}
        self._closed: list[OpenSegment] = []  # closed with staged parts: removed once committed
        self._errors = transient_errors(self.fs)
        self._topic_id = topic_id
        self._new_incarnation = new_incarnation
        self._tags: dict[str, str] = {}  # topic → tag of the incarnation this sink archives
        self._unrecorded: dict[str, str] = {}  # topic → topic_id whose marker the first write adds
        self._checked = False
        self._checkpointed = False  # a driver commits what checkpoint() says: records may wait
        self._last_records = 0.0
        self._gap = 0.0  # moving average of the time between batches (0: not known yet)
        self.files_written = 0

    # -- Worker -----------------------------------------------------------------------------
    def assigned(self, partitions: set[TopicPartition]) -> None:
        for tp in list(self._open):
            if tp not in partitions:  # its pending records are uncommitted: the new owner reads them
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
        if not self._checkpointed:
            self._guard(lambda: self._stage(force=True))

    def checkpoint(self, force: bool = False) -> dict[TopicPartition, int]:
        """Write the pending records that are due as staged parts — all of them with
        ``force``, else those older than ``flush_s`` or all after :data:`QUIET_S` (or
        :data:`QUIET_GAPS` usual gaps) without records — and return the offset the loop may
        commit per partition.

        The first call tells the sink that its driver commits only these offsets, so from then
        on :meth:`process` leaves records pending (see :mod:`vitalstream.commits`).
        """
        self._checkpointed = True
        self._guard(lambda: self._stage(force))
        return {tp: seg.committable for tp, seg in self._open.items()}

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
        # The offsets of the last final files have been committed (the loop commits before it
        # polls again): their staged parts are no longer needed for a replay.
        self._cleanup_closed()
        now = time.monotonic()
        if self._last_records:
            gap = now - self._last_records
            self._gap = gap if not self._gap else self._gap + 0.3 * (gap - self._gap)
        self._last_records = now
        batch = runs(raw_table(records), self.rotate)
        for topic in {run.tp[0] for run in batch}:
            self._tag(topic)
            if topic in self._unrecorded:  # its marker goes before its first file
                record(self.location, topic, self._unrecorded.pop(topic))
        # Nothing changes in memory until every file is written: a failed batch is retried as is.
        touched: dict[TopicPartition, OpenSegment | None] = {}
        finals: list[OpenSegment] = []
        for run in batch:
            if run.tp in touched:
                seg = touched[run.tp]
            else:
                seg = self._open.get(run.tp)
                if seg is None or run.first <= seg.last:  # a restart or a replay: from the lake
                    seg = self._resume(run.tp, run.first)
                else:
                    seg = seg.clone()
            if seg is not None and (seg.hour, seg.chunk) == (run.hour, run.chunk):
                seg.extend(run, now)
            else:
                if seg is not None:
                    finals.append(seg)
                seg = OpenSegment.begin(run, now)
            touched[run.tp] = seg
        for seg in finals:
            self._write_final(seg)
        self._open.update({tp: seg for tp, seg in touched.items() if seg is not None})
        self._closed.extend(seg for seg in finals if seg.staged)
        self._checked = True

    def _stage(self, force: bool) -> None:
        now = time.monotonic()
        quiet = now - self._last_records >= self._quiet_s()
        for seg in self._open.values():
            if seg.pending and (force or quiet or now - seg.pending_since >= self.flush_s):
                self._write_part(seg)
            elif seg.pinned >= PINNED_ROWS:  # a slow partition among busy ones
                seg.compact()

    def _quiet_s(self) -> float:
        """How long without records means the stream paused or ended (see :data:`QUIET_GAPS`)."""
        quiet = min(QUIET_S, self.flush_s)
        if self._gap:
            quiet = min(quiet, max(QUIET_S / 4, QUIET_GAPS * self._gap))
        return quiet

    def _resume(self, tp: TopicPartition, first: int) -> OpenSegment | None:
        """The open segment of ``tp`` rebuilt from its staged parts; ``first`` is the next
        offset (the committed position): everything before it is durable."""
        import numpy as np
        import pyarrow as pa

        topic, partition = tp
        keep: list[tuple[int, int, str]] = []
        for seg_start, part_start, path in self._list_parts(topic, partition, self._tags[topic]):
            if part_start >= first:  # written by a batch that was never committed
                self._rm(path)
            else:
                keep.append((seg_start, part_start, path))
        if not keep:
            return None
        seg_start = max(s for s, _, _ in keep)
        for s, _, path in keep:
            if s < seg_start:  # a closed segment whose cleanup did not happen before a crash
                self._rm(path)
        paths = [path for s, _, path in sorted(keep) if s == seg_start]
        table = pa.concat_tables([as_raw(read_table(self.fs, p)) for p in paths])
        offsets = table.column("offset").to_numpy()
        _, unique = np.unique(offsets, return_index=True)  # sorted, each offset once
        unique = unique[offsets[unique] < first]
        if not len(unique):  # cannot happen (a kept part starts before first); stay clean anyway
            for path in paths:
                self._rm(path)
            return None
        table = table.take(pa.array(unique)).combine_chunks()
        head, last = int(offsets[unique[0]]), int(offsets[unique[-1]])
        hour = int(table.column("timestamp").cast(pa.int64())[0].as_py()) // HOUR_MS
        final = final_path(self.root, topic, partition, seg_start, hour, self.ext, self._tags[topic])
        if first > last + 1 and self.fs.exists(final) and first > last_offset(self.fs, final):
            # closed (its final file holds rows no part has) and committed: only the cleanup is left
            for path in paths:
                self._rm(path)
            return None
        return OpenSegment(topic, partition, seg_start, hour, head // self.rotate, last, durable=[table], staged=True)

    def _cleanup_closed(self) -> None:
        for seg in self._closed:
            for s, _, path in self._list_parts(seg.topic, seg.partition, self._tags[seg.topic]):
                if s <= seg.start:
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

    def _write_final(self, seg: OpenSegment) -> None:
        path = final_path(self.root, seg.topic, seg.partition, seg.start, seg.hour, self.ext, self._tags[seg.topic])
        self._put(path, file_bytes(seg.table(), self.ext, self.extra_columns))

    def _write_part(self, seg: OpenSegment) -> None:
        table = seg.pending_table()
        name = part_name(seg.start, seg.pending_first, self._tags[seg.topic])
        self._put(f"{staging_dir(self.root, seg.topic, seg.partition)}/{name}", parquet_bytes(table, "lz4"))
        seg.made_durable(table)

    def _put(self, path: str, data: bytes) -> None:
        put_file(self.fs, path, data)
        self.files_written += 1
