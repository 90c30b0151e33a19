"""The clinical alert engine: rules and NEWS2 over micro-batches of vitals, per patient.

Contract
--------
* ``observe_batch(vitals)`` handles the vitals in order and returns the alert transitions
  they cause (``raised``, ``escalated``, ``cleared``; see :mod:`vitalstream.clinical.episode`).
  Windows run on the vitals' *event time* (timezone-aware), so the same input in the same
  order yields the same alerts and ids; only ``raise_time`` comes from the injected clock.
* A reading counts for a field only if its event time is newer than the latest one the state
  holds for that patient and field (a naive event time is taken as UTC). Replays, duplicates (same ``event_id``) and out-of-order
  readings are therefore ignored for alerting and for NEWS2: after a restore from a snapshot,
  re-observing vitals the snapshot already reflects raises nothing new.
* ``take_scores()`` returns the NEWS2 scores (one per patient and minute of event time) that
  changed since the previous call; call it after each batch. See :mod:`.tracker`: the newest
  version of each score does not depend on batch boundaries or on the arrival order of
  different sources.
* State is per patient (:mod:`vitalstream.clinical.state`). A processor persists
  ``changelog()`` (the changed patients' snapshots and NEWS2 minutes, as key → value) with
  its offset commit, then ``clear_dirty()``; after a restart or rebalance it
  ``restore_changelog``s the latest record of every key, and ``drop``s the patients of
  revoked partitions.

Not thread-safe: one engine per partition (or per worker) and one caller at a time.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC

import msgspec

from vitalstream.clinical.clock import Clock, SystemClock
from vitalstream.clinical.episode import Stepper, stepper
from vitalstream.clinical.rules import (
    Predicate,
    Rule,
    RuleConfig,
    any_breach,
    compile_rules,
    default_rules,
)
from vitalstream.clinical.state import (
    FIELD_BITS,
    PatientContext,
    PatientState,
    PatientStore,
    encode,
    present_mask,
)
from vitalstream.clinical.tracker import (
    MINUTE_TAG,
    NEWS2_MASK,
    News2Tracker,
    minute_key,
    params_of,
    restore_newest,
)
from vitalstream.errors import ConfigError
from vitalstream.events.canonical import Alert, News2Score, Vital

logger = logging.getLogger(__name__)

Plan = tuple[Stepper, Predicate, tuple[str, ...], int]
Contexts = Sequence[PatientContext | None] | Mapping[str, PatientContext]


@dataclass(frozen=True)
class EngineConfig:
    """Rules by name (default: :func:`~vitalstream.clinical.rules.default_rules`; rules left
    out are off) and NEWS2 scoring with its freshness window and its reorder window (how late
    a reading may be and still re-score its minute), in seconds of event time."""

    rules: Mapping[str, RuleConfig] = field(default_factory=default_rules)
    news2: bool = True
    news2_freshness_s: float = 3600.0
    news2_reorder_s: float = 3600.0

    def __post_init__(self) -> None:
        if self.news2_freshness_s <= 0:
            raise ConfigError(f"news2_freshness_s must be > 0, got {self.news2_freshness_s}")
        if self.news2_reorder_s <= 0:
            raise ConfigError(f"news2_reorder_s must be > 0, got {self.news2_reorder_s}")


class AlertEngine:
    """Alert rules and NEWS2 for the patients of one partition (see the module contract)."""

    def __init__(self, config: EngineConfig | None = None, clock: Clock | None = None) -> None:
        self.config = config or EngineConfig()
        self.clock: Clock = clock or SystemClock()
        self._store = PatientStore()
        self._rules = compile_rules(self.config.rules)
        self.news2: News2Tracker | None = (
            News2Tracker(self.clock, self.config.news2_freshness_s, self._store, self.config.news2_reorder_s)
            if self.config.news2
            else None
        )
        # mask of fields new in a vital -> (its rules' stepper, any of them breached?, its
        # NEWS2 parameters and their bits)
        self._plan: dict[int, Plan] = {}
        # the context object last applied to each patient's state: a caller passes one shared
        # object per patient, so applying it again (a no-op) is skipped
        self._applied: dict[str, PatientContext] = {}

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(self._rules)

    def observe(self, vital: Vital, context: PatientContext | None = None) -> list[Alert]:
        """Observe one vital; ``context`` carries the patient's age and SpO2 scale."""
        return self.observe_batch((vital,), None if context is None else (context,))

    def observe_batch(
        self, vitals: Iterable[Vital], contexts: Contexts | None = None
    ) -> list[Alert]:
        """Observe vitals in order. ``contexts`` is aligned with ``vitals`` (``None`` items
        allowed) or maps patient_id to context."""
        out: list[Alert] = []
        states = self._store.states
        dirty = self._store.dirty
        plan = self._plan
        clock = self.clock
        tracker = self.news2
        by_pid = contexts if isinstance(contexts, Mapping) else None
        pairs: Iterable[tuple[Vital, PatientContext | None]] = (
            zip(vitals, itertools.repeat(None)) if contexts is None or by_pid is not None
            else zip(vitals, contexts, strict=True)  # type: ignore[arg-type]
        )
        applied = self._applied
        n2_cells = self._store.minutes
        if tracker is not None:
            n2_minutes, pending, unsettled = tracker._minutes, tracker.pending, tracker.unsettled
        for v, ctx in pairs:
            pid = v.patient_id
            ps = states.get(pid)
            if ps is None:
                ps = states[pid] = PatientState()
                applied.pop(pid, None)
            if by_pid is not None:
                ctx = by_pid.get(pid)
            if ctx is not None and applied.get(pid) is not ctx:
                applied[pid] = ctx
                if ps.apply(ctx):
                    dirty.add(pid)
                    if tracker is not None:
                        tracker.touch(pid, ps)
            t = v.event_time
            if t.tzinfo is None:  # validated upstream; never let one reading crash a worker
                t = t.replace(tzinfo=UTC)
                v = msgspec.structs.replace(v, event_time=t)
            newest = ps.newest
            in_order = newest is None or t > newest
            if in_order:
                fresh = ps.record(v, t)
            else:
                present = present_mask(v)
                fresh = ps._record_late(v, t, present)
                # NEWS2 sees every reading, late ones too (they may re-score past minutes)
                if tracker is not None and (late_params := params_of(present & NEWS2_MASK)):
                    tracker.add(pid, ps, v, t, late_params)
            if not fresh:
                continue
            dirty.add(pid)
            todo = plan.get(fresh)
            if todo is None:
                todo = plan[fresh] = self._plan_for(fresh)
            step_rules, any_breach, news2_params, news2_mask = todo
            if in_order and news2_params and tracker is not None:
                # in order, the fresh fields are exactly the vital's fields
                m = n2_minutes.get(t)
                cells = n2_cells.get(pid) if m is not None and m == ps.n2_minute else None
                cell = None if cells is None else cells.get(m)  # type: ignore[arg-type]
                if cell is not None:
                    # more readings of the newest minute (most of them): News2Tracker.add_in_order
                    # inlined, its score checked once per batch (News2Tracker.settle)
                    last, latest = cell.last, ps.latest
                    for p in news2_params:
                        last[p] = latest[p]
                    unsettled[pid] = unsettled.get(pid, 0) | news2_mask
                    if pid not in pending:
                        pending[pid] = set()
                else:
                    tracker.add_in_order(pid, ps, t, news2_params, news2_mask)
            if ps.rules or any_breach(v):  # else the common path: nothing open, nothing breaching
                step_rules(v, t, ps, clock, out)
        return out

    def take_scores(self) -> list[News2Score]:
        """NEWS2 of every patient whose inputs changed since the last call."""
        return self.news2.take_scores() if self.news2 is not None else []

    def news2_score(self, patient_id: str) -> News2Score | None:
        """The patient's current NEWS2, or ``None`` (no input, or NEWS2 disabled)."""
        return self.news2.current(patient_id) if self.news2 is not None else None

    # -- state -------------------------------------------------------------------------
    def snapshot(self, patient_id: str) -> bytes:
        """msgspec (msgpack) encoding of the patient's whole clinical state."""
        return self._store.snapshot(patient_id)

    def restore(self, patient_id: str, data: bytes) -> None:
        """Replace the patient's state with a snapshot (raises ``ValueError`` if corrupt).

        Episodes of rules this engine does not run (disabled since the snapshot) are dropped.
        """
        self._store.restore(patient_id, data)
        self._applied.pop(patient_id, None)
        if self.news2 is not None:
            self.news2.unsettled.pop(patient_id, None)  # readings of the state replaced
        state = self._store.states.get(patient_id)
        if state is not None and state.rules:
            known = {r.name for r in self._rules}
            for name in [n for n in state.rules if n not in known]:
                del state.rules[name]

    def dirty_patients(self) -> set[str]:
        """Patients whose state changed since the last :meth:`clear_dirty`."""
        return self._store.dirty_patients()

    def changelog(self) -> list[tuple[str, str, bytes]]:
        """``(patient, key, value)`` of every state record changed since :meth:`clear_dirty`:
        the patients' snapshots (key: the patient id) and their NEWS2 minutes."""
        store = self._store
        states, empty = store.states, PatientState()
        out = [(pid, pid, encode(states.get(pid) or empty)) for pid in sorted(store.dirty)]
        window = self.news2.window if self.news2 is not None else 1
        minutes = store.minutes
        for pid, m in sorted(store.dirty_minutes):
            cell = minutes.get(pid, {}).get(m)
            if cell is not None:
                out.append((pid, minute_key(pid, m, window), encode(cell)))  # type: ignore[arg-type]
        return out

    def restore_changelog(self, records: Iterable[tuple[str, bytes]]) -> int:
        """Restore from the latest value of each changelog key (any order; a corrupt record
        costs only its own part of the state). Returns how many patients were restored."""
        cores: dict[str, bytes] = {}
        cells: list[tuple[str, bytes]] = []
        for key, value in records:
            pid, tag, _ = key.partition(MINUTE_TAG)
            if tag:
                cells.append((pid, value))
            else:
                cores[pid] = value
        bad = 0
        for pid, value in cores.items():
            try:
                self.restore(pid, value)
            except ValueError:
                bad += 1
        store = self._store
        touched: set[str] = set()
        for pid, value in cells:
            try:
                store.restore_minute(pid, value)
                touched.add(pid)
            except ValueError:
                bad += 1
        window = self.news2.window if self.news2 is not None else 1
        for pid in touched:  # keep the minutes inside the patient's window (slots are reused)
            minutes = store.minutes[pid]
            state = store.get(pid)
            newest = max(max(minutes), state.n2_minute if state.n2_minute is not None else -1)
            state.n2_minute = newest
            for m in [m for m in minutes if m <= newest - window]:
                del minutes[m]
            restore_newest(state, minutes)
        if bad:
            logger.warning("%d alert-state records were corrupt and not restored", bad)
        return len(set(cores) | touched)

    def clear_dirty(self) -> None:
        self._store.clear_dirty()

    def drop(self, patient_ids: Iterable[str]) -> None:
        """Forget patients (their partition was revoked)."""
        ids = list(patient_ids)
        self._store.drop(ids)
        for pid in ids:
            self._applied.pop(pid, None)
        if self.news2 is not None:
            self.news2.drop(ids)

    def patients(self) -> set[str]:
        """Patients the engine holds state for."""
        return set(self._store.states)

    def _plan_for(self, mask: int) -> Plan:
        fresh = {f for f, bit in FIELD_BITS.items() if mask & bit}
        rules = tuple(r for r in self._rules if not fresh.isdisjoint(r.fields))
        return stepper(rules), any_breach(rules), params_of(mask & NEWS2_MASK), mask & NEWS2_MASK
