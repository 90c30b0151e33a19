"""Consumer-group membership on the embedded log: heartbeats, assignment, hand-over.

Members heart-beat into the ``members`` table; one whose heartbeat is older than the session
timeout is dropped. Every member derives the same assignment from the live member list:
partition ``p`` of every subscribed topic goes to ``members[p % n]`` (co-partitioned, like
Kafka's range assignor). A partition has at most one owner (table ``owners``): it is claimed
only after the previous owner released it or expired, and released only after what was read
from it is committed, so the new owner starts exactly where the old one stopped.

:class:`GroupMember` holds this state; :class:`~.consumer.EmbeddedConsumer` adds reading and
committing on top of it.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from typing import TYPE_CHECKING, Literal

from ...errors import ConfigError
from ..base import TopicPartition
from .db import Db, TopicCache, epoch_ms

if TYPE_CHECKING:
    from .admin import EmbeddedLog

logger = logging.getLogger(__name__)


class GroupMember:
    """One live member of a group: its id, heartbeat, owned partitions and their positions."""

    # Settled members heart-beat every session/10 (1 s by default), like Kafka's heartbeat
    # interval: each beat is a write every other member's poll then notices. A member waiting
    # for partitions to be released beats every 50 ms, so a hand-over stays quick.
    _HEARTBEAT_MAX_S = 1.0

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
        self._db = Db(log.path, log.sync)
        self._topics = TopicCache(self._db)
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
        self._closed = False
        # bumped whenever what a fetch would read changes locally (assignment, hand-over,
        # positions): the consumer then fetches even if no other connection wrote
        self._local_epoch = 0
        self._heartbeat(force=True)

    def _heartbeat(self, force: bool = False) -> None:
        """Renew membership; release partitions that moved away, claim free ones that are ours.

        A partition has at most one owner (table ``owners``): a member claims its target
        partitions only once the previous owner released them (at its next heartbeat) or
        expired, so two live members never read the same partition at once.
        """
        now = time.monotonic()
        interval = min(self._HEARTBEAT_MAX_S, self.session_ms / 10_000) if self._settled else 0.05
        if not force and now - self._last_heartbeat < interval:
            return
        self._last_heartbeat = now
        ms = epoch_ms()
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
            revoking = {tp for tp in moving if tp in self._returned}
            if revoking != self._revoking:
                self._local_epoch += 1
            self._revoking = revoking
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
        if new != self._assignment:
            self._local_epoch += 1
        self._assignment = new
        if added or len(new) != len(old):
            self._init_positions(added)
            logger.debug("group %s member %s owns %d partitions", self.group, self.member, len(new))

    def _init_positions(self, tps: list[TopicPartition], seek: str | None = None) -> None:
        """Set positions: an explicit seek, else the committed offset, else auto_offset_reset."""
        self._local_epoch += 1
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

    def assignment(self) -> list[TopicPartition]:
        self._heartbeat()
        return list(self._assignment)

    def close(self) -> None:
        """Leave the group now (partitions move to the other members). Does not commit."""
        if self._closed:
            return
        self._closed = True
        try:
            with self._db.write() as c:
                c.execute("DELETE FROM members WHERE grp=? AND member=?", (self.group, self.member))
                c.execute("DELETE FROM owners WHERE grp=? AND member=?", (self.group, self.member))
        finally:
            self._db.close()
