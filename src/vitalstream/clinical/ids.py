"""Deterministic identifiers: a replayed batch re-produces the same ids.

Both are UUIDv5 in the vitalstream clinical namespace over fields joined by the ASCII unit
separator (so ``("a|b", "c")`` and ``("a", "b|c")`` differ).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/vitalstream/vitalstream/clinical")
_SEP = "\x1f"


_NS = NAMESPACE.bytes


def uuid5(name: str) -> str:
    """``str(uuid.uuid5(NAMESPACE, name))``, about four times faster (it is per score)."""
    h = bytearray(hashlib.sha1(_NS + name.encode()).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50
    h[8] = (h[8] & 0x3F) | 0x80
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def alert_id(patient_id: str, rule: str, state: str, event_id: str) -> str:
    """uuid5 over (patient_id, rule, state, triggering event_id)."""
    return uuid5(_SEP.join(("alert", patient_id, rule, state, event_id)))


def score_id(patient_id: str, event_time: datetime) -> str:
    """uuid5 over (patient_id, event_time in UTC ISO-8601)."""
    return uuid5(_SEP.join(("news2", patient_id, event_time.astimezone(UTC).isoformat())))
