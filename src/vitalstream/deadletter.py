"""Dead letters: what could not be processed, kept with the reason, never lost.

A dead letter on the ``dlq-topic`` keeps the *original* key and value bytes untouched and the
original headers, plus these headers (all UTF-8):

    dlq.stage         where it failed: ingest.http | ingest.mqtt | ingest.file | process.validate | ...
    dlq.error_class   e.g. InvalidEvent, DecodeError
    dlq.reason        readable reason; names fields and allowed ranges, never PHI values
    dlq.field         the field to blame, when one is
    dlq.source_topic / dlq.source_partition / dlq.source_offset   where it came from (if it
                      came from the log; edges give the raw topic it was meant for)
    dlq.time          when it was dead-lettered (UTC ms)

It is keyed by the original key, so ``dlq replay`` can send a fixed record back to the
source topic with the same key. Operators use ``vitalstream dlq list|show|replay``.

Replay (:func:`plan_replay`) validates each entry the way the edge does for its source topic
(:func:`vitalstream.sources.ingest.check_one`) and sends only what passes, with the original key
or, for keyless edge dead letters, the key the edge gives a valid event (so it lands on the
patient's/device's partition). Each entry sent is marked on the compacted ``dlq-replayed``
topic, keyed ``<dlq-topic id>:<partition>:<offset>`` (the topic id changes when the dead-letter
topic is recreated, so a reset never makes new entries look replayed); marked entries are
skipped unless asked ``again``. Invalid entries are not sent, so they cannot come back as new
dead letters: repeated replays never multiply them.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable
from dataclasses import dataclass

import msgspec

from . import metrics
from .log.base import Headers, Log, Producer, Record
from .topics import DEAD_LETTERS, DLQ_REPLAYED

PREFIX = "dlq."


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A decoded view of one dead-letter record (for listing and replay)."""

    stage: str
    error_class: str
    reason: str
    field: str | None
    source_topic: str | None
    source_partition: int | None
    source_offset: int | None
    time_ms: int
    key: bytes | None
    value: bytes
    original_headers: Headers

    @classmethod
    def from_record(cls, r: Record) -> DeadLetter:
        h = {k: v for k, v in r.headers if k.startswith(PREFIX)}

        def text(name: str) -> str | None:
            v = h.get(PREFIX + name)
            return v.decode("utf-8", "replace") if v is not None else None

        def num(name: str) -> int | None:
            t = text(name)
            return int(t) if t else None

        return cls(
            stage=text("stage") or "",
            error_class=text("error_class") or "",
            reason=text("reason") or "",
            field=text("field"),
            source_topic=text("source_topic"),
            source_partition=num("source_partition"),
            source_offset=num("source_offset"),
            time_ms=num("time") or r.timestamp_ms,
            key=r.key,
            value=r.value,
            original_headers=tuple((k, v) for k, v in r.headers if not k.startswith(PREFIX)),
        )


def dlq_headers(
    stage: str,
    error: BaseException,
    source_topic: str | None = None,
    source_partition: int | None = None,
    source_offset: int | None = None,
    original: Headers = (),
) -> Headers:
    reason = getattr(error, "reason", None) or str(error) or type(error).__name__
    field = getattr(error, "field", None)
    extra: list[tuple[str, bytes]] = [
        (PREFIX + "stage", stage.encode()),
        (PREFIX + "error_class", type(error).__name__.encode()),
        (PREFIX + "reason", reason[:2000].encode("utf-8", "replace")),
        (PREFIX + "time", str(int(time.time() * 1000)).encode()),
    ]
    if field:
        extra.append((PREFIX + "field", str(field).encode()))
    if source_topic is not None:
        extra.append((PREFIX + "source_topic", source_topic.encode()))
    if source_partition is not None:
        extra.append((PREFIX + "source_partition", str(source_partition).encode()))
    if source_offset is not None:
        extra.append((PREFIX + "source_offset", str(source_offset).encode()))
    return tuple(h for h in original if not h[0].startswith(PREFIX)) + tuple(extra)


def send_dead_letter(
    producer: Producer,
    stage: str,
    error: BaseException,
    value: bytes,
    key: bytes | None = None,
    *,
    record: Record | None = None,
    source_topic: str | None = None,
) -> None:
    """Buffer one dead letter (the caller flushes with its batch)."""
    if record is not None:
        headers = dlq_headers(stage, error, record.topic, record.partition, record.offset, record.headers)
        key, value = record.key, record.value
    else:
        headers = dlq_headers(stage, error, source_topic)
    producer.send(DEAD_LETTERS, value, key=key, headers=headers)
    metrics.dead_letter(stage)


