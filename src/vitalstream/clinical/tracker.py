"""NEWS2 in the stream: the latest fresh value of each parameter per patient, scored.

The :class:`News2Tracker` keeps, per patient, the latest value and event time of every NEWS2
parameter (in the shared :class:`~vitalstream.clinical.state.PatientState`, so it is part of
the same snapshot/restore as the alert episodes). A patient whose inputs changed is *pending*;
:meth:`News2Tracker.take_scores` scores every pending patient once and clears the set, so a
micro-batch yields at most one :class:`News2Score` per patient (its state after the batch).

Only values within ``freshness_s`` (default 3600 s) of event time before the patient's newest
reading count; older ones are listed as missing, like parameters never measured. The score's
``event_time`` is that newest reading and its ``score_id`` is derived from (patient,
event_time), so scores re-produced by a replay upsert onto the same rows. Readings not newer
than the stored one for their parameter (replays, out-of-order) change nothing.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta

from vitalstream.clinical import news2
from vitalstream.clinical.clock import Clock, SystemClock
from vitalstream.clinical.ids import score_id
from vitalstream.clinical.state import FIELD_BITS, PatientContext, PatientState, PatientStore
from vitalstream.events.canonical import News2Score, Vital

log = logging.getLogger(__name__)

NEWS2_FIELDS = frozenset(news2.PARAMETERS)
NEWS2_MASK = sum(FIELD_BITS[f] for f in news2.PARAMETERS)


class News2Tracker:
    """Scores NEWS2 per patient from the latest fresh inputs.

    Standalone: ``observe`` vitals, then ``take_scores()``. Inside an
    :class:`~vitalstream.clinical.engine.AlertEngine` the engine records the inputs into the
    shared ``store`` and calls :meth:`mark`.
    """

    def __init__(
        self,
        clock: Clock | None = None,
        freshness_s: float = 3600.0,
        store: PatientStore | None = None,
    ) -> None:
        if freshness_s <= 0:
            raise ValueError(f"freshness_s must be > 0, got {freshness_s}")
        self.clock: Clock = clock or SystemClock()
        self.freshness_s = freshness_s
        self._freshness = timedelta(seconds=freshness_s)
        self.store = store if store is not None else PatientStore()
        self.pending: dict[str, None] = {}  # insertion-ordered set: deterministic output

    def observe(self, vital: Vital, context: PatientContext | None = None) -> None:
        state = self.store.get(vital.patient_id)
        if context is not None and state.apply(context):
            self.store.dirty.add(vital.patient_id)
            self.pending[vital.patient_id] = None
        t = vital.event_time
        fresh = state.record(vital, t if t.tzinfo is not None else t.replace(tzinfo=UTC))
        if fresh:
            self.store.dirty.add(vital.patient_id)
            if fresh & NEWS2_MASK:
                self.pending[vital.patient_id] = None

    def mark(self, patient_id: str) -> None:
        """Note that ``patient_id``'s inputs changed."""
        self.pending[patient_id] = None

    def take_scores(self) -> list[News2Score]:
        """Score every patient whose inputs changed since the last call, then forget them."""
        if not self.pending:
            return []
        now = self.clock.now()
        out = []
        for pid in self.pending:
            state = self.store.states.get(pid)
            if state is not None:
                result = self._score(pid, state, now)
                if result is not None:
                    out.append(result)
        self.pending.clear()
        return out

    def current(self, patient_id: str) -> News2Score | None:
        """The patient's NEWS2 now (``None`` without any NEWS2 input)."""
        state = self.store.states.get(patient_id)
        return None if state is None else self._score(patient_id, state, self.clock.now())

    def drop(self, patient_ids: set[str] | list[str]) -> None:
        for pid in patient_ids:
            self.pending.pop(pid, None)

    def _score(self, pid: str, state: PatientState, now: datetime) -> News2Score | None:
        latest = state.latest
        entries = [(p, latest[p]) for p in news2.PARAMETERS if p in latest]
        if not entries:
            return None
        newest = max(e[1] for _, e in entries)
        horizon = newest - self._freshness
        params = {p: e[0] for p, e in entries if e[1] >= horizon}
        try:
            result = news2.score(params, scale=state.spo2_scale)
        except ValueError:
            # Validation happens upstream; a value that slipped through counts as missing
            # rather than crashing the worker.
            params = {p: x for p, x in params.items() if _scoreable(p, x)}
            result = news2.score(params, scale=state.spo2_scale)
        event_time = newest.astimezone(UTC)
        return News2Score(
            patient_id=pid,
            total=result.total,
            band=result.band,
            subscores=result.subscores,
            missing=result.missing,
            partial=bool(result.missing),
            scale=state.spo2_scale,
            event_time=event_time,
            computed_time=now,
            score_id=score_id(pid, event_time),
        )


def _scoreable(param: str, value: object) -> bool:
    # The value itself is PHI and is not logged.
    if param == "consciousness":
        ok = news2.acvpu(value) is not None
    elif param == "on_oxygen":
        ok = isinstance(value, bool)
    else:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok:
        log.warning("unscoreable NEWS2 %s value ignored", param)
    return ok
