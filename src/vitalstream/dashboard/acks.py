"""Acknowledging an alert: an append-only record on ``alert-acks`` plus an audit entry.

An acknowledgement is never edited or deleted: the topic never expires and is not compacted,
so a later acknowledgement adds a record, it does not replace one. The board shows the
newest acknowledgement of the current episode (:mod:`.board`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

from .. import topics as T
from .accounts import User
from .context import Context


class NotFound(LookupError):
    pass


def find_alert(ctx: Context, alert_id: str) -> dict[str, Any]:
    for row in ctx.board.rows():
        for a in row["alerts"]:
            if a["alert_id"] == alert_id:
                return {"alert_id": alert_id, "patient_id": row["patient_id"], "rule": a["rule"]}
    if ctx.history is not None:
        rows = ctx.history.reader.rows("SELECT alert_id, patient_id, rule FROM alerts WHERE alert_id = ?", [alert_id])
        if rows:
            return rows[0]
    raise NotFound(alert_id)


def acknowledge(ctx: Context, user: User, alert_id: str, note: str = "") -> dict[str, Any]:
    alert = find_alert(ctx, alert_id)
    at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    ack = {"ack_id": str(uuid.uuid4()), "alert_id": alert_id, "patient_id": alert["patient_id"],
           "rule": alert["rule"], "by": user.name, "role": user.role, "at": at, "note": note[:500]}
    ctx.audit(user, f"alert:{alert_id}", action="acknowledge", patient=alert["patient_id"], rule=alert["rule"])
    T.ensure(ctx.log, [T.ALERT_ACKS])
    with ctx.log.producer() as p:
        p.send(T.ALERT_ACKS, msgspec.json.encode(ack), key=alert["patient_id"].encode())
        p.flush()
    ctx.board.apply(T.ALERT_ACKS, msgspec.json.encode(ack))  # shown at once, also without the feed
    return ack
