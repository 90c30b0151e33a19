"""The notes stage: a consumer group of its own from ``medical-entries`` to ``processed-entries``.

Per micro-batch: decode strictly (an undecodable row, an empty entry, a missing ``patient_id``
or an unparseable timestamp → a dead letter with the reason), run the extractor once over the
batch (``nlp.pipe``), then produce one processed entry per valid entry and flush before the
offsets commit. Vitals never wait for notes: they are another group in another process.

A processed entry is the entry plus what was found in it (:func:`processed_entry`); its
``entry_id`` is derived from the entry itself (patient, timestamp as written, text), so a replay
or a restart produces the same id and every sink upserts on it.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from .. import topics as T
from ..deadletter import send_dead_letter
from ..events import InvalidEvent, decode
from ..events.notes import MedicalEntry
from ..log.base import Log, Record, TopicPartition
from ..runtime import retry_transient
from .extractor import Extraction, Extractor, shared_extractor

logger = logging.getLogger(__name__)

NOTES_GROUP = "vitalstream-notes"
VALIDATE_STAGE, EXTRACT_STAGE = "notes.validate", "notes.extract"

_enc = msgspec.json.Encoder()


class ExtractionFailed(Exception):
    """The extractor raised on an entry (the reason names the error class, never the text)."""


def entry_id(patient_id: str, timestamp: str, text: str) -> str:
    """The entry's identity: the same entry (as written) always gets the same id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{patient_id}\x1f{timestamp}\x1f{text}"))


def processed_entry(entry: MedicalEntry, found: Extraction, now: datetime) -> dict[str, Any]:
    """The document on ``processed-entries`` (issue 13's shape; ``name`` added to problems)."""
    return {
        "entry_id": entry_id(entry.patient_id, entry.timestamp, entry.medical_entry),
        "patient_id": entry.patient_id,
        "timestamp": entry.event_time.isoformat().replace("+00:00", "Z"),
        "processed_timestamp": now.isoformat().replace("+00:00", "Z"),
        "medical_entry": entry.medical_entry,
        "problems": msgspec.to_builtins(found.problems),
        "medications": msgspec.to_builtins(found.medications),
    }


class NotesStage:
    """The :class:`~vitalstream.runtime.Worker` that extracts problems and medications."""

    group = NOTES_GROUP
    topics: Sequence[str] = (T.MEDICAL_ENTRIES,)

    def __init__(self, log: Log, *, extractor: Extractor | None = None,
                 stop: threading.Event | None = None) -> None:
        self.log = log
        self.stop = stop or threading.Event()
        # The vocabularies load on the first entry (seconds), once: a stage with no notes to
        # read (most `process`/`up` runs) starts, idles and stops without paying for them.
        self._extractor = extractor
        self.producer = log.producer()
        self.stats: Counter[str] = Counter()

    def assigned(self, partitions: set[TopicPartition]) -> None:
        """Stateless: nothing to rebuild."""

    @property
    def extractor(self) -> Extractor:
        if self._extractor is None:
            self._extractor = shared_extractor()
        return self._extractor

    def process(self, records: list[Record]) -> None:
        valid: list[tuple[Record, MedicalEntry]] = []
        for r in records:
            try:
                event = decode(r.topic, r.value)
            except InvalidEvent as exc:
                self._dead(VALIDATE_STAGE, exc, r)
                continue
            assert isinstance(event, MedicalEntry)  # the codec of medical-entries
            valid.append((r, event))
        found = self._extract([e.medical_entry for _, e in valid], valid)
        now = datetime.now(UTC)
        send = self.producer.send
        for (_, entry), extraction in zip(valid, found, strict=True):
            if extraction is None:
                continue
            doc = processed_entry(entry, extraction, now)
            send(T.PROCESSED_ENTRIES, _enc.encode(doc), key=entry.patient_id.encode(),
                 timestamp_ms=int(entry.event_time.timestamp() * 1000))
            self.stats["entries"] += 1
            self.stats["problems"] += len(extraction.problems)
            self.stats["medications"] += len(extraction.medications)
        self.stats["in"] += len(records)
        retry_transient(self.producer.flush, self.stop, what="notes flush")

    def _extract(self, texts: list[str], valid: list[tuple[Record, MedicalEntry]]) -> list[Extraction | None]:
        """The whole batch in one ``nlp.pipe``; if that fails, entry by entry so only the
        entry that breaks the extractor is dead-lettered."""
        if not texts:
            return []
        extractor = self.extractor  # outside the try: an extractor that cannot load stops the stage
        try:
            return list(extractor.extract_many(texts))
        except Exception:  # a poison entry must never stop the partition
            logger.warning("extraction failed for a batch of %d; retrying entry by entry", len(texts))
        out: list[Extraction | None] = []
        for text, (r, _) in zip(texts, valid, strict=True):
            try:
                out.append(extractor.extract(text))
            except Exception as exc:
                # the exception's text may quote the note (PHI): keep only its class
                self._dead(EXTRACT_STAGE, ExtractionFailed(f"extractor failed: {type(exc).__name__}"), r)
                out.append(None)
        return out

    def _dead(self, stage: str, exc: Exception, r: Record) -> None:
        send_dead_letter(self.producer, stage, exc, r.value, record=r)
        self.stats["dead_letters"] += 1

    def close(self) -> None:
        self.producer.close()
