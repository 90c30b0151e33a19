"""The ``fhir-observations`` topic: every processed reading and NEWS2 score as FHIR R4 JSON.

Opt-in (``fhir.stream = true``, env ``VITALSTREAM_FHIR_STREAM=true``; or run it alone with
``vitalstream sink fhir-observations``), for an integration engine that consumes FHIR from
Kafka. A sink like the others: it reads the processed vital topics and ``news2-scores``, and a
batch's Observations are flushed to the topic before the offsets are committed. A replayed batch
re-sends Observations with the same ids (consumers upsert by id). Each record's key is the
Patient reference, so one patient's Observations stay in order on one partition.

Unlike ``fhir export`` the stream has no daily step totals (they need the whole day) and no
Patient/Device resources (they would repeat with every reading); both come from the export.
A record that cannot be turned into FHIR goes to the dead-letter topic.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import msgspec

from .. import topics as T
from ..deadletter import send_dead_letter
from ..log.base import Log, Record
from ..sinks.base import Sink
from . import resources as R

logger = logging.getLogger(__name__)

GROUP = "vitalstream-fhir-observations"
STAGE = "fhir.stream"
_decode = msgspec.json.Decoder()


def stream_topics() -> tuple[str, ...]:
    """The processed vital topics (those that land in a vital table) and the NEWS2 scores."""
    return (*(t.name for t in T.CATALOGUE if t.role == "processed"), T.NEWS2)


class FhirObservationSink(Sink):
    group = GROUP

    def __init__(self, log: Log, subjects: R.Subjects, topics: Sequence[str] | None = None) -> None:
        self.log = log
        self.subjects = subjects
        self.topics = tuple(topics or stream_topics())
        self._producer = log.producer()
        self.sent = 0

    def observations(self, record: Record) -> list[R.Resource]:
        value: dict[str, Any] = _decode.decode(record.value)
        if record.topic == T.NEWS2:
            return [R.news2_observation(value, self.subjects)]
        return R.vital_observations(value, self.subjects)

    def write(self, records: list[Record]) -> None:
        for r in records:
            try:
                found = self.observations(r)
            except (msgspec.DecodeError, KeyError, TypeError, ValueError) as exc:
                send_dead_letter(self._producer, STAGE, exc, r.value, record=r)
                continue
            for obs in found:
                key = obs["subject"]["reference"].encode()
                self._producer.send(T.FHIR_OBSERVATIONS, json.dumps(obs, separators=(",", ":")).encode(),
                                    key=key, timestamp_ms=r.timestamp_ms)
                self.sent += 1
        self._producer.flush()  # durable before the loop commits the batch's offsets

    def close(self) -> None:
        self._producer.close()


__all__ = ["GROUP", "FhirObservationSink", "stream_topics"]
