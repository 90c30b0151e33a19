"""The embedded message log: one SQLite database in WAL mode, no server.

URL: ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``; ``?sync=full`` makes
every flush survive power loss too (the default, ``normal``, survives ``kill -9`` of any process,
which is the promise: SQLite in WAL mode with synchronous=NORMAL loses nothing on an
application crash, only possibly the last transactions on an OS crash).

Several processes on one machine share it: an ingest process produces while a processor
consumes. Writers are serialised by SQLite's lock (each flush is one short transaction);
readers never block writers. Consumer groups work across processes: members heart-beat into
the ``members`` table and each member derives the same assignment from the live member list.

Records are stored as *batches*, like Kafka's record batches: one row per partition per
flush holding the batch's records (msgpack), so a flush of 5,000 records is one row written
and a poll reads a few rows, not thousands. Retention drops whole batches whose newest record
is older than the limit; compaction rewrites a partition keeping the latest record per key,
offsets unchanged.

Assignment is by partition *number*: partition ``p`` of every subscribed topic goes to the
same member, so a patient's records from different topics (all keyed by patient id) meet in
one member — per-patient state such as alerts and NEWS2 depends on that co-partitioning.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import msgspec

from ..errors import ConfigError, LogUnavailable, TopicError
from .base import (
    Consumer,
    GroupLag,
    Headers,
    Log,
    PartitionInfo,
    Producer,
    Record,
    TopicInfo,
    TopicPartition,
    TopicSpec,
    partition_for,
)

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics(
    name TEXT PRIMARY KEY, id INTEGER NOT NULL UNIQUE, partitions INTEGER NOT NULL,
    retention_ms INTEGER, compacted INTEGER NOT NULL, replication_factor INTEGER NOT NULL,
    uuid TEXT);
CREATE TABLE IF NOT EXISTS partitions(
    topic_id INTEGER NOT NULL, partition INTEGER NOT NULL, low INTEGER NOT NULL,
    high INTEGER NOT NULL, PRIMARY KEY(topic_id, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches(
    topic_id INTEGER NOT NULL, partition INTEGER NOT NULL, base_offset INTEGER NOT NULL,
    last_offset INTEGER NOT NULL, max_ts INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY(topic_id, partition, base_offset));
CREATE TABLE IF NOT EXISTS commits(
    grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
    PRIMARY KEY(grp, topic, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS members(
    grp TEXT NOT NULL, member TEXT NOT NULL, heartbeat_ms INTEGER NOT NULL,
    PRIMARY KEY(grp, member)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS owners(
    grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, member TEXT NOT NULL,
    PRIMARY KEY(grp, topic, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seq(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

# One stored record: (offset, timestamp_ms, key, value, headers) — headers as a list of pairs.
_Stored = tuple[int, int, "bytes | None", bytes, "list[tuple[str, bytes]] | None"]
_batch_encoder = msgspec.msgpack.Encoder()
_batch_decoder = msgspec.msgpack.Decoder(list[tuple[int, int, bytes | None, bytes, list[tuple[str, bytes]] | None]])


def _now_ms() -> int:
    return int(time.time() * 1000)


def _path_from_url(url: str) -> tuple[Path, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("sqlite", "embedded"):
        raise ConfigError(f"log url {url!r}: the embedded log needs sqlite:///PATH")
    raw = url.split("://", 1)[1].split("?", 1)[0]
    path = raw[1:] if raw.startswith("/") else raw  # sqlite:///rel -> rel ; sqlite:////abs -> /abs
    if not path:
        raise ConfigError(f"log url {url!r}: missing database path (sqlite:///PATH)")
    sync = parse_qs(parts.query).get("sync", ["normal"])[0].lower()
    if sync not in ("normal", "full"):
        raise ConfigError(f"log url {url!r}: sync must be 'normal' or 'full'")
    return Path(path), sync


def _add_topic_uuids(conn: sqlite3.Connection) -> None:
    """Logs created before topics had a stable id: add the column and give each topic one."""
    cols = [r[1] for r in conn.execute("PRAGMA table_info(topics)")]
    if "uuid" not in cols:
        conn.execute("ALTER TABLE topics ADD COLUMN uuid TEXT")
    for (name,) in conn.execute("SELECT name FROM topics WHERE uuid IS NULL").fetchall():
        conn.execute("UPDATE topics SET uuid=? WHERE name=?", (str(uuid.uuid4()), name))


class _Db:
    """A connection with the pragmas every handle needs."""

    def __init__(self, path: Path, sync: str) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(
                path, timeout=60.0, isolation_level=None, check_same_thread=False
            )
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute(f"PRAGMA synchronous={sync.upper()}")
            self.conn.execute("PRAGMA busy_timeout=60000")
        except (sqlite3.Error, OSError) as exc:
            raise LogUnavailable(f"cannot open embedded log at {path}: {exc}") from exc
        self.lock = threading.RLock()

    def write(self) -> _Tx:
        return _Tx(self)

    def query(self, sql: str, args: Sequence[object] = ()) -> list[tuple]:  # type: ignore[type-arg]
        with self.lock:
            return self.conn.execute(sql, args).fetchall()

    def close(self) -> None:
        with self.lock:
            self.conn.close()


class _Tx:
    """``with db.write() as c:`` — one IMMEDIATE transaction (takes the write lock up front)."""

    def __init__(self, db: _Db) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.lock.acquire()
        try:
            self.db.conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.db.lock.release()
            raise
        return self.db.conn

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            self.db.conn.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.db.lock.release()


class _TopicCache:
    """Topic name -> (id, partitions), re-read when a name is missing or after a change."""

    def __init__(self, db: _Db) -> None:
        self.db = db
        self.by_name: dict[str, tuple[int, int]] = {}

    def refresh(self) -> None:
        self.by_name = {n: (i, p) for n, i, p in self.db.query("SELECT name, id, partitions FROM topics")}

    def get(self, name: str) -> tuple[int, int]:
        hit = self.by_name.get(name)
        if hit is None:
            self.refresh()
            hit = self.by_name.get(name)
            if hit is None:
                raise TopicError(f"topic {name!r} does not exist")
        return hit


class EmbeddedLog(Log):
    """SQLite-backed :class:`Log`. Safe to share between threads and between processes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.path, self.sync = _path_from_url(url)
        self._db = _Db(self.path, self.sync)
        with self._db.lock:
            self._db.conn.executescript(_SCHEMA)
            _add_topic_uuids(self._db.conn)
        self._topics = _TopicCache(self._db)

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
        now_ms = _now_ms() if now_ms is None else now_ms
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
            records = [r for (data,) in rows for r in _batch_decoder.decode(data)]
            latest = {r[2]: r[0] for r in records if r[2] is not None}
            kept = [r for r in records if r[2] is None or latest[r[2]] == r[0]]
            if len(kept) == len(records):
                continue
            removed += len(records) - len(kept)
            c.execute("DELETE FROM batches WHERE topic_id=? AND partition=?", (tid, p))
            if kept:
                c.execute(
                    "INSERT INTO batches VALUES(?,?,?,?,?,?)",
                    (tid, p, kept[0][0], kept[-1][0], max(r[1] for r in kept), _batch_encoder.encode(kept)),
                )
        return removed

    def close(self) -> None:
        self._db.close()

    def __repr__(self) -> str:
        return f"EmbeddedLog({self.url!r})"