# -- operator views -------------------------------------------------------------------------------
_any = msgspec.json.Decoder()
_ID_FIELDS = ("event_id", "eventId", "id", "message_id", "messageId")
PREVIEW_CHARS = 80
#: header a replayed record carries: which dead letter it came from (kept if it fails again)
REPLAY_OF = "replay_of"


def as_text(data: bytes | None) -> tuple[str | None, str]:
    """``(text, "utf-8")`` when the bytes are UTF-8, else ``(base64, "base64")``."""
    if data is None:
        return None, "utf-8"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def event_id_of(value: bytes) -> str | None:
    """The event id a dead letter's payload names, if it is JSON and names one."""
    try:
        doc = _any.decode(value)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError, ValueError):
        return None
    if isinstance(doc, dict):
        for name in _ID_FIELDS:
            if isinstance(doc.get(name), str | int) and not isinstance(doc.get(name), bool):
                return str(doc[name])
    return None


def preview(value: bytes, chars: int = PREVIEW_CHARS) -> str:
    text, encoding = as_text(value)
    if encoding == "base64":
        return f"<{len(value)} bytes, not UTF-8>"
    one = " ".join((text or "").split())
    return one if len(one) <= chars else one[: chars - 1] + "\u2026"


def marker(dlq_topic_id: str, partition: int, offset: int) -> bytes:
    return f"{dlq_topic_id}:{partition}:{offset}".encode()


def replayed_markers(log: Log) -> set[bytes]:
    """Keys of the dead letters already replayed (latest marker per key; tombstones clear)."""
    from .log import read_all

    latest: dict[bytes, bool] = {}
    for r in read_all(log, [DLQ_REPLAYED], purpose="dlq-markers"):
        if r.key is not None:
            latest[r.key] = bool(r.value)
    return {k for k, live in latest.items() if live}


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    """What replay does (or, dry, would do) with one dead letter."""

    ref: str  # PARTITION:OFFSET on the dead-letter topic
    action: str  # send | invalid | skipped
    topic: str | None
    key: bytes | None
    partition: int | None
    value: bytes
    reason: str = ""
    headers: Headers = ()
    marker: bytes = b""

    def describe(self, dry_run: bool) -> str:
        if self.action == "send":
            key = self.key.decode("utf-8", "replace") if self.key else None
            where = f"key {key}" if key else f"partition {self.partition}"
            return f"{self.ref}: {'would send' if dry_run else 'sent'} to {self.topic} ({where})"
        if self.action == "invalid":
            return f"{self.ref}: still invalid for {self.topic or 'any topic'}, not sent: {self.reason}"
        return f"{self.ref}: skipped: {self.reason}"


def plan_replay(entries: Iterable[Record], dlq_topic_id: str, done: set[bytes], *,
                value: bytes | None = None, again: bool = False) -> list[ReplayOutcome]:
    """Decide, entry by entry, what a replay sends; nothing is sent here.

    ``value`` replaces the payload (a fixed record: the caller makes sure it is one entry).
    """
    from .sources.ingest import Accepted, check_one

    out: list[ReplayOutcome] = []
    for r in entries:
        d = DeadLetter.from_record(r)
        ref = f"{r.partition}:{r.offset}"
        mark = marker(dlq_topic_id, r.partition, r.offset)
        payload = d.value if value is None else value
        if mark in done and not again:
            out.append(ReplayOutcome(ref, "skipped", d.source_topic, d.key, None, payload,
                                     "replayed already (--again sends it once more)"))
            continue
        checked = check_one(0, payload, d.source_topic)
        if not isinstance(checked, Accepted):
            out.append(ReplayOutcome(ref, "invalid", checked.topic or d.source_topic, d.key, None,
                                     payload, checked.reason))
            continue
        key = d.key if d.key is not None else (checked.key.encode() or None)
        partition = d.source_partition if key is None else None
        headers = (*d.original_headers, (REPLAY_OF, mark))
        out.append(ReplayOutcome(ref, "send", checked.topic, key, partition, payload,
                                 headers=headers, marker=mark))
    return out


def send_replay(producer: Producer, outcomes: Iterable[ReplayOutcome]) -> int:
    """Send every ``send`` outcome and its marker in one batch; flush; return how many."""
    n = 0
    now = int(time.time() * 1000)
    for o in outcomes:
        if o.action != "send" or o.topic is None:
            continue
        producer.send(o.topic, o.value, key=o.key, headers=o.headers, partition=o.partition)
        producer.send(DLQ_REPLAYED, msgspec.json.encode({"to": o.topic, "at_ms": now}), key=o.marker)
        n += 1
    producer.flush()
    return n
