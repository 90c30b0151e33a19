"""Feeding the live board from the log, never from the warehouse sink's tables.

At start the board is seeded from the warehouse (each patient's newest readings, current
NEWS2, the last day's alert transitions) and from every acknowledgement on ``alert-acks``.
Then a consumer group of the dashboard's own reads processed vitals, ``news2-scores``,
``alerts`` and ``alert-acks`` from their end, so the board stays live on Kafka too and never
competes with the sinks. The group is private to this process (``vitalstream-private-…``):
every dashboard process sees every partition, commits nothing, and leaves no lag behind for
``up --until-idle`` to wait on. Records the log took between the warehouse seed and the
group's start show up with the patient's next reading.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import msgspec

from .. import topics as T
from ..errors import TransientError
from ..log import Log, private_group, read_all
from ..log.base import TopicPartition
from .board import Board
from .history import History

logger = logging.getLogger(__name__)

VITAL_TOPICS = tuple(t.name for t in T.CATALOGUE if t.role == "processed")
FEED_TOPICS = (*VITAL_TOPICS, T.NEWS2, T.ALERTS, T.ALERT_ACKS)
_enc = msgspec.json.Encoder()


def seed(board: Board, log: Log, history: History | None) -> None:
    """Fill the board from the warehouse and the acknowledgements (best effort: a warehouse
    that is empty or down leaves the board to the live feed)."""
    if history is not None:
        try:
            for row in history.latest_vitals():
                board.apply(T.PROCESSED_HEART_RATE, _enc.encode(row))
            for row in history.current_news2():
                board.apply(T.NEWS2, _enc.encode(row))
            for row in history.open_alerts(datetime.now(UTC) - timedelta(days=1)):
                board.apply(T.ALERTS, _enc.encode(row))
        except Exception as exc:  # the live feed still works without history
            logger.warning("dashboard: board not seeded from the warehouse (%s)", type(exc).__name__)
    T.ensure(log, [T.ALERT_ACKS])
    for r in read_all(log, [T.ALERT_ACKS], purpose="dashboard-acks"):
        board.apply(T.ALERT_ACKS, r.value)


class Feed:
    """The consumer thread. ``ready`` is set once the group owns its partitions."""

    def __init__(self, log: Log, board: Board, stop: threading.Event) -> None:
        self.log = log
        self.board = board
        self.stop = stop
        self.ready = threading.Event()
        self.error = ""
        self.thread = threading.Thread(target=self._run, name="dashboard-feed", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        delay = 0.2
        while not self.stop.is_set():
            try:
                self._consume()
            except TransientError as exc:
                self.error = str(exc)
                self.ready.clear()
                logger.warning("dashboard feed: %s; retrying in %.1fs", exc, delay)
                self.stop.wait(delay)
                delay = min(delay * 2, 10.0)

    def _consume(self) -> None:
        T.ensure(self.log, FEED_TOPICS)
        expected = sum(len(self.log.describe_topic(t).partitions) for t in FEED_TOPICS)
        with self.log.consumer(private_group("dashboard"), list(FEED_TOPICS), auto_offset_reset="latest") as c:
            owned: set[TopicPartition] = set()
            while not self.stop.is_set():
                records = c.poll(max_records=5000, timeout=0.2)
                if not self.ready.is_set():
                    owned = set(c.assignment())
                    if len(owned) >= expected:
                        self.error = ""
                        self.ready.set()
                for r in records:
                    self.board.apply(r.topic, r.value)
