"""The fixed-threshold alert rules and their configuration.

Each rule watches one or two :class:`~vitalstream.events.canonical.Vital` fields. Its *kind*
(which way is bad, and whether the threshold itself breaches) is part of the clinical
definition; the numbers are configuration (:class:`RuleConfig`).

Defaults (:func:`default_rules`)
--------------------------------
======================= ===================== ========================== ========== ========
rule                    raise                 clear (hysteresis)         escalate   severity
======================= ===================== ========================== ========== ========
``low_spo2``            spo2 < 90             spo2 ≥ 92                  −4 points  high
``tachycardia``         heart_rate > 100      heart_rate ≤ 95            +20 /min   medium
``bradycardia``         heart_rate < 60       heart_rate ≥ 62            −10 /min   medium
``hypertensive_crisis`` systolic ≥ 180 or     systolic < 170 and         +20 mmHg   high
                        diastolic ≥ 120       diastolic < 110
``fever``               temperature_c ≥ 38.0  temperature_c < 37.8       +1.0 °C    medium
``fall``                fall_detected true    fall_detected false, or    —          high;
                                              300 s without a new fall              critical
                                                                                    if age > 65
======================= ===================== ========================== ========== ========

Vital-sign rules raise when the condition has *persisted*: held for ``persistence_s`` = 30 s
of event time (consecutive breaching samples, the first and the latest at least 30 s apart)
**or** breached in ``k_of_n`` = 3 of the last 5 samples, whichever comes first. Samples more
than ``max_gap_s`` = 3600 s apart do not count as one episode. They clear after
``clear_samples`` = 2 consecutive samples past the clear threshold, and a re-raise within
``suppression_s`` = 300 s of a clear is suppressed (see :mod:`vitalstream.clinical.episode`).
``fall`` is instantaneous (no persistence), clears on one ``fall_detected`` false reading or
after ``auto_clear_s`` = 300 s without another fall, and suppresses re-raises for 60 s.

Which alternative of ``k_of_n`` / ``persistence_s`` fits depends on the sampling rate: at 1 Hz
three samples take two seconds, so a dense stream may want ``k_of_n=(25, 30)`` or ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from types import MappingProxyType
from typing import Literal

from vitalstream.errors import ConfigError
from vitalstream.events.canonical import Severity, Vital

Direction = Literal["below", "above", "flag"]

SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")


@dataclass(frozen=True, slots=True)
class RuleKind:
    """The clinical definition of a rule: which fields, which way is bad, strictness.

    ``below``: breach when a value < threshold, clear when every value ≥ clear threshold.
    ``above`` with ``inclusive``: breach when a value ≥ threshold, clear when all < clear.
    ``above`` strict: breach when a value > threshold, clear when all ≤ clear.
    ``flag``: breach when the (boolean) field is true, clear when it is false.
    """

    name: str
    fields: tuple[str, ...]
    direction: Direction
    inclusive: bool = False


KINDS: Mapping[str, RuleKind] = MappingProxyType(
    {
        "low_spo2": RuleKind("low_spo2", ("spo2",), "below"),
        "tachycardia": RuleKind("tachycardia", ("heart_rate",), "above"),
        "bradycardia": RuleKind("bradycardia", ("heart_rate",), "below"),
        "hypertensive_crisis": RuleKind(
            "hypertensive_crisis", ("systolic", "diastolic"), "above", inclusive=True
        ),
        "fever": RuleKind("fever", ("temperature_c",), "above", inclusive=True),
        "fall": RuleKind("fall", ("fall_detected",), "flag"),
    }
)


@dataclass(frozen=True)
class RuleConfig:
    """Numbers and switches of one rule. Times are seconds of *event* time.

    ``thresholds`` / ``clear_thresholds`` map a watched field to its raise / clear threshold.
    ``persistence_s`` and ``k_of_n`` are alternatives (either satisfies persistence; ``None``
    disables one; both ``None`` raises on the first breaching sample). ``escalation_step``
    is how much worse (in the field's unit) than the last notification a value must get to
    re-notify as ``escalated`` (``None``: never). ``critical_over_age`` makes a raise
    critical when the patient is older than that. ``auto_clear_s`` clears an active alert
    when no breaching sample arrived for that long (for events with no "normal" reading).
    """

    thresholds: Mapping[str, float] = field(default_factory=dict)
    clear_thresholds: Mapping[str, float] = field(default_factory=dict)
    enabled: bool = True
    persistence_s: float | None = 30.0
    k_of_n: tuple[int, int] | None = (3, 5)
    clear_samples: int = 2
    suppression_s: float = 300.0
    severity: Severity = "medium"
    escalation_step: float | None = None
    critical_over_age: int | None = None
    auto_clear_s: float | None = None
    max_gap_s: float | None = 3600.0

    def __post_init__(self) -> None:
        if self.k_of_n is not None:
            k, n = self.k_of_n
            if not (1 <= k <= n <= 64):
                raise ConfigError(f"k_of_n must satisfy 1 <= k <= n <= 64, got {self.k_of_n}")
        for name in ("persistence_s", "auto_clear_s", "max_gap_s", "escalation_step"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ConfigError(f"{name} must be >= 0 or None, got {value}")
        if self.suppression_s < 0:
            raise ConfigError(f"suppression_s must be >= 0, got {self.suppression_s}")
        if self.clear_samples < 1:
            raise ConfigError(f"clear_samples must be >= 1, got {self.clear_samples}")
        for label, table in (("thresholds", self.thresholds),
                             ("clear_thresholds", self.clear_thresholds)):
            for name, value in table.items():
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    math.isfinite(value)
                ):
                    raise ConfigError(f"{label}[{name!r}] must be a finite number, got {value!r}")
        if self.severity not in SEVERITIES:
            raise ConfigError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    def with_(self, **changes: object) -> RuleConfig:
        """A copy with some settings changed (``dataclasses.replace``)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def default_rules() -> dict[str, RuleConfig]:
    """The default configuration of every rule (see the module docstring)."""
    return {
        "low_spo2": RuleConfig(
            {"spo2": 90}, {"spo2": 92}, severity="high", escalation_step=4
        ),
        "tachycardia": RuleConfig(
            {"heart_rate": 100}, {"heart_rate": 95}, severity="medium", escalation_step=20
        ),
        "bradycardia": RuleConfig(
            {"heart_rate": 60}, {"heart_rate": 62}, severity="medium", escalation_step=10
        ),
        "hypertensive_crisis": RuleConfig(
            {"systolic": 180, "diastolic": 120},
            {"systolic": 170, "diastolic": 110},
            severity="high",
            escalation_step=20,
        ),
        "fever": RuleConfig(
            {"temperature_c": 38.0}, {"temperature_c": 37.8}, severity="medium",
            escalation_step=1.0,
        ),
        "fall": RuleConfig(
            persistence_s=None,
            k_of_n=None,
            clear_samples=1,
            suppression_s=60.0,
            severity="high",
            critical_over_age=65,
            auto_clear_s=300.0,
            max_gap_s=None,
        ),
    }


class Rule:
    """A :class:`RuleKind` compiled with its :class:`RuleConfig` into fast predicates.

    ``breach(v)``, ``clears(v)`` and ``worse(v)`` look only at the vital's own fields; a
    field that is ``None`` neither breaches nor blocks a clear. ``worse`` is how far beyond
    the raise threshold the reading is, in the field's unit (≥ 0 when breaching; for two
    fields the larger excess), and drives escalation.
    """

    __slots__ = (
        "auto_clear",
        "breach",
        "clears",
        "config",
        "fields",
        "kind",
        "mask",
        "max_gap",
        "name",
        "persistence",
        "steady",
        "suppression",
        "worse",
    )

    def __init__(self, kind: RuleKind, config: RuleConfig) -> None:
        self.name = kind.name
        self.kind = kind
        self.config = config
        self.fields = kind.fields
        self.mask = (1 << config.k_of_n[1]) - 1 if config.k_of_n else 0
        self.persistence = _td(config.persistence_s)
        self.suppression = timedelta(seconds=config.suppression_s)
        self.auto_clear = _td(config.auto_clear_s)
        self.max_gap = _td(config.max_gap_s)
        if kind.direction != "flag":
            for label, table in (
                ("thresholds", config.thresholds),
                ("clear_thresholds", config.clear_thresholds),
            ):
                if set(table) != set(kind.fields):
                    raise ConfigError(
                        f"rule {kind.name}: {label} must set exactly {list(kind.fields)}, "
                        f"got {sorted(table)}"
                    )
        self.breach, self.clears, self.worse = _predicates(kind, config)
        # An open episode's breaching reading can then only escalate it (see episode.step).
        self.steady = config.auto_clear_s is None and _exclusive(kind, config)

    def values(self, v: Vital) -> dict[str, float | int | bool]:
        """The watched fields of ``v`` that are present (for ``Alert.values``)."""
        out: dict[str, float | int | bool] = {}
        for f in self.fields:
            x = getattr(v, f)
            if x is not None:
                out[f] = x
        return out

    def __repr__(self) -> str:
        return f"Rule({self.name!r}, {self.config!r})"


def _exclusive(kind: RuleKind, cfg: RuleConfig) -> bool:
    """Whether a breaching reading never also clears: every clear threshold is on the
    breaching side of (or at) its raise threshold."""
    if kind.direction == "flag":
        return True
    below = kind.direction == "below"
    return all(cfg.clear_thresholds[f] >= cfg.thresholds[f] if below else cfg.clear_thresholds[f] <= cfg.thresholds[f]
               for f in kind.fields)


def _td(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)


Predicate = Callable[[Vital], bool]
Measure = Callable[[Vital], float]


def _predicates(kind: RuleKind, cfg: RuleConfig) -> tuple[Predicate, Predicate, Measure]:
    # Closures over plain locals: this runs for every reading of the watched field.
    if kind.direction == "flag":
        (f,) = kind.fields
        return (
            lambda v: getattr(v, f) is True,
            lambda v: getattr(v, f) is False,
            lambda v: 0.0,
        )
    below = kind.direction == "below"
    if len(kind.fields) == 1:
        (f,) = kind.fields
        t, c = cfg.thresholds[f], cfg.clear_thresholds[f]
        if below:
            return (
                lambda v: (x := getattr(v, f)) is not None and x < t,
                lambda v: (x := getattr(v, f)) is None or x >= c,
                lambda v: t - getattr(v, f),
            )
        if kind.inclusive:
            return (
                lambda v: (x := getattr(v, f)) is not None and x >= t,
                lambda v: (x := getattr(v, f)) is None or x < c,
                lambda v: getattr(v, f) - t,
            )
        return (
            lambda v: (x := getattr(v, f)) is not None and x > t,
            lambda v: (x := getattr(v, f)) is None or x <= c,
            lambda v: getattr(v, f) - t,
        )

    pairs = [(f, cfg.thresholds[f], cfg.clear_thresholds[f]) for f in kind.fields]
    sign = -1.0 if below else 1.0

    def breach(v: Vital) -> bool:
        for f, t, _ in pairs:
            x = getattr(v, f)
            if x is None:
                continue
            if below:
                if x < t:
                    return True
            elif x > t or (kind.inclusive and x == t):
                return True
        return False

    def clears(v: Vital) -> bool:
        for f, _, c in pairs:
            x = getattr(v, f)
            if x is None:
                continue
            if below:
                if x < c:
                    return False
            elif x > c or (kind.inclusive and x == c):
                return False
        return True

    def worse(v: Vital) -> float:
        excess = [sign * (x - t) for f, t, _ in pairs if (x := getattr(v, f)) is not None]
        return max(excess) if excess else 0.0

    return breach, clears, worse


def breach_expression(rule: Rule) -> str:
    """``rule.breach(v)`` as a Python expression over ``v`` (it assigns ``x``), for generated
    straight-line code. Field names come from :data:`KINDS`; thresholds are validated finite
    numbers, written exactly (``repr``)."""
    kind = rule.kind
    if kind.direction == "flag":
        return " or ".join(f"v.{f} is True" for f in kind.fields)
    op = "<" if kind.direction == "below" else ">=" if kind.inclusive else ">"
    return " or ".join(f"((x := v.{f}) is not None and x {op} {_exact(rule.config.thresholds[f])})"
                       for f in kind.fields)


def _exact(number: float) -> str:
    # a plain int or float literal of the same value (an int or float subclass may not repr as one)
    return repr(int(number)) if isinstance(number, int) else repr(float(number))


def any_breach(rules: Sequence[Rule]) -> Predicate:
    """One predicate equal to ``any(r.breach(v) for r in rules)``, for the common path.

    Generated as straight-line code (like ``dataclasses`` does) because a vital that breaches
    nothing is the overwhelmingly common case and a Python loop over rules is most of its
    cost (see :func:`breach_expression`).
    """
    lines = ["def any_breach(v):"]
    lines += [f"    if {breach_expression(rule)}: return True" for rule in rules]
    lines.append("    return False")
    namespace: dict[str, Predicate] = {}
    exec("\n".join(lines), {}, namespace)
    return namespace["any_breach"]


def compile_rules(configs: Mapping[str, RuleConfig]) -> list[Rule]:
    """Compile the enabled rules; an unknown rule name is a :class:`ConfigError`."""
    unknown = set(configs) - set(KINDS)
    if unknown:
        raise ConfigError(f"unknown rules {sorted(unknown)}; known: {sorted(KINDS)}")
    return [Rule(KINDS[name], cfg) for name, cfg in configs.items() if cfg.enabled]
