"""The embedded :class:`Consumer`: fetch from owned partitions, fenced commits, seeks.

A poll heart-beats (see :mod:`.groups`), then reads the batches holding each owned
partition's position onwards, sharing ``max_records`` between the partitions that have
records. A commit stores positions only for partitions this member still owns, so a member
that lost a partition in a rebalance cannot move the new owner's position.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from ..base import Consumer, Record, TopicPartition
from . import batches
from .batches import Stored
from .groups import GroupMember

if TYPE_CHECKING:
    from .admin import EmbeddedLog


class EmbeddedConsumer(GroupMember, Consumer):
    """A group member (:class:`GroupMember`) that reads and commits."""

    _MIN_PAUSE_S = 0.002
    _MAX_PAUSE_S = 0.05
    _QUIET_S = 2.0
    _IDLE_PAUSE_S = 0.2

    def __init__(
        self,
        log: EmbeddedLog,
        group: str,
        topics: list[str],
        auto_offset_reset: Literal["earliest", "latest"],
        session_timeout: float,
    ) -> None:
        # (topic id, partition) -> (base offset, last offset, records) of the batch read last
        self._cache: dict[tuple[int, int], tuple[int, int, Stored]] = {}
        self._pause = self._MIN_PAUSE_S  # the next wait when a poll finds nothing
        self._last_records = time.monotonic()  # when a fetch last found records
        self._quiet: tuple[int, int] | None = None  # (data_version, local epoch) of the last empty fetch
        super().__init__(log, group, topics, auto_offset_reset, session_timeout)

    # -- consuming ---------------------------------------------------------------------------
    def poll(self, max_records: int = 5000, timeout: float = 1.0) -> list[Record]:
        """Records as soon as there are any; else wait, re-checking with a growing pause.

        The pause grows across empty polls, to ``_MAX_PAUSE_S`` and, after ``_QUIET_S``
        without records, to ``_IDLE_PAUSE_S``; a check costs one ``PRAGMA data_version``
        unless another connection wrote since the last empty fetch. So an idle member costs
        next to nothing, and the first record after a quiet spell waits at most that pause.
        """
        deadline = time.monotonic() + timeout
        while True:
            self._heartbeat()
            out = self._fetch(max_records)
            now = time.monotonic()
            if out:
                self._pause, self._last_records = self._MIN_PAUSE_S, now
                return out
            left = deadline - now
            if left <= 0:
                return out
            time.sleep(min(self._pause, left))
            cap = self._IDLE_PAUSE_S if now - self._last_records > self._QUIET_S else self._MAX_PAUSE_S
            self._pause = min(self._pause * 2, cap)

    def _fetch(self, max_records: int) -> list[Record]:
        if not self._assignment:
            return []
        # Nothing to read unless another connection committed (data_version) or this member's
        # own view changed (assignment, seek) since the last fetch that found nothing.
        seen = (self._db.query("PRAGMA data_version")[0][0], self._local_epoch)
        if seen == self._quiet:
            return []
        out = self._fetch_ready(max_records)
        self._quiet = None if out else seen
        return out

    def _fetch_ready(self, max_records: int) -> list[Record]:
        ids = {t: self._topics.get(t)[0] for t in self.topics}
        names = {v: k for k, v in ids.items()}
        highs = self._db.query(
            f"SELECT topic_id, partition, low, high FROM partitions WHERE topic_id IN ({','.join('?' * len(ids))})",
            list(ids.values()),
        )
        ready = []
        for tid, p, lo, hi in highs:
            tp = (names[tid], p)
            pos = self._positions.get(tp)
            if pos is None or tp in self._revoking:
                continue
            if pos < lo:  # retention removed what we had not read yet: continue at the start
                self._positions[tp] = pos = lo
            if hi > pos:
                ready.append((tid, p, tp, pos, hi))
        if not ready:
            return []
        share = max(max_records // len(ready), 64)
        out: list[Record] = []
        for tid, p, tp, pos, hi in ready:
            limit = min(share, max_records - len(out))
            if limit <= 0:
                break
            got = self._read_partition(tid, p, tp[0], pos, limit, hi)
            if got:
                out.extend(got)
                nxt = got[-1].offset + 1
                self._positions[tp] = nxt
                self._returned[tp] = nxt
        return out

    def _read_partition(self, tid: int, p: int, topic: str, pos: int, limit: int, hi: int) -> list[Record]:
        """Up to ``limit`` records at offsets >= pos (below the high watermark ``hi``), from
        the batch holding pos onwards (cached when a batch is read in several polls)."""
        parts: list[tuple[Stored, int]] = []  # (stored batch, index of its first wanted record)
        need, last = limit, pos - 1  # records still wanted; last offset covered so far
        cached = self._cache.get((tid, p))
        if cached is not None and cached[0] <= pos <= cached[1]:
            start = cached[2].index(pos)
            parts.append((cached[2], start))
            need, last = need - (len(cached[2]) - start), cached[1]
        # Fetch exactly the batches holding the offsets still wanted, [last + 1, last + need]:
        # blobs fetched and then dropped cost as much as decoding the ones kept.
        while need > 0 and last < hi - 1:
            rows = self._db.query(
                "SELECT base_offset, last_offset, data FROM batches WHERE topic_id=? AND partition=? "
                "AND base_offset >= coalesce((SELECT max(base_offset) FROM batches WHERE topic_id=? "
                "AND partition=? AND base_offset <= ?), 0) AND last_offset >= ? AND base_offset < ? "
                "ORDER BY base_offset",
                (tid, p, tid, p, last + 1, last + 1, min(last + 1 + need, hi)),
            )
            if not rows:  # a gap left by compaction: go on at the next stored batch
                nxt = self._db.query(
                    "SELECT min(base_offset) FROM batches WHERE topic_id=? AND partition=? AND base_offset > ?",
                    (tid, p, last),
                )[0][0]
                if nxt is None:
                    break
                last = nxt - 1
                continue
            for base, last_off, data in rows:
                decoded = batches.decode(data)
                self._cache[(tid, p)] = (base, last_off, decoded)
                start = decoded.index(last + 1)
                parts.append((decoded, start))
                need, last = need - (len(decoded) - start), last_off
        out: list[Record] = []
        for decoded, start in parts:
            out.extend(decoded.records(topic, p, start, start + limit - len(out)))
            if len(out) >= limit:
                break
        return out

    def commit(self, offsets: Mapping[TopicPartition, int] | None = None) -> None:
        todo = dict(self._returned if offsets is None else offsets)
        if not todo:
            return
        with self._db.write() as c:
            # Fenced: a member commits only partitions it still owns, so a member that lost a
            # partition in a rebalance cannot move the new owner's position.
            owned = {
                (t, p)
                for t, p in c.execute(
                    "SELECT topic, partition FROM owners WHERE grp=? AND member=?", (self.group, self.member)
                )
            }
            rows = [(self.group, t, p, o) for (t, p), o in todo.items() if (t, p) in owned]
            c.executemany("INSERT OR REPLACE INTO commits VALUES(?,?,?,?)", rows)
        if offsets is None:
            self._returned.clear()
        else:
            for tp, o in offsets.items():
                if self._returned.get(tp) == o:
                    del self._returned[tp]
        if self._revoking:
            self._heartbeat(force=True)  # hand the committed partitions over now

    def _seek(self, mode: str, partitions: Sequence[TopicPartition] | None) -> None:
        owned = set(self._assignment)
        tps = self._assignment if partitions is None else [tp for tp in partitions if tp in owned]
        self._init_positions(list(tps), mode)

    def seek_to_beginning(self, partitions: Sequence[TopicPartition] | None = None) -> None:
        self._seek("beginning", partitions)

    def seek_to_end(self, partitions: Sequence[TopicPartition] | None = None) -> None:
        self._seek("end", partitions)

    def position(self, tp: TopicPartition) -> int | None:
        return self._positions.get(tp)
