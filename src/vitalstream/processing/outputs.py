"""The processed records of one micro-batch, built as bytes and sent with one call per topic.

A processed record is the canonical Vital's JSON with the extra
:class:`~vitalstream.events.ProcessedVital` fields spliced in before the closing brace:
``original_timestamp`` (cached per distinct source timestamp: many devices share a tick), then
``data_type`` and ``processed_timestamp`` (one suffix per data type per batch), then the
patient's metadata fragment. Records are collected per topic as ``(key, value, timestamp)``
rows and handed to :meth:`~vitalstream.log.base.Producer.send_batch` once per topic.

A device-gateway message becomes one record on each of the four decomposed device topics
(the device gateway's contract, kept by the warehouse's ``*_device`` tables). The combined
Vital is encoded once and each part is cut from it: in a Vital's JSON the five measures sit
together, in field order, between ``event_time`` and ``device_id``, and ``,"`` never occurs
inside a JSON string (a quote in a string is escaped), so the cut is exact. Anything else
takes the struct-by-struct path (:func:`device_part`), which is what the cut must equal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

from .. import topics as T
from ..events.canonical import Vital

# device gateway: one combined message -> one record per measured vital, keyed by device id.
DEVICE_PARTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (T.BP_DEVICE, "blood_pressure", ("systolic", "diastolic")),
    (T.HR_DEVICE, "heart_rate", ("heart_rate",)),
    (T.SPO2_DEVICE, "oxygen_saturation", ("spo2",)),
    (T.TEMP_DEVICE, "temperature", ("temperature_c",)),
)
MEASURES = ("heart_rate", "spo2", "systolic", "diastolic", "temperature_c")
# which of the five cut measures (in MEASURES order) each device part keeps
_PART_MEASURES = tuple(tuple(MEASURES.index(f) for f in fields) for _, _, fields in DEVICE_PARTS)
_FIRST, _AFTER = b',"heart_rate":', b',"device_id":'
# BatchOutputs.device is unrolled for exactly these parts in this order (checked at import,
# also under python -O)
if _PART_MEASURES != ((2, 3), (0,), (1,), (4,)):
    raise RuntimeError("DEVICE_PARTS changed: update BatchOutputs.device, which is unrolled over it")

_enc = msgspec.json.Encoder()

Row = tuple[bytes | None, bytes, int]
_HAS_TIMESTAMP: dict[type, bool] = {}  # event type -> can its events have a `timestamp`


def original_timestamp(event: Any) -> Any:
    """The event's time exactly as its source sent it (``timestamp`` or ``date``)."""
    value = getattr(event, "timestamp", None)
    return getattr(event, "date", None) if value is None else value


def device_part(v: Vital, fields: tuple[str, ...]) -> bytes:
    """The JSON of ``v`` with only ``fields`` of the five measures (the reference for the cut)."""
    return _enc.encode(msgspec.structs.replace(v, **{f: None for f in MEASURES if f not in fields}))


class BatchOutputs:
    """Rows per topic for one batch, with the bytes that many records share computed once."""

    def __init__(self, now: datetime) -> None:
        self.processed = _enc.encode(now)
        self.rows: dict[str, list[Row]] = {}
        self._suffix: dict[str, bytes] = {}
        self._times: dict[Any, bytes] = {}
        self._ms: dict[datetime, int] = {}
        self._device = [(topic, self.rows.setdefault(topic, []), self.suffix(data_type) + b"}", keep)
                        for (topic, data_type, _), keep in zip(DEVICE_PARTS, _PART_MEASURES, strict=True)]

    def suffix(self, data_type: str) -> bytes:
        s = self._suffix.get(data_type)
        if s is None:
            s = self._suffix[data_type] = b',"data_type":"' + data_type.encode() + b'","processed_timestamp":' + self.processed
        return s

    def original(self, value: Any) -> bytes:
        b = self._times.get(value)
        if b is None:
            text = value.isoformat() if isinstance(value, datetime) else str(value)
            b = self._times[value] = b',"original_timestamp":' + _enc.encode(text)
        return b

    def millis(self, t: datetime) -> int:
        ms = self._ms.get(t)
        if ms is None:
            ms = self._ms[t] = int(t.timestamp() * 1000)
        return ms

    def writer(self, topic: str, data_type: str) -> Callable[[bytes | None, Any, Vital, bytes, bytes], None]:
        """The function that adds one processed record of a vital (``v``, whose JSON is ``body``)
        on ``topic``, with the topic's rows, suffix and the batch's caches bound: it is called
        once per vital, so no method calls inside."""
        rows = self.rows.get(topic)
        if rows is None:
            rows = self.rows[topic] = []
        append, suffix, times, ms_of, join = rows.append, self.suffix(data_type), self._times, self._ms, b"".join
        original, millis, has_stamp = self.original, self.millis, _HAS_TIMESTAMP

        def add(key: bytes | None, event: Any, v: Vital, body: bytes, fragment: bytes) -> None:
            # original_timestamp(), inlined; a getattr that misses raises and catches an
            # AttributeError inside (~0.3 us), so struct types without ``timestamp`` skip it
            kind = type(event)
            stamped = has_stamp.get(kind)
            if stamped is None:
                stamped = has_stamp[kind] = hasattr(kind, "timestamp") or not isinstance(event, msgspec.Struct)
            value = getattr(event, "timestamp", None) if stamped else None
            if value is None:
                value = getattr(event, "date", None)
            head = times.get(value)
            if head is None:
                head = original(value)
            t = v.event_time
            ms = ms_of.get(t)
            if ms is None:
                ms = millis(t)
            append((key, join((body[:-1], head, suffix, fragment, b"}")), ms))

        return add

    def device(self, key: bytes | None, event: Any, v: Vital, full: bytes) -> None:
        """One record per measure (of ``v``, whose JSON is ``full``) on the four device topics
        (see the module doc)."""
        value = original_timestamp(event)
        original = self._times.get(value)
        if original is None:
            original = self.original(value)
        t = v.event_time
        ms = self._ms.get(t)
        if ms is None:
            ms = self.millis(t)
        i = full.find(_FIRST)
        j = full.find(_AFTER, i + 1)
        measures = full[i + 1:j].split(b",") if i > 0 and j > 0 else ()
        if len(measures) == 5:
            # unrolled over _PART_MEASURES (checked at import): this runs for every gateway message
            hr, spo2, systolic, diastolic, temperature = measures
            head, tail = full[:i] + b",", full[j:-1] + original
            (_, bp, bp_end, _), (_, hrs, hr_end, _), (_, sp, sp_end, _), (_, tc, tc_end, _) = self._device
            join = b"".join
            bp.append((key, join((head, systolic, b",", diastolic, tail, bp_end)), ms))
            hrs.append((key, join((head, hr, tail, hr_end)), ms))
            sp.append((key, join((head, spo2, tail, sp_end)), ms))
            tc.append((key, join((head, temperature, tail, tc_end)), ms))
            return
        for (_, _, fields), (_, rows, suffix, _) in zip(DEVICE_PARTS, self._device, strict=True):
            if getattr(v, fields[0]) is None:
                continue
            rows.append((key, device_part(v, fields)[:-1] + original + suffix, ms))

    def send(self, producer: Any) -> int:
        """Buffer every row on ``producer`` (one call per topic); returns how many."""
        n = 0
        for topic, rows in self.rows.items():
            if rows:
                producer.send_batch(topic, rows)
                n += len(rows)
        return n
