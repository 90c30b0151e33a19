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
from binascii import hexlify
from collections.abc import Callable, Iterable, Sequence
from hashlib import sha1, sha256
from typing import Any

NAMESPACE = uuid.UUID("6f1d3c52-9a57-4c1e-9a7e-3e0b6a1f5d10")
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
SCOPE_PREFIX = "vitalstream-event"  # part of the hashed name of every scoped id


def uuid5_of(namespace: uuid.UUID) -> Callable[[str], str]:
    """``lambda name: str(uuid.uuid5(namespace, name))``, several times faster (once per event).

    The hash of the namespace is taken once and copied per name: copying a hash object costs
    less than setting up a new one (about 0.15 us of ~0.9 us per id)."""
    seeded = sha1(namespace.bytes)
    copy, variant = seeded.copy, _VARIANT

    def uuid5(name: str) -> str:
        h = copy()
        h.update(name.encode())
        x = h.hexdigest()
        return f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{variant[x[16]]}{x[17:20]}-{x[20:32]}"

    return uuid5


uuid5_str = uuid5_of(NAMESPACE)
_UUID5_SEED = sha1(NAMESPACE.bytes).copy

# A run of ids is laid out as text in one pass over columns (see _uuid_texts): below this
# many ids its ~35 column copies cost more than formatting each id on its own.
MANY_MIN = 16
# hex digit -> the RFC 4122 variant digit that replaces it (its two low bits kept)
_VARIANT_BYTES = bytes(ord("89ab"[int(chr(c), 16) & 3]) if chr(c) in "0123456789abcdef" else c
                       for c in range(256))


def _uuid_texts(digests: list[bytes], version: bytes) -> list[str]:
    """The UUID texts of many digests (each >= 16 bytes, all one length) with ``version``:
    what the f-strings above give for each, built column by column in a bytearray (one
    strided copy per output column for the whole run, not five slices and a format per id)."""
    n = len(digests)
    width = 2 * len(digests[0])  # hex digits per digest
    hexes = hexlify(b"".join(digests))
    out = bytearray(b"-" * (37 * n))  # 36 characters and a newline per id
    for col in range(32):  # output column of hex digit `col`: after 0-4 dashes
        dst = col + (col >= 8) + (col >= 12) + (col >= 16) + (col >= 20)
        out[dst::37] = hexes[col::width]
    out[14::37] = version * n
    out[19::37] = hexes[16::width].translate(_VARIANT_BYTES)
    out[36::37] = b"\n" * n
    return out.decode("ascii").split("\n")[:-1]


def _digests(seed: Callable[[], Any], names: Iterable[str]) -> list[bytes]:
    """The digest of each name hashed after what ``seed`` (a hash object's ``copy``) holds."""
    digests: list[bytes] = []
    append = digests.append
    for name in names:
        h = seed()
        h.update(name.encode())
        append(h.digest())
    return digests


def uuid5_many(names: Sequence[str]) -> list[str]:
    """``[uuid5_str(name) for name in names]``, cheaper for a run (a processor batch's topic)."""
    if len(names) < MANY_MIN:
        return [uuid5_str(name) for name in names]
    return _uuid_texts(_digests(_UUID5_SEED, names), b"5")


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
    h = _SCOPED()  # sha256 of scoped_name(): its constant prefix is hashed once (see uuid5_of)
    h.update(f"{len(patient_id)}\x1f{patient_id}\x1f{client_event_id}".encode())
    x = h.hexdigest()  # uuid8_hex(x), inlined: once per smartwatch vital
    return f"{x[:8]}-{x[8:12]}-8{x[13:16]}-{_VARIANT[x[16]]}{x[17:20]}-{x[20:32]}"


_SCOPED = sha256(f"{SCOPE_PREFIX}\x1f".encode()).copy  # scoped_name()'s first part, hashed


def scoped_event_ids(patient_ids: Sequence[str], client_event_ids: Sequence[str]) -> list[str]:
    """:func:`scoped_event_id` of each pair, cheaper for a run (see :func:`uuid5_many`)."""
    if len(patient_ids) < MANY_MIN:
        return [scoped_event_id(p, c) for p, c in zip(patient_ids, client_event_ids, strict=True)]
    names = [f"{len(p)}\x1f{p}\x1f{c}" for p, c in zip(patient_ids, client_event_ids, strict=True)]
    return _uuid_texts(_digests(_SCOPED, names), b"8")  # names: scoped_name() after its prefix


def uuid8_hex(h: str) -> str:
    """A UUIDv8 text from the first 128 bits of a lowercase hex digest."""
    return f"{h[:8]}-{h[8:12]}-8{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"
