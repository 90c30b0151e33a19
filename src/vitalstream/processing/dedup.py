"""Recently seen events, bounded: an exact repeat is dropped, a conflicting one dead-lettered.

An event's identity is its ``event_id``, which always includes its source (see
:class:`~vitalstream.events.Vital`). With each identity a fingerprint of the normalised
content is remembered:

* the same identity with the same content is a re-delivery (a client retry, a replayed
  batch): dropped and counted, as it always was;
* the same identity with *different* content is a **conflicting duplicate**: the first reading
  stands (clinical rules and sinks never see the second) and the second becomes a dead letter
  with reason ``conflicting duplicate``, for an operator to look at. A device that corrects a
  value sends it as a new event (a new ``event_id``).

Memory is two generations of dicts: when the young one fills up it becomes the old one and the
previous old one is forgotten, so at least ``capacity`` identities are remembered and a lookup
is two dict probes. The memory is the processor's own and starts empty after a restart; the
warehouse keeps the first row of an identity in any case (vital tables never update a row).
"""

from __future__ import annotations

import enum

import msgspec

from ..events.canonical import Vital
from ..events.invalid import InvalidEvent

CONFLICT_STAGE = "process.dedup"
_enc = msgspec.json.Encoder()


class Seen(enum.Enum):
    NEW = "new"
    REPEAT = "repeat"  # same identity, same content: a re-delivery
    CONFLICT = "conflict"  # same identity, different content


class ConflictingDuplicate(InvalidEvent):
    """An event reuses an identity already seen with different content (no values in the reason)."""

    def __init__(self) -> None:
        super().__init__("conflicting duplicate", field="event_id")


class RecentEvents:
    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = max(1, capacity)
        self._young: dict[str, int] = {}
        self._old: dict[str, int] = {}
        self.duplicates = 0
        self.conflicts = 0

    def check(self, vital: Vital) -> Seen:
        """Classify ``vital`` against the recent ones (and remember it if it is new)."""
        return self.check_encoded(vital.event_id, _enc.encode(vital))

    def check_encoded(self, key: str, encoded: bytes) -> Seen:
        """:meth:`check` for a Vital's identity and its JSON (which the processor has anyway).

        The fingerprint is the whole normalised reading (time, values, units) as canonical
        JSON, not the client's bytes: the same reading sent with other spacing or key order
        is a repeat."""
        # Hot (once per vital): the new case first, with no attribute or enum lookups it
        # does not need (Enum member access costs ~4x a plain class attribute).
        young = self._young
        known = young.get(key)
        if known is None:
            known = self._old.get(key)
            if known is None:
                young[key] = hash(encoded)
                if len(young) >= self.capacity:
                    self._old, self._young = young, {}
                return NEW
        if known == hash(encoded):
            self.duplicates += 1
            return REPEAT
        self.conflicts += 1
        return CONFLICT


NEW, REPEAT, CONFLICT = Seen.NEW, Seen.REPEAT, Seen.CONFLICT  # module constants: cheap to read
