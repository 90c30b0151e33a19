"""Deterministic identifiers: a replayed batch re-produces the same ids.

Both are UUIDv5 in the vitalstream clinical namespace over fields joined by the ASCII unit
separator (so ``("a|b", "c")`` and ``("a", "b|c")`` differ).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from vitalstream.events.ids import uuid5_of

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/vitalstream/vitalstream/clinical")
_SEP = "\x1f"


uuid5 = uuid5_of(NAMESPACE)  # ``str(uuid.uuid5(NAMESPACE, name))``, faster (it is per score)


def alert_id(patient_id: str, rule: str, state: str, event_id: str) -> str:
    """uuid5 over (patient_id, rule, state, triggering event_id)."""
    return uuid5(_SEP.join(("alert", patient_id, rule, state, event_id)))


def score_id(patient_id: str, event_time: datetime) -> str:
    """uuid5 over (patient_id, event_time in UTC ISO-8601)."""
    return uuid5(_SEP.join(("news2", patient_id, event_time.astimezone(UTC).isoformat())))