class EmbeddedProducer(Producer):
    atomic_flush = True  # one flush is one SQLite transaction

    def __init__(self, log: EmbeddedLog) -> None:
        self._db = _Db(log.path, log.sync)
        self._topics = _TopicCache(self._db)
        # (topic id, partition) -> list of (timestamp_ms, key, value, headers)
        self._buffer: dict[tuple[int, int], list[tuple[int, bytes | None, bytes, list[tuple[str, bytes]] | None]]] = (
            defaultdict(list)
        )
        self._rr: dict[str, int] = defaultdict(int)

    def send(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        headers: Headers = (),
        timestamp_ms: int | None = None,
        partition: int | None = None,
    ) -> None:
        tid, parts = self._topics.get(topic)
        if partition is None:
            if key is not None:
                partition = partition_for(key, parts)
            else:
                partition = self._rr[topic] % parts
                self._rr[topic] += 1
        elif not 0 <= partition < parts:
            raise TopicError(f"topic {topic!r} has no partition {partition}")
        self._buffer[(tid, partition)].append(
            (
                _now_ms() if timestamp_ms is None else timestamp_ms,
                key,
                value,
                list(headers) if headers else None,
            )
        )

    def send_many(self, topic, items, headers=(), timestamp_ms=None):  # type: ignore[no-untyped-def]
        tid, parts = self._topics.get(topic)
        ts = _now_ms() if timestamp_ms is None else timestamp_ms
        h = list(headers) if headers else None
        buf = self._buffer
        for key, value in items:
            if key is None:
                p = self._rr[topic] % parts
                self._rr[topic] += 1
            else:
                p = partition_for(key, parts)
            buf[(tid, p)].append((ts, key, value, h))

    def flush(self, timeout: float | None = None) -> None:
        if not self._buffer:
            return
        buffer, self._buffer = self._buffer, defaultdict(list)
        try:
            with self._db.write() as c:
                for (tid, p), rows in buffer.items():
                    row = c.execute(
                        "SELECT high FROM partitions WHERE topic_id=? AND partition=?", (tid, p)
                    ).fetchone()
                    if row is None:
                        raise TopicError("a topic was deleted while records for it were buffered")
                    high = row[0]
                    data = _batch_encoder.encode([(high + i, ts, k, v, h) for i, (ts, k, v, h) in enumerate(rows)])
                    c.execute(
                        "INSERT INTO batches VALUES(?,?,?,?,?,?)",
                        (tid, p, high, high + len(rows) - 1, max(r[0] for r in rows), data),
                    )
                    c.execute(
                        "UPDATE partitions SET high=? WHERE topic_id=? AND partition=?",
                        (high + len(rows), tid, p),
                    )
        except sqlite3.Error as exc:
            # Keep the records buffered so a retry after the transient failure loses nothing.
            for k, rows in buffer.items():
                self._buffer[k][:0] = rows
            raise LogUnavailable(f"embedded log write failed: {exc}") from exc

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._db.close()


