"""Records -> the JSON documents the warehouse tables load (one per table a record feeds).

A processed vital, an alert or a score loads as the record's value itself (the canonical
encoding the processor wrote: no copy, no re-encoding); reference records are validated and
re-encoded with their log time as ``updated_at``; processed clinical entries get a derived
``entry_id`` if they lack one and give one document per problem or medication mentioned;
dead letters become where-and-why documents (their payload, PHI, only when configured).
:mod:`.columns` turns a table's documents into Arrow columns.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import msgspec

from ...log.base import Record
from . import schema as S

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _reference_doc(r: Record) -> bytes | None:
    from ...events import InvalidEvent, decode

    try:
        event = decode(r.topic, r.value)
    except InvalidEvent:
        return None  # the processor dead-letters it; the warehouse keeps the last valid one
    doc = msgspec.to_builtins(event)
    doc["updated_at"] = _iso(r.timestamp_ms)
    return _enc.encode(doc)


def _entry_doc(r: Record) -> bytes | None:
    try:
        doc = _dec.decode(r.value)
    except msgspec.DecodeError:
        return None
    if not isinstance(doc, dict):
        return None
    if not isinstance(doc.get("entry_id"), str):  # entries processed before the notes stage
        # The processor stamped processed_timestamp anew on a replay; the entry itself is the key.
        ident = f"{doc.get('patient_id')}\x1f{doc.get('timestamp')}\x1f{doc.get('medical_entry')}"
        doc["entry_id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, ident))
    return _enc.encode(doc)


def mention_docs(r: Record, kind: str) -> list[bytes]:
    """One document per problem or medication of a processed entry (with its entry's keys)."""
    try:
        doc = _dec.decode(r.value)
    except msgspec.DecodeError:
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("entry_id"), str):
        return []
    mentions = doc.get(kind)
    common = {"entry_id": doc["entry_id"], "patient_id": doc.get("patient_id"), "timestamp": doc.get("timestamp")}
    return [_enc.encode({**m, **common}) for m in mentions if isinstance(m, dict)] if isinstance(mentions, list) else []


def _deadletter_doc(r: Record, payload: bool = False) -> bytes:
    """Where and why a record failed; its key and value (PHI) only if ``payload``."""
    from ...deadletter import DeadLetter

    d = DeadLetter.from_record(r)
    value = value_b64 = key = None
    if payload:
        try:
            value = d.value.decode("utf-8")
            if "\x00" in value:
                raise UnicodeDecodeError("utf-8", b"", 0, 1, "NUL")
        except UnicodeDecodeError:
            value, value_b64 = None, base64.b64encode(d.value).decode("ascii")
        key = d.key.decode("utf-8", "replace").replace("\x00", "") if d.key is not None else None
    return _enc.encode({
        "dlq_partition": r.partition, "dlq_offset": r.offset, "stage": d.stage,
        "error_class": d.error_class, "reason": d.reason, "field": d.field,
        "source_topic": d.source_topic, "source_partition": d.source_partition,
        "source_offset": d.source_offset, "dead_lettered_at": _iso(d.time_ms),
        "key": key, "value": value, "value_base64": value_b64,
    })


def document(table: S.Table, r: Record, dead_letter_payloads: bool = False) -> bytes | None:
    """The JSON document a record loads as, or None for a record that cannot load."""
    if table.prepare == "raw":
        return r.value
    if table.prepare == "reference":
        return _reference_doc(r)
    if table.prepare == "entry":
        return _entry_doc(r)
    return _deadletter_doc(r, dead_letter_payloads)
