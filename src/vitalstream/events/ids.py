"""Deterministic event ids.

Sources that send no id (device gateway, heart-rate stream, smartwatch events) get a UUIDv5
over ``topic \\x1f key \\x1f time_ms \\x1f values...``, so a replayed message gets the same id
(the warehouse upsert keeps one row) while two different readings in the same millisecond do
not collide. Computed by hand: the result equals ``str(uuid.uuid5(NAMESPACE, name))`` at a
fraction of its cost.

A client-supplied ``event_id`` (smartwatch vitals) is *not* an identity on its own: any client
could reuse another patient's id. :func:`scoped_event_id` scopes it to the patient the event is
about, so the stored key of one patient can never be reached by an event of another.
"""

from __future__ import annotations

import uuid
from hashlib import sha1, sha256

NAMESPACE = uuid.UUID("6f1d3c52-9a57-4c1e-9a7e-3e0b6a1f5d10")
_NS = NAMESPACE.bytes
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
SCOPE_PREFIX = "vitalstream-event"  # part of the hashed name of every scoped id


def uuid5_str(name: str) -> str:
    h = sha1(_NS + name.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def derive_event_id(topic: str, key: str, time_ms: int, *values: object) -> str:
    return uuid5_str("\x1f".join((topic, key, str(time_ms), *map(str, values))))


def scoped_name(patient_id: str, client_event_id: str) -> str:
    """The hashed name: the patient id is length-prefixed, so no pair of ids can forge another
    pair by moving a separator from one into the other."""
    return f"{SCOPE_PREFIX}\x1f{len(patient_id)}\x1f{patient_id}\x1f{client_event_id}"


def scoped_event_id(patient_id: str, client_event_id: str) -> str:
    """The stored identity of a client-identified event: a UUIDv8 (RFC 9562) over SHA-256 of
    :func:`scoped_name`. SHA-256 rather than UUIDv5's SHA-1 because both warehouses compute
    it in plain SQL (the identity migration rewrites old rows to the same ids)."""
    return uuid8_hex(sha256(scoped_name(patient_id, client_event_id).encode()).hexdigest())


def uuid8_hex(h: str) -> str:
    """A UUIDv8 text from the first 128 bits of a lowercase hex digest."""
    return f"{h[:8]}-{h[8:12]}-8{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"
