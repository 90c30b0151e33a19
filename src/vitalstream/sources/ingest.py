"""What every edge does with incoming bytes: split, route, validate, key — or reject.

An edge turns a body (HTTP), a message (MQTT) or a line (files) into *raw events*, then
:func:`check` turns each one into an :class:`Accepted` record for its raw topic or a
:class:`Rejected` input that will become a dead letter. No exception escapes for bad data.

Bodies (:func:`split_body`): one JSON value, a JSON array of events, or NDJSON (one event per
non-empty line). The index of an event is its position in the array or among the non-empty
lines, counted from 0. A body that is not valid JSON as a whole and has a single line is one
malformed event.

Nesting is limited to :data:`MAX_JSON_DEPTH` levels per event, checked on the bytes before
any decoder recurses into them: deeper input is one rejected event ("nested deeper than"),
never a ``RecursionError``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from .. import metrics
from ..deadletter import dlq_headers
from ..errors import InvalidData
from ..events import InvalidEvent, decode, key_of
from ..log.base import Headers
from ..topics import DEAD_LETTERS
from .routing import Unroutable, route

_raw_array = msgspec.json.Decoder(list[msgspec.Raw])
_raw_value = msgspec.json.Decoder(msgspec.Raw)
_any_value = msgspec.json.Decoder()

#: Deepest JSON nesting an event may have (the event object is level 1). Every event shape
#: needs at most 3; decoders recurse once per level, so deeper input is refused up front.
MAX_JSON_DEPTH = 32

_ESCAPE = re.compile(rb"\\.", re.S)
_STRING = re.compile(rb'"[^"]*"')
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_PAIR = re.compile(rb"\[\]|\{\}")


def nesting_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``raw`` nests arrays/objects deeper than ``limit`` levels (or is a long run
    of unclosed ones). Linear in the size for ordinary input; a few regex passes at most."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # the common case: too few brackets to be that deep
    # Brackets only, outside strings (escapes first, so an escaped quote ends nothing).
    s = _STRING.sub(b"", _ESCAPE.sub(b"", raw)).translate(None, _NOT_BRACKET)
    run = re.compile(rb"[\[{]{%d}" % (limit + 1))
    for _ in range(limit):
        if run.search(s):
            return True  # limit+1 openers in a row
        reduced = _PAIR.sub(b"", s)  # each pass removes the innermost level
        if len(reduced) == len(s):
            return False  # only unbalanced leftovers: malformed, and the decoder says so
        s = reduced
        if not s:
            return False
    return bool(_PAIR.search(s)) or len(s) > limit


#: (topic, value, key, headers): what a writer sends to the log.
OutRecord = tuple[str, bytes, bytes | None, Headers]


@dataclass(frozen=True, slots=True)
class Accepted:
    topic: str
    key: str
    value: bytes


@dataclass(frozen=True, slots=True)
class Rejected:
    """A bad input: ``reason`` names fields and rules, never values (no PHI)."""

    index: int
    reason: str
    error_class: str
    field: str | None
    topic: str | None  # the raw topic it was meant for, if that could be told
    value: bytes

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "reason": self.reason}
        if self.field:
            out["field"] = self.field
        if self.topic:
            out["topic"] = self.topic
        return out


class _Malformed(InvalidData):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field: str | None = None


_NDJSON_TYPES = ("ndjson", "jsonl", "json-seq", "jsonlines")


def split_body(body: bytes, content_type: str | None = None) -> list[bytes]:
    """Raw events of a body: JSON array elements, one JSON value, or NDJSON lines."""
    text = body.strip()
    if not text:
        return []
    ndjson = content_type is not None and any(t in content_type.lower() for t in _NDJSON_TYPES)
    if not ndjson:
        # A RecursionError means nesting far too deep: one event, which check() rejects.
        if text[:1] == b"[":
            try:
                return [bytes(r) for r in _raw_array.decode(text)]
            except RecursionError:
                return [text]
            except msgspec.DecodeError:
                pass
        else:
            try:
                _raw_value.decode(text)
                return [text]
            except RecursionError:
                return [text]
            except msgspec.DecodeError:
                pass
        if b"\n" not in text:
            return [text]  # one malformed value: check() says why
    return [line for line in (raw.strip() for raw in text.split(b"\n")) if line]


def check_one(index: int, raw: bytes, topic: str | None = None) -> Accepted | Rejected:
    """Validate one raw event; ``topic=None`` routes it by shape."""
    target = topic
    try:
        if nesting_exceeds(raw):
            raise _Malformed(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        if target is None:
            try:
                parsed = _any_value.decode(raw)
            except msgspec.DecodeError as exc:
                raise _Malformed(f"not valid JSON: {exc}") from None
            except (UnicodeDecodeError, RecursionError, ValueError) as exc:
                raise _Malformed(f"not valid JSON ({type(exc).__name__})") from None
            target = route(parsed)
        event = decode(target, raw)
        return Accepted(target, key_of(target, event), raw)
    except (InvalidEvent, Unroutable, _Malformed) as exc:
        name = "DecodeError" if isinstance(exc, _Malformed) else type(exc).__name__
        return Rejected(index, exc.reason, name, exc.field, target, raw)


def check(raws: Sequence[bytes], topic: str | None = None) -> tuple[list[Accepted], list[Rejected]]:
    accepted: list[Accepted] = []
    rejected: list[Rejected] = []
    for i, raw in enumerate(raws):
        result = check_one(i, raw, topic)
        if isinstance(result, Accepted):
            accepted.append(result)
        else:
            rejected.append(result)
    return accepted, rejected


class _Reason(InvalidData):
    """Carries a Rejected's reason/field into :func:`dlq_headers` under its error class."""

    def __init__(self, reason: str, field: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


@functools.lru_cache(maxsize=64)
def _reason_class(name: str) -> type[_Reason]:
    return type(name, (_Reason,), {})


def dead_letter_record(stage: str, rejected: Rejected, key: bytes | None = None,
                       original: Headers = ()) -> OutRecord:
    """The dead letter for a rejected input (same headers as :func:`send_dead_letter`);
    ``original`` headers say where it came from (e.g. file and line)."""
    err = _reason_class(rejected.error_class)(rejected.reason, rejected.field)
    metrics.dead_letter(stage)
    return (DEAD_LETTERS, rejected.value, key,
            dlq_headers(stage, err, rejected.topic, original=original))


def records(stage: str, accepted: Iterable[Accepted], rejected: Iterable[Rejected]) -> list[OutRecord]:
    """Everything one request/message batch writes: valid events, then dead letters."""
    out: list[OutRecord] = [(a.topic, a.value, a.key.encode(), ()) for a in accepted]
    out += [dead_letter_record(stage, r) for r in rejected]
    return out
