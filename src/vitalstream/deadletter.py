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
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .log.base import Headers, Producer, Record
from .topics import DEAD_LETTERS

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
            return int(t) if t not in (None, "") else None

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