class EmbeddedConsumer(Consumer):
    _HEARTBEAT_S = 0.25

    def __init__(
        self,
        log: EmbeddedLog,
        group: str,
        topics: list[str],
        auto_offset_reset: Literal["earliest", "latest"],
        session_timeout: float,
    ) -> None:
        if auto_offset_reset not in ("earliest", "latest"):
            raise ConfigError("auto_offset_reset must be 'earliest' or 'latest'")
        self._db = _Db(log.path, log.sync)
        self._topics = _TopicCache(self._db)
        for t in topics:
            self._topics.get(t)  # unknown topic -> TopicError now, not silence later
        self.group = group
        self.topics = topics
        self.reset = auto_offset_reset
        self.session_ms = int(session_timeout * 1000)
        self.member = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._positions: dict[TopicPartition, int] = {}
        self._returned: dict[TopicPartition, int] = {}
        self._assignment: list[TopicPartition] = []
        self._last_heartbeat = 0.0
        self._settled = False
        self._revoking: set[TopicPartition] = set()
        self._cache: dict[tuple[int, int], tuple[int, int, list[Any]]] = {}
        self._closed = False
        self._heartbeat(force=True)

    # -- membership --------------------------------------------------------------------------
    def _heartbeat(self, force: bool = False) -> None:
        """Renew membership; release partitions that moved away, claim free ones that are ours.

        A partition has at most one owner (table ``owners``): a member claims its target
        partitions only once the previous owner released them (at its next heartbeat) or
        expired, so two live members never read the same partition at once.
        """
        now = time.monotonic()
        interval = self._HEARTBEAT_S if self._settled else 0.05
        if not force and now - self._last_heartbeat < interval:
            return
        self._last_heartbeat = now
        ms = _now_ms()
        g = self.group
        with self._db.write() as c:
            c.execute("INSERT OR REPLACE INTO members VALUES(?,?,?)", (g, self.member, ms))
            c.execute("DELETE FROM members WHERE grp=? AND heartbeat_ms < ?", (g, ms - self.session_ms))
            c.execute(
                "DELETE FROM owners WHERE grp=? AND member NOT IN (SELECT member FROM members WHERE grp=?)",
                (g, g),
            )
            members = [r[0] for r in c.execute("SELECT member FROM members WHERE grp=? ORDER BY member", (g,))]
            target = set(self._target(members))
            owners = {(t, p): m for t, p, m in c.execute("SELECT topic, partition, member FROM owners WHERE grp=?", (g,))}
            # A partition moving away is released only once what was read from it is
            # committed (the next commit), so the new owner starts exactly where we stopped.
            moving = {(t, p) for (t, p), m in owners.items() if m == self.member and (t, p) not in target}
            self._revoking = {tp for tp in moving if tp in self._returned}
            release = [(g, t, p) for (t, p) in moving - self._revoking]
            c.executemany("DELETE FROM owners WHERE grp=? AND topic=? AND partition=?", release)
            claim = [(g, t, p, self.member) for (t, p) in target if (t, p) not in owners]
            c.executemany("INSERT INTO owners VALUES(?,?,?,?)", claim)
        mine = sorted((target - {tp for tp, m in owners.items() if m != self.member}) | self._revoking)
        self._settled = len(mine) == len(target) and not self._revoking
        self._apply_assignment(mine)

    def _target(self, members: list[str]) -> list[TopicPartition]:
        """Partition p of every topic -> members[p % n] (co-partitioned, deterministic)."""
        self._topics.refresh()
        me, n = members.index(self.member), len(members)
        out: list[TopicPartition] = []
        for t in self.topics:
            _, parts = self._topics.get(t)
            out += [(t, p) for p in range(parts) if p % n == me]
        return out

    def _apply_assignment(self, new: list[TopicPartition]) -> None:
        old = set(self._assignment)
        for tp in old - set(new):
            self._positions.pop(tp, None)
            self._returned.pop(tp, None)
        added = [tp for tp in new if tp not in old]
        self._assignment = new
        if added or len(new) != len(old):
            self._init_positions(added)
            logger.debug("group %s member %s owns %d partitions", self.group, self.member, len(new))

    def _init_positions(self, tps: list[TopicPartition], seek: str | None = None) -> None:
        """Set positions: an explicit seek, else the committed offset, else auto_offset_reset."""
        for t, p in tps:
            tid, _ = self._topics.get(t)
            row = self._db.query(
                "SELECT offset FROM commits WHERE grp=? AND topic=? AND partition=?", (self.group, t, p)
            )
            lo, hi = self._db.query(
                "SELECT low, high FROM partitions WHERE topic_id=? AND partition=?", (tid, p)
            )[0]
            if row and seek is None:
                pos = min(max(row[0][0], lo), hi)
            else:
                pos = lo if (seek or self.reset) in ("earliest", "beginning") else hi
            self._positions[(t, p)] = pos

    # -- consuming ---------------------------------------------------------------------------
    def poll(self, max_records: int = 5000, timeout: float = 1.0) -> list[Record]:
        deadline = time.monotonic() + timeout
        sleep = 0.002
        while True:
            self._heartbeat()
            out = self._fetch(max_records)
            if out or time.monotonic() >= deadline:
                return out
            time.sleep(min(sleep, max(0.0, deadline - time.monotonic())))
            sleep = min(sleep * 2, 0.05)

    def _fetch(self, max_records: int) -> list[Record]:
        if not self._assignment:
            return []
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
                ready.append((tid, p, tp, pos))
        if not ready:
            return []
        share = max(max_records // len(ready), 64)
        out: list[Record] = []
        for tid, p, tp, pos in ready:
            limit = min(share, max_records - len(out))
            if limit <= 0:
                break
            got = self._read_partition(tid, p, tp[0], pos, limit)
            if got:
                out.extend(got)
                nxt = got[-1].offset + 1
                self._positions[tp] = nxt
                self._returned[tp] = nxt
        return out

    def _read_partition(self, tid: int, p: int, topic: str, pos: int, limit: int) -> list[Record]:
        """Records at offsets >= pos, from the batch holding pos onwards (cached when a batch
        is read in several polls)."""
        out: list[Record] = []
        cached = self._cache.get((tid, p))
        if cached is not None and cached[0] <= pos <= cached[1]:
            batches = [cached[2]]
            last = cached[1]  # read only batches after the cached one
        else:
            batches, last = [], -1
        if not batches or cached[1] < pos + limit:  # type: ignore[index]
            rows = self._db.query(
                "SELECT base_offset, last_offset, data FROM batches WHERE topic_id=? AND partition=? "
                "AND base_offset >= coalesce((SELECT max(base_offset) FROM batches WHERE topic_id=? "
                "AND partition=? AND base_offset <= ?), 0) AND last_offset >= ? AND base_offset > ? "
                "ORDER BY base_offset LIMIT 64",
                (tid, p, tid, p, pos, pos, last),
            )
            for base, last_off, data in rows:
                decoded = _batch_decoder.decode(data)
                batches.append(decoded)
                self._cache[(tid, p)] = (base, last_off, decoded)
                if sum(map(len, batches)) >= limit + 1:
                    break
        for decoded in batches:
            for o, ts, k, v, h in decoded:
                if o < pos:
                    continue
                out.append(Record(topic, p, o, k, v, ts, tuple(h) if h else ()))
                if len(out) >= limit:
                    return out
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

    def assignment(self) -> list[TopicPartition]:
        self._heartbeat()
        return list(self._assignment)

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

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            with self._db.write() as c:
                c.execute("DELETE FROM members WHERE grp=? AND member=?", (self.group, self.member))
                c.execute("DELETE FROM owners WHERE grp=? AND member=?", (self.group, self.member))
        finally:
            self._db.close()
