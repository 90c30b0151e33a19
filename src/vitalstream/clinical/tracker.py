"""NEWS2 in the stream: one score per patient per minute of event time, whatever the batching.

The model
---------
For every minute of event time in which a patient has any NEWS2 reading, the minute's score
uses the latest reading of each parameter up to the end of that minute; a value older than
``freshness_s`` (default 3600 s) before the end of the minute counts as missing, like a
parameter never measured. Its ``event_time`` is the start of the minute and its ``score_id``
is derived from (patient, minute). That is a function of the readings and their event times
alone: not of batch boundaries, restarts, or the order in which readings from different
sources (a heart-rate topic, an SpO2 topic, a device keyed by device id) arrive.

Incrementally
-------------
Each minute keeps the last reading of each parameter in it (:class:`~.state.Minute`). A
reading updates its minute and — when it arrived after later minutes were scored — every later
minute that had no newer reading of that parameter; those minutes are *pending*. In-order
readings of the patient's newest minute (most readings) only note which parameters they
brought; once per batch :meth:`News2Tracker.settle` makes the minute pending if the latest of
one of them charts another sub-score than the minute's last score says (the score depends on
the latest readings alone). :meth:`News2Tracker.take_scores` scores the pending minutes and returns each one whose score
differs from the one last returned for that minute (same ``score_id``: the sinks upsert). So
the *newest version of every score_id* is the same however the input was batched, provided a
reading is no more than the reorder window (``reorder_s``, default 3600 s) behind the
patient's newest reading. An older reading still counts for the minutes held, but its own
minute is no longer scored. Two readings of a parameter at the same instant: the larger wins.

Changelog
---------
The patient's snapshot (:class:`~.state.PatientState`) holds the newest minute and the inputs
of minutes that left the window; each minute is its own changelog record keyed
``<patient>\\x1fn2:<minute mod window>`` (see :func:`minute_key`), so a batch rewrites the
minutes it changed, not the whole window, and a patient never has more than a window's worth
of keys. In-order readings of the patient's newest minute do not rewrite it: they are the
patient's latest readings, which the snapshot written with them holds, and a restore puts
them back (:func:`restore_newest`); the minute is written when it is created, when its score
changes and when a newer minute takes over.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import UTC, datetime

from vitalstream.clinical import news2
from vitalstream.clinical.clock import Clock, SystemClock
from vitalstream.clinical.ids import score_id
from vitalstream.clinical.signature import signature, unchanged_by
from vitalstream.clinical.state import (
    FIELD_BITS,
    Minute,
    PatientContext,
    PatientState,
    PatientStore,
    Value,
    newer,
)
from vitalstream.events.canonical import News2Score, Vital

log = logging.getLogger(__name__)

NEWS2_FIELDS = frozenset(news2.PARAMETERS)
NEWS2_MASK = sum(FIELD_BITS[f] for f in news2.PARAMETERS)
MINUTE_TAG = "\x1fn2:"


def params_of(mask: int) -> tuple[str, ...]:
    """The NEWS2 parameters whose bits are set in ``mask`` (a :meth:`PatientState.record`
    mask), cached: a vital has one of a few shapes."""
    got = _PARAMS.get(mask)
    if got is None:
        got = _PARAMS[mask] = tuple(p for p in news2.PARAMETERS if mask & FIELD_BITS[p])
    return got


_PARAMS: dict[int, tuple[str, ...]] = {}


def minute_of(t: datetime) -> int:
    return int(t.timestamp() // 60)


def minute_key(patient_id: str, minute: int, window: int) -> str:
    """Changelog key of a NEWS2 minute: one slot per minute of the window, reused."""
    return f"{patient_id}{MINUTE_TAG}{minute % window}"


class News2Tracker:
    """NEWS2 per patient and minute (see the module doc).

    Standalone: ``observe`` vitals, then ``take_scores()``. Inside an
    :class:`~vitalstream.clinical.engine.AlertEngine` the engine records the vitals into the
    shared ``store`` and calls :meth:`add` and :meth:`touch`.
    """

    def __init__(
        self,
        clock: Clock | None = None,
        freshness_s: float = 3600.0,
        store: PatientStore | None = None,
        reorder_s: float = 3600.0,
    ) -> None:
        if freshness_s <= 0:
            raise ValueError(f"freshness_s must be > 0, got {freshness_s}")
        if reorder_s <= 0:
            raise ValueError(f"reorder_s must be > 0, got {reorder_s}")
        self.clock: Clock = clock or SystemClock()
        self.freshness_s = freshness_s
        self.window = max(1, math.ceil(reorder_s / 60))  # minutes held per patient
        self.store = store if store is not None else PatientStore()
        self.pending: dict[str, set[int]] = {}  # patient -> minutes to score (insertion order)
        # A reading always counts for its own minute's score when the freshness window spans
        # at least a minute; only then can a new reading be compared with the last score alone.
        self._quick = freshness_s >= 60
        # patient -> NEWS2 parameters (bits) read in order into its newest minute, whose
        # effect on the minute's score is not checked yet (see add_in_order and settle)
        self.unsettled: dict[str, int] = {}
        self._times: dict[float, datetime] = {}
        self._minutes: dict[datetime, int] = {}  # event time -> epoch minute

    def observe(self, vital: Vital, context: PatientContext | None = None) -> None:
        pid = vital.patient_id
        state = self.store.get(pid)
        if context is not None and state.apply(context):
            self.store.dirty.add(pid)
            self.touch(pid, state)
        t = vital.event_time if vital.event_time.tzinfo is not None else vital.event_time.replace(tzinfo=UTC)
        if state.record(vital, t):
            self.store.dirty.add(pid)
        self.add(pid, state, vital, t)

    # -- recording -------------------------------------------------------------------------
    def add(self, pid: str, state: PatientState, v: Vital, t: datetime,
            params: Sequence[str] | None = None) -> bool:
        """Record the NEWS2 readings of ``v`` (``params``: which it has, if known); true if a
        minute or the patient's snapshot changed. ``state.record`` must have seen ``v``."""
        if params is None:
            params = [p for p in news2.PARAMETERS if getattr(v, p) is not None]
            if not params:
                return False
        store = self.store
        cells = store.minutes.get(pid)
        if cells is None:
            cells = store.minutes[pid] = {}
        m = self.minute(t)
        newest = state.n2_minute
        if newest is not None and m <= newest - self.window:
            # Older than the window: it counts, from before every minute held.
            changed = [p for p in params if _keep(state.n2_before, p, getattr(v, p), t)]
            if not changed:
                return False
            store.dirty.add(pid)
            self._propagate(pid, cells, None, changed)
            return True
        cell = cells.get(m)
        if cell is None:
            cell = cells[m] = Minute(m, {})
        last = cell.last
        changed = []
        for p in params:  # _keep, inline: this runs for every late reading
            prev = last.get(p)
            x = getattr(v, p)
            if prev is None or t > prev[1] or newer(x, t, prev):
                last[p] = (x, t)
                changed.append(p)
        if not changed:
            return False
        store.dirty_minutes.add((pid, m))
        self._mark(pid, m)
        if newest is None or m > newest:
            self.settle(pid)
            state.n2_minute = m
            store.dirty.add(pid)
            if newest is not None and min(cells) <= m - self.window:
                self._roll(state, cells, m)
        elif m < newest:
            self._propagate(pid, cells, m, changed)
        return True

    def add_in_order(self, pid: str, state: PatientState, t: datetime, params: tuple[str, ...],
                     mask: int) -> None:
        """:meth:`add` for a reading newer than everything the patient's state holds (the
        common case): its readings (``params``, bits ``mask``) are the newest of their minute,
        nothing earlier changes. ``state.record`` must have stored them.

        Whether more readings of the patient's newest minute (most of them) change its score
        is checked once per batch, against the minute's last readings, by :meth:`settle`: the
        score depends on the latest readings alone."""
        store = self.store
        cells = store.minutes.get(pid)
        if cells is None:
            cells = store.minutes[pid] = {}
        m = self.minute(t)
        cell = cells.get(m)
        newest = state.n2_minute
        if cell is None:
            cell = cells[m] = Minute(m, {})
            store.dirty_minutes.add((pid, m))
        elif m != newest:
            store.dirty_minutes.add((pid, m))
        # else: more readings of the newest minute, which are the patient's latest ones: the
        # snapshot written with them restores them (restore_newest), the minute is not rewritten
        last, latest = cell.last, state.latest
        for p in params:  # ``state.record`` has just stored each as (value, t): share it
            last[p] = latest[p]
        if newest is None or m > newest:
            if newest is not None:  # no longer the newest: its final readings
                store.dirty_minutes.add((pid, newest))
                self.settle(pid)
            state.n2_minute = m
            if newest is not None and min(cells) <= m - self.window:
                self._roll(state, cells, m)
        elif m == newest:
            unsettled = self.unsettled
            unsettled[pid] = unsettled.get(pid, 0) | mask
            if pid not in self.pending:  # the patient takes its place in the order of scores
                self.pending[pid] = set()
            return
        self._mark(pid, m)

    def settle(self, pid: str) -> None:
        """Mark the patient's newest minute to be scored again unless its in-order readings
        since the last check (see :meth:`add_in_order`) chart the sub-scores its last score
        holds. Called before the newest minute changes, and by :meth:`take_scores`."""
        mask = self.unsettled.pop(pid, 0)
        if not mask:
            return
        state = self.store.states.get(pid)
        cells = self.store.minutes.get(pid)
        m = None if state is None else state.n2_minute
        cell = None if m is None or cells is None else cells.get(m)
        if state is None or m is None or cell is None:
            return  # nothing left to score
        if not (cell.sent and self._quick and state.spo2_scale == 1
                and unchanged_by(cell.sent, cell.last, params_of(mask))):
            self._mark(pid, m)

    def minute(self, t: datetime) -> int:
        """Epoch minute of ``t``, cached: the event times of a batch are a few shared objects
        (hash cached)."""
        m = self._minutes.get(t)
        if m is None:
            if len(self._minutes) > 8192:
                self._minutes.clear()
            m = self._minutes[t] = int(t.timestamp() // 60)
        return m

    def touch(self, pid: str, state: PatientState) -> None:
        """The patient's context changed: score the newest minute again."""
        if state.n2_minute is not None:
            self._mark(pid, state.n2_minute)

    def _mark(self, pid: str, minute: int) -> None:
        got = self.pending.get(pid)
        if got is None:
            self.pending[pid] = {minute}
        else:
            got.add(minute)

    def _propagate(self, pid: str, cells: dict[int, Minute], after: int | None, params: list[str]) -> None:
        """Mark the minutes after ``after`` (None: all) whose latest value of a changed
        parameter is the new reading: up to the first minute with its own reading of it."""
        todo = set(params)
        for k in sorted(cells):
            if after is not None and k <= after:
                continue
            last = cells[k].last
            todo = {p for p in todo if p not in last}
            if not todo:
                return
            self._mark(pid, k)

    def _roll(self, state: PatientState, cells: dict[int, Minute], newest: int) -> None:
        """Let go of the minutes that left the window; their inputs count from ``n2_before``."""
        for k in sorted(k for k in cells if k <= newest - self.window):
            for p, (x, t) in cells.pop(k).last.items():
                _keep(state.n2_before, p, x, t)

    # -- scoring -----------------------------------------------------------------------------
    def take_scores(self) -> list[News2Score]:
        """The scores of the pending minutes that differ from the last returned for them."""
        states, minutes, dirty = self.store.states, self.store.minutes, self.store.dirty_minutes
        for pid in list(self.unsettled):
            self.settle(pid)
        if not self.pending:
            return []
        now = self.clock.now()
        out = []
        for pid, todo in self.pending.items():
            if not todo:
                continue  # its place in the order only: nothing to score
            state, cells = states.get(pid), minutes.get(pid)
            if state is None or not cells:
                continue
            for m in sorted(todo) if len(todo) > 1 else todo:
                cell = cells.get(m)
                if cell is None:
                    continue
                result = self._result(state, cells, m)
                sig = signature(result, state.spo2_scale)
                if sig != cell.sent:  # build the record only when it says something new
                    cell.sent = sig
                    dirty.add((pid, m))
                    out.append(self._record(pid, state, m, result, now))
        self.pending.clear()
        if len(self._times) > 4096:
            self._times.clear()
        return out

    def current(self, patient_id: str) -> News2Score | None:
        """The patient's NEWS2 for its newest minute (``None`` without any NEWS2 input)."""
        state = self.store.states.get(patient_id)
        cells = self.store.minutes.get(patient_id)
        m = None if state is None else state.n2_minute
        if state is None or m is None or not cells or m not in cells:
            return None
        return self._record(patient_id, state, m, self._result(state, cells, m), self.clock.now())

    def drop(self, patient_ids: set[str] | list[str]) -> None:
        for pid in patient_ids:
            self.pending.pop(pid, None)
            self.unsettled.pop(pid, None)

    def _result(self, state: PatientState, cells: dict[int, Minute], m: int) -> news2.News2Result:
        """NEWS2 of minute ``m``: the latest fresh value of each parameter up to its end."""
        horizon = self._time((m + 1) * 60 - self.freshness_s)
        if m == state.n2_minute:  # the newest minute: the latest of everything (the usual case)
            latest = state.latest
            found = {p: latest[p] for p in news2.PARAMETERS if p in latest}
        else:
            found = {}
            for k in sorted((k for k in cells if k <= m), reverse=True):
                for p, e in cells[k].last.items():
                    found.setdefault(p, e)
            for p, e in state.n2_before.items():
                found.setdefault(p, e)
        params = {p: e[0] for p, e in found.items() if e[1] >= horizon}
        try:
            return news2.score(params, scale=state.spo2_scale)
        except ValueError:
            # Validation happens upstream; a value that slipped through counts as missing
            # rather than crashing the worker.
            params = {p: x for p, x in params.items() if _scoreable(p, x)}
            return news2.score(params, scale=state.spo2_scale)

    def _record(self, pid: str, state: PatientState, m: int, result: news2.News2Result,
                now: datetime) -> News2Score:
        start = self._time(m * 60)
        return News2Score(
            patient_id=pid,
            total=result.total,
            band=result.band,
            subscores=result.subscores,
            missing=result.missing,
            partial=bool(result.missing),
            scale=state.spo2_scale,
            event_time=start,
            computed_time=now,
            score_id=score_id(pid, start),
        )

    def _time(self, epoch_s: float) -> datetime:
        """A UTC datetime, cached: every patient's minute starts at the same instants."""
        t = self._times.get(epoch_s)
        if t is None:
            t = self._times[epoch_s] = datetime.fromtimestamp(epoch_s, UTC)
        return t


def restore_newest(state: PatientState, cells: dict[int, Minute]) -> None:
    """After a restore: the newest minute's readings that only the snapshot holds (the minute
    is not rewritten while it stays the newest, see :meth:`News2Tracker.add_in_order`). A
    reading of the newest minute is the newest of its parameter, so it is in ``latest``."""
    m = state.n2_minute
    cell = cells.get(m) if m is not None else None
    if cell is None:
        return
    latest = state.latest
    for p in news2.PARAMETERS:
        e = latest.get(p)
        if e is not None and minute_of(e[1]) == m:
            _keep(cell.last, p, e[0], e[1])


def _keep(into: dict[str, tuple[Value, datetime]], p: str, x: Value, t: datetime) -> bool:
    prev = into.get(p)
    if prev is None or t > prev[1] or newer(x, t, prev):
        into[p] = (x, t)
        return True
    return False


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
