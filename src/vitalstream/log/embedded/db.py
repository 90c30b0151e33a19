"""SQLite plumbing of the embedded log: the URL, the connection, transactions, the schema.

* :func:`path_from_url` — ``sqlite:///PATH[?sync=normal|full]`` → database path and sync mode.
* :class:`Db` — one connection with the pragmas every handle needs (64 KiB pages for a new
  log, WAL with a checkpoint every ~16 MiB, synchronous, a long busy timeout);
  ``with db.write() as c:`` is one ``BEGIN IMMEDIATE`` transaction.
* :meth:`Db.ensure_schema` — the tables (below) and migrations of logs written by older
  versions (:func:`_add_topic_uuids`).
* :class:`TopicCache` — topic name → (id, partitions), re-read on a miss.
* The batch format (one ``batches`` row per partition per flush) is :mod:`.batches`.

Each log, producer and consumer opens its own :class:`Db`, so they can live in different
threads or processes.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ...errors import ConfigError, LogUnavailable, TopicError

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

PAGE_SIZE = 65536
CHECKPOINT_BYTES = 16 << 20  # WAL size that triggers an automatic checkpoint (see Db)


def epoch_ms() -> int:
    """Wall-clock time in milliseconds since the epoch (record timestamps, heartbeats)."""
    return int(time.time() * 1000)


def path_from_url(url: str) -> tuple[Path, str]:
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


class Db:
    """A connection with the pragmas every handle needs."""

    def __init__(self, path: Path, sync: str) -> None:
        try:
            # The log holds PHI: a directory it creates is owner-only even outside the CLI's umask.
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.conn = sqlite3.connect(
                path, timeout=60.0, isolation_level=None, check_same_thread=False
            )
            # Before WAL mode: sets the page size of a new log only (an existing one keeps its
            # own; all read the same). Batches are blobs of tens to hundreds of KB: 64 KiB pages
            # (SQLite's largest) write them with a quarter of the overflow pages, WAL frames,
            # write calls and checkpoint copies of 16 KiB ones: -0.3 CPU-µs per record written
            # (4 -> 16 KiB saved as much again); a small transaction (a commit, a heartbeat)
            # costs ~20 µs more.
            self.conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
            self.conn.execute("PRAGMA journal_mode=WAL")
            # wal_autocheckpoint counts pages: checkpoint every ~16 MiB of WAL, as SQLite's
            # default of 1,000 pages did with 16 KiB pages (4 MiB with an old log's 4 KiB).
            page = self.conn.execute("PRAGMA page_size").fetchone()[0]
            self.conn.execute(f"PRAGMA wal_autocheckpoint={min(1000, CHECKPOINT_BYTES // page)}")
            self.conn.execute(f"PRAGMA synchronous={sync.upper()}")
            self.conn.execute("PRAGMA busy_timeout=60000")
        except (sqlite3.Error, OSError) as exc:
            raise LogUnavailable(f"cannot open embedded log at {path}: {exc}") from exc
        self.lock = threading.RLock()

    def write(self) -> Tx:
        return Tx(self)

    def query(self, sql: str, args: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            return self.conn.execute(sql, args).fetchall()

    def ensure_schema(self) -> None:
        """Create missing tables; bring a log written by an older version up to date."""
        with self.lock:
            self.conn.executescript(_SCHEMA)
            _add_topic_uuids(self.conn)

    def close(self) -> None:
        with self.lock:
            self.conn.close()


class Tx:
    """``with db.write() as c:`` — one IMMEDIATE transaction (takes the write lock up front)."""

    def __init__(self, db: Db) -> None:
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


class TopicCache:
    """Topic name -> (id, partitions), re-read when a name is missing or after a change."""

    def __init__(self, db: Db) -> None:
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
