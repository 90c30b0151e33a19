"""The state machine of one (patient, rule) alert episode, against alert fatigue.

Phases: ``IDLE`` → ``ACTIVE`` (a ``raised`` alert was emitted) → ``IDLE`` (``cleared``), plus
``SUPPRESSED``: the condition came back within the suppression window after a clear, so the
episode is open but nobody was notified. Per sample (a reading of a watched field that is
newer than anything seen for it), in event time:

* **Persistence** — ``IDLE`` raises only when the breach persisted: the current consecutive
  run of breaching samples spans ≥ ``persistence_s``, or ≥ k of the last n samples breached
  (either; neither configured = instantaneous). Samples more than ``max_gap_s`` after the
  previous one restart the evidence.
* **De-duplication** — while ``ACTIVE`` nothing new is raised.
* **Hysteresis** — ``ACTIVE`` clears only after ``clear_samples`` consecutive samples past the
  clear threshold (e.g. SpO2 ≥ 92 after a raise at < 90); samples in between reset that count
  but do not re-notify. A clear resets the evidence window.
* **Escalation** — while ``ACTIVE`` a breaching sample at least ``escalation_step`` worse than
  the last notification emits ``escalated`` with the next severity band (capped at critical),
  and becomes the new reference. Worsening is a ratchet, so noise cannot flood.
* **Suppression** — if the condition persists again within ``suppression_s`` of the last
  emitted clear, the episode becomes ``SUPPRESSED`` without an alert. It is *promoted* to
  ``raised`` by the first breaching sample after the window ends, or at once if the reading
  is at least ``escalation_step`` beyond the raise threshold (worsening always notifies). If
  it clears while suppressed, nothing is emitted (nothing was raised), and the window still
  counts from the last *emitted* clear. Net effect: per (patient, rule) the emitted states
  always read ``raised (escalated)* cleared`` and at most one ``raised`` per window.
* **Auto-clear** — with ``auto_clear_s``, an open episode whose last breach is that old is
  closed before the next sample is handled (``cleared``, triggered by that sample, with the
  suppression window counted from last breach + ``auto_clear_s``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from vitalstream.clinical.clock import Clock
from vitalstream.clinical.ids import alert_id
from vitalstream.clinical.rules import SEVERITIES, Rule, breach_expression
from vitalstream.clinical.state import ACTIVE, IDLE, SUPPRESSED, PatientState, RuleState
from vitalstream.events.canonical import Alert, AlertState, Severity, Vital


def step(
    rule: Rule,
    rs: RuleState,
    v: Vital,
    t: datetime,
    breach: bool,
    patient: PatientState,
    clock: Clock,
    out: list[Alert],
) -> bool:
    """Advance ``rs`` by the sample ``v`` (event time ``t``); append emitted alerts to ``out``.

    Returns whether ``rs`` still holds anything worth keeping (else the caller drops it).
    """
    if breach and rs.phase == ACTIVE and rule.steady:
        return _still_active(rule, rs, v, t, clock, out)
    cfg = rule.config
    if rs.last_t is not None and rule.max_gap is not None and t - rs.last_t > rule.max_gap:
        rs.bits = 0
        rs.breach_since = None
    rs.last_t = t

    if (
        rs.phase != IDLE
        and rule.auto_clear is not None
        and rs.last_breach is not None
        and t - rs.last_breach >= rule.auto_clear
    ):
        if rs.phase == ACTIVE:
            out.append(_alert(rule, rs, v, "cleared", rs.severity, clock))
            rs.cleared_at = rs.last_breach + rule.auto_clear
        _close(rs)

    if rule.mask:
        rs.bits = ((rs.bits << 1) | breach) & rule.mask
    if breach:
        if rs.breach_since is None:
            rs.breach_since = t
        rs.last_breach = t
    else:
        rs.breach_since = None

    if rs.phase == IDLE:
        if breach and _persisted(rule, rs, t):
            worse = rule.worse(v)
            if _suppressed(rule, rs, t) and not _beyond_step(rule, worse):
                rs.phase = SUPPRESSED
                rs.notified = worse
            else:
                _raise(rule, rs, v, worse, patient, clock, out)
    elif rule.clears(v):
        rs.clear_run += 1
        if rs.clear_run >= cfg.clear_samples:
            if rs.phase == ACTIVE:
                out.append(_alert(rule, rs, v, "cleared", rs.severity, clock))
                rs.cleared_at = t
            _close(rs)
    else:
        rs.clear_run = 0
        if breach:
            worse = rule.worse(v)
            if rs.phase == ACTIVE:
                step_ = cfg.escalation_step
                if step_ is not None and worse - rs.notified >= step_:
                    rs.notified = worse
                    rs.severity = _next_band(rs.severity)
                    out.append(_alert(rule, rs, v, "escalated", rs.severity, clock))
            elif not _suppressed(rule, rs, t) or _beyond_step(rule, worse):
                _raise(rule, rs, v, worse, patient, clock, out)

    return not (
        rs.phase == IDLE
        and rs.bits == 0
        and rs.breach_since is None
        and (rs.cleared_at is None or t >= rs.cleared_at + rule.suppression)
    )


Stepper = Callable[[Vital, datetime, PatientState, Clock, list[Alert]], None]


def stepper(rules: Sequence[Rule]) -> Stepper:
    """``stepper(rules)(v, t, patient, clock, out)`` evaluates each of ``rules`` on the sample
    in order and steps its episode: one is opened by a breach and dropped when :func:`step`
    says it holds nothing. Generated as straight-line code, like
    :func:`~vitalstream.clinical.rules.any_breach`: a vital with an open episode steps every
    rule of its fields, and a loop calling each rule's predicate costs twice as much."""
    lines = ["def step_rules(v, t, patient, clock, out):", "    episodes = patient.rules"]
    namespace: dict[str, object] = {"step": step, "RuleState": RuleState}
    for i, rule in enumerate(rules):
        namespace[f"rule{i}"] = rule
        name = repr(rule.name)
        lines += [
            f"    breach = {breach_expression(rule)}",
            f"    rs = episodes.get({name})",
            "    if rs is None and breach:",
            f"        rs = episodes[{name}] = RuleState()",
            f"    if rs is not None and not step(rule{i}, rs, v, t, breach, patient, clock, out):",
            f"        del episodes[{name}]",
        ]
    lines.append("    return None")
    exec("\n".join(lines), namespace)
    return namespace["step_rules"]  # type: ignore[return-value]


