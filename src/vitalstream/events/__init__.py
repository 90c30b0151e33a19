"""The event model: strict typed schemas for every source, and their canonical form.

The processor and the HTTP/MQTT edges call exactly this API::

    event = decode(topic, value)        # typed struct, or InvalidEvent with a reason
    vitals = normalise(topic, event)    # raw vital topics -> canonical Vital records
    key = key_of(topic, event)          # the partition key

``decode`` raises only :class:`InvalidEvent` (non-JSON, wrong types, missing fields, unknown
``data_type``, physiologically impossible values, unknown topic).
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from .canonical import Alert, News2Score, ProcessedVital, Vital
from .invalid import InvalidEvent
from .registry import CODECS
from .schemas import SCHEMAS, export_json_schemas

__all__ = [
    "SCHEMAS", "VITAL_TOPICS", "Alert", "InvalidEvent", "News2Score", "ProcessedVital",
    "Vital", "decode", "decode_batch", "export_json_schemas", "key_of", "normalise",
]

VITAL_TOPICS: tuple[str, ...] = tuple(name for name, c in CODECS.items() if c.normalise)

_ERRORS = (msgspec.DecodeError, ValueError, TypeError, UnicodeDecodeError, RecursionError,
           OverflowError)


_DECODERS = {name: codec.decode for name, codec in CODECS.items()}


def decode(topic: str, value: bytes) -> msgspec.Struct:
    """Decode and validate one message value of ``topic``; raise :class:`InvalidEvent`."""
    try:
        return _DECODERS[topic](value)
    except KeyError:
        if topic not in _DECODERS:
            raise InvalidEvent(f"unknown topic {topic!r}: no schema for it") from None
        raise InvalidEvent(f"{topic}: malformed value (KeyError)") from None
    except msgspec.ValidationError as exc:
        raise InvalidEvent.from_validation(topic, str(exc)) from None
    except InvalidEvent:
        raise
    except _ERRORS as exc:
        if value is None or len(value) == 0:
            raise InvalidEvent(f"{topic}: empty value") from None
        raise InvalidEvent.from_validation(topic, _describe(exc)) from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, msgspec.DecodeError):
        return str(exc)
    if isinstance(exc, UnicodeDecodeError):
        return "value is not UTF-8 text"
    if isinstance(exc, ValueError):
        return str(exc)
    return f"malformed value ({type(exc).__name__})"


def decode_batch(
    topic: str, values: Iterable[bytes]
) -> list[msgspec.Struct | InvalidEvent]:
    """Decode many values of one topic; failures come back in place as InvalidEvent."""
    out: list[msgspec.Struct | InvalidEvent] = []
    append = out.append
    decoder = _DECODERS.get(topic)
    for value in values:
        if decoder is not None:
            try:
                append(decoder(value))
                continue
            except _ERRORS:
                pass
        try:
            append(decode(topic, value))
        except InvalidEvent as exc:
            append(exc)
    return out


def normalise(topic: str, event: msgspec.Struct) -> list[Vital]:
    """Canonical :class:`Vital` records for an event of a raw vital topic.

    Smartwatch vitals give one Vital per event (with its ``event_id``); the device gateway one
    combined Vital with the device id; the heart-rate stream the flattened meta; smartwatch
    events either variant, ``patient_id`` = device id (the processor maps device -> user). Other topics raise ``ValueError``.
    """
    codec = CODECS.get(topic)
    if codec is None or codec.normalise is None:
        raise ValueError(f"{topic!r} is not a raw vital topic; vital topics: {VITAL_TOPICS}")
    return codec.normalise(topic, (event,))


def key_of(topic: str, event: msgspec.Struct) -> str:
    """The partition key of a decoded event (patient_id, deviceId, user_id, device_id, ...)."""
    codec = CODECS.get(topic)
    if codec is None:
        raise ValueError(f"unknown topic {topic!r}")
    return codec.key(event)
