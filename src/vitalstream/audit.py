"""The audit trail: who read or exported which patient's data, and when.

Append-only by construction: each entry is one record on the log topic ``audit-log``, which is
never compacted and never expires, so an entry cannot be edited or deleted through vitalstream,
and it survives on Kafka exactly as on the embedded log. Every reader of patient data (the
dashboard and its API, ``fhir export``, ``extract``, reports) calls :func:`record` *before* it
returns the data, and ``record`` returns only once the entry is durable (flushed).

    from vitalstream.audit import record, entries
    record(log, actor="alice", role="clinician", action="read", subject="patient:P001")
    for e in entries(log, subject="patient:P001"):
        print(e.at, e.actor, e.action)

An entry names the patient (that is its purpose) but never carries vital values or note text.
``vitalstream audit list`` shows the trail to an administrator.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

import msgspec

from . import topics as T
from .errors import ConfigError
from .log import Log, read_all

#: What an entry says was done. Readers of patient data use ``read``; bulk outputs ``export``.
ACTIONS = ("read", "export", "acknowledge", "login", "login-failed", "admin")


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One audited action. ``subject`` names what was touched: ``patient:<id>``,
    ``report:<name>``, ``export:<kind>``, ``alert:<id>``; ``detail`` holds counts and filters,
    never PHI values."""

    entry_id: str
    at: str  # UTC ISO-8601 with "Z"
    actor: str
    role: str
    action: str
    subject: str
    detail: dict[str, str] = {}


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AuditEntry)


def record(log: Log, *, actor: str, action: str, subject: str, role: str = "",
           detail: Mapping[str, object] | None = None, at: datetime | None = None) -> AuditEntry:
    """Append one entry and return it once it is durable. ``action`` must be one of
    :data:`ACTIONS`; ``detail`` values are stored as strings."""
    if action not in ACTIONS:
        raise ConfigError(f"audit action {action!r}: choose from {', '.join(ACTIONS)}")
    when = (at or datetime.now(UTC)).astimezone(UTC)
    entry = AuditEntry(
        entry_id=str(uuid.uuid4()), at=when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        actor=actor, role=role, action=action, subject=subject,
        detail={k: str(v) for k, v in (detail or {}).items()},
    )
    T.ensure(log, [T.AUDIT])
    with log.producer() as p:
        p.send(T.AUDIT, _encoder.encode(entry), key=actor.encode(),
               timestamp_ms=int(when.timestamp() * 1000))
        p.flush()
    return entry


def entries(log: Log, *, actor: str | None = None, subject: str | None = None,
            action: str | None = None, since: datetime | None = None) -> Iterator[AuditEntry]:
    """Every entry matching the filters, oldest first."""
    T.ensure(log, [T.AUDIT])
    cutoff = since.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z") if since else ""
    found = [_decoder.decode(r.value) for r in read_all(log, [T.AUDIT], purpose="audit")]
    for e in sorted(found, key=lambda e: (e.at, e.entry_id)):
        if ((actor is None or e.actor == actor) and (subject is None or e.subject == subject)
                and (action is None or e.action == action) and e.at >= cutoff):
            yield e


__all__ = ["ACTIONS", "AuditEntry", "entries", "record"]