def _still_active(rule: Rule, rs: RuleState, v: Vital, t: datetime, clock: Clock, out: list[Alert]) -> bool:
    """:func:`step` of a breaching sample of an active episode, the common case of an open one,
    for a rule without auto-clear whose breaching readings never clear: the same updates,
    without the branches that cannot apply (only escalation can notify)."""
    last_t = rs.last_t
    if last_t is not None and rule.max_gap is not None and t - last_t > rule.max_gap:
        rs.bits = 0
        rs.breach_since = None
    rs.last_t = t
    if rule.mask:
        rs.bits = ((rs.bits << 1) | 1) & rule.mask
    if rs.breach_since is None:
        rs.breach_since = t
    rs.last_breach = t
    rs.clear_run = 0
    step_ = rule.config.escalation_step
    if step_ is not None:
        worse = rule.worse(v)
        if worse - rs.notified >= step_:
            rs.notified = worse
            rs.severity = _next_band(rs.severity)
            out.append(_alert(rule, rs, v, "escalated", rs.severity, clock))
    return True


def _persisted(rule: Rule, rs: RuleState, t: datetime) -> bool:
    k_of_n = rule.config.k_of_n
    if k_of_n is None and rule.persistence is None:
        return True
    if k_of_n is not None and rs.bits.bit_count() >= k_of_n[0]:
        return True
    return (
        rule.persistence is not None
        and rs.breach_since is not None
        and t - rs.breach_since >= rule.persistence
    )


def _suppressed(rule: Rule, rs: RuleState, t: datetime) -> bool:
    return rs.cleared_at is not None and t < rs.cleared_at + rule.suppression


def _beyond_step(rule: Rule, worse: float) -> bool:
    step_ = rule.config.escalation_step
    return step_ is not None and worse >= step_


def _close(rs: RuleState) -> None:
    rs.phase = IDLE
    rs.bits = 0
    rs.breach_since = None
    rs.clear_run = 0


def _raise(
    rule: Rule,
    rs: RuleState,
    v: Vital,
    worse: float,
    patient: PatientState,
    clock: Clock,
    out: list[Alert],
) -> None:
    cfg = rule.config
    severity: Severity = cfg.severity
    age = getattr(v, "age", None)  # a ProcessedVital carries the joined metadata
    if age is None:
        age = patient.age
    if cfg.critical_over_age is not None and age is not None and age > cfg.critical_over_age:
        severity = "critical"
    rs.phase = ACTIVE
    rs.notified = worse
    rs.severity = severity
    rs.clear_run = 0
    out.append(_alert(rule, rs, v, "raised", severity, clock, age=age))


def _next_band(severity: str) -> Severity:
    i = SEVERITIES.index(severity) if severity in SEVERITIES else 0
    return SEVERITIES[min(i + 1, len(SEVERITIES) - 1)]


def _alert(
    rule: Rule,
    rs: RuleState,
    v: Vital,
    state: AlertState,
    severity: str,
    clock: Clock,
    age: int | None = None,
) -> Alert:
    values = rule.values(v)
    if age is not None and rule.config.critical_over_age is not None:
        values["age"] = age
    shown = ", ".join(f"{k}={x}" for k, x in values.items())
    return Alert(
        alert_id=alert_id(v.patient_id, rule.name, state, v.event_id),
        patient_id=v.patient_id,
        rule=rule.name,
        severity=severity,  # type: ignore[arg-type]
        state=state,
        values=values,
        event_time=v.event_time,
        raise_time=clock.now(),
        event_id=v.event_id,
        message=f"{rule.name} {state} ({shown})",
    )
