"""The embedded :class:`Log`: topics, describing them, group lag, retention and compaction.

:class:`EmbeddedLog` opens the database (creating or migrating its schema) and hands out
:class:`EmbeddedProducer` and :class:`EmbeddedConsumer` instances, each with a connection of
its own. :meth:`EmbeddedLog.enforce_retention` drops whole batches whose newest record is older
than the topic's retention, and compacts compacted topics to the latest record per key.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from typing import Literal

from ...errors import TopicError
from ..base import Consumer, GroupLag, Log, PartitionInfo, Producer, TopicInfo, TopicSpec
from . import batches
from .consumer import EmbeddedConsumer
from .db import Db, TopicCache, epoch_ms, path_from_url
from .producer import EmbeddedProducer


class EmbeddedLog(Log):
    """SQLite-backed :class:`Log`. Safe to share between threads and between processes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.path, self.sync = path_from_url(url)
        self._db = Db(self.path, self.sync)
        self._db.ensure_schema()
        self._topics = TopicCache(self._db)

    # -- administration ------------------------------------------------------------------
    def create_topic(self, spec: TopicSpec, exist_ok: bool = True) -> None:
        if spec.partitions < 1:
            raise TopicError(f"topic {spec.name!r}: partitions must be >= 1")
        with self._db.write() as c:
            if c.execute("SELECT 1 FROM topics WHERE name=?", (spec.name,)).fetchone():
                if exist_ok:
                    return
                raise TopicError(f"topic {spec.name!r} already exists")
            row = c.execute("SELECT value FROM seq WHERE name='topic'").fetchone()
            tid = (row[0] if row else 0) + 1
            c.execute("INSERT OR REPLACE INTO seq VALUES('topic', ?)", (tid,))
            c.execute(
                "INSERT INTO topics VALUES(?,?,?,?,?,?,?)",
                (spec.name, tid, spec.partitions, spec.retention_ms, int(spec.compacted),
                 spec.replication_factor, str(uuid.uuid4())),
            )
            c.executemany(
                "INSERT INTO partitions VALUES(?,?,0,0)", [(tid, p) for p in range(spec.partitions)]
            )
        self._topics.refresh()

    def delete_topic(self, name: str) -> None:
        tid, _ = self._topics.get(name)
        with self._db.write() as c:
            c.execute("DELETE FROM batches WHERE topic_id=?", (tid,))
            c.execute("DELETE FROM partitions WHERE topic_id=?", (tid,))
            c.execute("DELETE FROM topics WHERE id=?", (tid,))
            c.execute("DELETE FROM commits WHERE topic=?", (name,))
        self._topics.refresh()

    def purge_topic(self, name: str) -> None:
        tid, _ = self._topics.get(name)
        with self._db.write() as c:
            c.execute("DELETE FROM batches WHERE topic_id=?", (tid,))
            c.execute("UPDATE partitions SET low=high WHERE topic_id=?", (tid,))

    def list_topics(self) -> list[str]:
        return [r[0] for r in self._db.query("SELECT name FROM topics ORDER BY name")]

    def describe_topic(self, name: str) -> TopicInfo:
        rows = self._db.query(
            "SELECT id, partitions, retention_ms, compacted, replication_factor, uuid FROM topics WHERE name=?",
            (name,),
        )
        if not rows:
            raise TopicError(f"topic {name!r} does not exist")
        tid, parts, retention, compacted, rf, topic_uuid = rows[0]
        spec = TopicSpec(name, parts, retention, bool(compacted), rf)
        ps = self._db.query(
            "SELECT partition, low, high FROM partitions WHERE topic_id=? ORDER BY partition", (tid,)
        )
        return TopicInfo(spec, tuple(PartitionInfo(p, lo, hi) for p, lo, hi in ps), topic_uuid)

    def producer(self) -> Producer:
        return EmbeddedProducer(self)

    def consumer(
        self,
        group: str,
        topics: Sequence[str],
        auto_offset_reset: Literal["earliest", "latest"] = "earliest",
        session_timeout: float = 10.0,
    ) -> Consumer:
        return EmbeddedConsumer(self, group, list(topics), auto_offset_reset, session_timeout)

    def group_lag(self, group: str, topics: Sequence[str] | None = None) -> list[GroupLag]:
        rows = self._db.query(
            "SELECT t.name, p.partition, c.offset, p.high FROM partitions p "
            "JOIN topics t ON t.id = p.topic_id "
            "LEFT JOIN commits c ON c.grp=? AND c.topic=t.name AND c.partition=p.partition "
            "WHERE t.name IN (SELECT topic FROM commits WHERE grp=?) ORDER BY t.name, p.partition",
            (group, group),
        )
        wanted = set(topics) if topics is not None else None
        out = [GroupLag(group, t, p, c, h) for t, p, c, h in rows if wanted is None or t in wanted]
        if wanted:
            seen = {g.topic for g in out}
            for name in sorted(wanted - seen):  # subscribed but never committed: all is lag
                info = self.describe_topic(name)
                out += [GroupLag(group, name, p.partition, None, p.high) for p in info.partitions]
        return out

    def list_groups(self) -> list[str]:
        rows = self._db.query("SELECT DISTINCT grp FROM commits UNION SELECT DISTINCT grp FROM members")
        return sorted(r[0] for r in rows)

    def enforce_retention(self, now_ms: int | None = None) -> int:
        now_ms = epoch_ms() if now_ms is None else now_ms
        removed = 0
        topics = self._db.query("SELECT id, retention_ms, compacted FROM topics")
        for tid, retention, compacted in topics:
            with self._db.write() as c:
                if retention is not None:
                    for (n,) in c.execute(
                        "SELECT last_offset - base_offset + 1 FROM batches WHERE topic_id=? AND max_ts < ?",
                        (tid, now_ms - retention),
                    ).fetchall():
                        removed += n  # upper bound after compaction; exact otherwise
                    c.execute("DELETE FROM batches WHERE topic_id=? AND max_ts < ?", (tid, now_ms - retention))
                if compacted:
                    removed += self._compact(c, tid)
                c.execute(
                    "UPDATE partitions SET low = coalesce((SELECT min(base_offset) FROM batches b "
                    "WHERE b.topic_id=partitions.topic_id AND b.partition=partitions.partition), high) "
                    "WHERE topic_id=?",
                    (tid,),
                )
        return removed

    @staticmethod
    def _compact(c: sqlite3.Connection, tid: int) -> int:
        """Keep the latest record per key (and every keyless record), offsets unchanged."""
        removed = 0
        parts = [p for (p,) in c.execute("SELECT DISTINCT partition FROM batches WHERE topic_id=?", (tid,))]
        for p in parts:
            rows = c.execute(
                "SELECT data FROM batches WHERE topic_id=? AND partition=? ORDER BY base_offset", (tid, p)
            ).fetchall()
            records = [r for (data,) in rows for r in batches.decode(data).entries()]
            latest = {r[2]: r[0] for r in records if r[2] is not None}
            kept = [r for r in records if r[2] is None or latest[r[2]] == r[0]]
            if len(kept) == len(records):
                continue
            removed += len(records) - len(kept)
            c.execute("DELETE FROM batches WHERE topic_id=? AND partition=?", (tid, p))
            if kept:
                c.execute(
                    "INSERT INTO batches VALUES(?,?,?,?,?,?)",
                    (tid, p, kept[0][0], kept[-1][0], max(r[1] for r in kept),
                     batches.encode(kept[0][0], [(k, v, ts) for _, ts, k, v, _ in kept],
                                    {i: r[4] for i, r in enumerate(kept) if r[4]}, [r[0] for r in kept])),
                )
        return removed

    def close(self) -> None:
        self._db.close()

    def __repr__(self) -> str:
        return f"EmbeddedLog({self.url!r})"
