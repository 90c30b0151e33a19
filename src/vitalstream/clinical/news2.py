"""NEWS2 (Royal College of Physicians, 2017) as pure functions.

Every parameter is scored by its own function, with the boundaries of the RCP chart exactly
(Royal College of Physicians, 2017). Parameter names are the :class:`~vitalstream.events.canonical.Vital`
field names, so a vital's fields feed :func:`score` directly:

=================== ===================== ==========================================
parameter           chart row             value
=================== ===================== ==========================================
``respiratory_rate`` Respiration rate      breaths/min
``spo2``            SpO2 scale 1 or 2     %
``on_oxygen``       Air or oxygen         ``True`` on supplemental oxygen, ``False`` on air
``systolic``        Systolic BP           mmHg
``heart_rate``      Pulse                 beats/min
``consciousness``   Consciousness         ACVPU letter: ``A`` alert; ``C`` new confusion,
                                          ``V`` voice, ``P`` pain, ``U`` unresponsive
``temperature_c``   Temperature           °C
=================== ===================== ==========================================

Values are rounded the way they are charted before scoring: rates, SpO2 and blood pressure to
whole numbers, temperature to one decimal, both half-up (so 38.05 °C charts as 38.1 and scores
1; 37.99999 from a °F conversion charts as 38.0 and scores 0).

A parameter whose value is ``None`` (or absent) is *missing*: it is listed in
``News2Result.missing``, contributes nothing to the total, and the result is *partial*. A
partial total is therefore a lower bound, never a silent 0. With SpO2 scale 2 and unknown
air/oxygen, a saturation of 93 % or more is scored as on air (the lower bound) and
``on_oxygen`` is listed as missing.

Bands: total ≥ 7 ``high``; 5–6 ``medium``; 0–4 ``low-medium`` when any single parameter
scores 3, else ``low``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal, NamedTuple

Band = Literal["low", "low-medium", "medium", "high"]

PARAMETERS: tuple[str, ...] = (
    "respiratory_rate",
    "spo2",
    "on_oxygen",
    "systolic",
    "heart_rate",
    "consciousness",
    "temperature_c",
)

ACVPU = frozenset("ACVPU")
_ACVPU_WORDS = {
    **{c.lower(): c for c in "ACVPU"},
    "alert": "A",
    "confusion": "C",
    "new confusion": "C",
    "confused": "C",
    "voice": "V",
    "pain": "P",
    "unresponsive": "U",
}


class News2Result(NamedTuple):
    """``(total, band, subscores, missing)``; ``partial`` is true when anything is missing."""

    total: int
    band: Band
    subscores: dict[str, int]
    missing: list[str]

    @property
    def partial(self) -> bool:
        return bool(self.missing)


def _charted(value: float, places: int = 0) -> int:
    """The value as charted in whole units (``places`` 0) or tenths (1), rounded half-up.

    The 1e-9 nudge makes a decimal half (36.05, stored as 36.04999…) round up, as it would on
    paper; values already charted to ``places`` decimals are never moved across a boundary.
    """
    scale = 10 if places else 1
    if type(value) is int:
        return value * scale
    try:
        return math.floor(value * scale + 0.5 + 1e-9)
    except (ValueError, OverflowError, TypeError) as exc:
        raise ValueError(f"not a finite number: {value!r}") from exc


def respiration_score(rate: float) -> int:
    """≤8 → 3; 9–11 → 1; 12–20 → 0; 21–24 → 2; ≥25 → 3."""
    r = rate if type(rate) is int else _charted(rate)
    if r <= 8:
        return 3
    if r <= 11:
        return 1
    if r <= 20:
        return 0
    if r <= 24:
        return 2
    return 3


def spo2_scale1_score(spo2: float) -> int:
    """SpO2 scale 1: ≤91 → 3; 92–93 → 2; 94–95 → 1; ≥96 → 0."""
    s = spo2 if type(spo2) is int else _charted(spo2)
    if s <= 91:
        return 3
    if s <= 93:
        return 2
    if s <= 95:
        return 1
    return 0


def spo2_scale2_score(spo2: float, on_oxygen: bool) -> int:
    """SpO2 scale 2 (prescribed 88–92 % target).

    ≤83 → 3; 84–85 → 2; 86–87 → 1; 88–92 → 0; ≥93 on air → 0;
    on oxygen: 93–94 → 1; 95–96 → 2; ≥97 → 3.
    """
    s = spo2 if type(spo2) is int else _charted(spo2)
    if s <= 83:
        return 3
    if s <= 85:
        return 2
    if s <= 87:
        return 1
    if s <= 92 or not on_oxygen:
        return 0
    if s <= 94:
        return 1
    if s <= 96:
        return 2
    return 3


def air_or_oxygen_score(on_oxygen: bool) -> int:
    """Oxygen → 2; air → 0."""
    return 2 if on_oxygen else 0


def systolic_score(systolic: float) -> int:
    """≤90 → 3; 91–100 → 2; 101–110 → 1; 111–219 → 0; ≥220 → 3."""
    s = systolic if type(systolic) is int else _charted(systolic)
    if s <= 90:
        return 3
    if s <= 100:
        return 2
    if s <= 110:
        return 1
    if s <= 219:
        return 0
    return 3


def pulse_score(rate: float) -> int:
    """≤40 → 3; 41–50 → 1; 51–90 → 0; 91–110 → 1; 111–130 → 2; ≥131 → 3."""
    p = rate if type(rate) is int else _charted(rate)
    if p <= 40:
        return 3
    if p <= 50:
        return 1
    if p <= 90:
        return 0
    if p <= 110:
        return 1
    if p <= 130:
        return 2
    return 3


def consciousness_score(level: str) -> int:
    """ACVPU: ``A`` (alert) → 0; ``C`` (new confusion), ``V``, ``P``, ``U`` → 3.

    The letter or the word (``alert``, ``confusion``/``new confusion``/``confused``,
    ``voice``, ``pain``, ``unresponsive``), any case. Anything else is a ``ValueError``.
    """
    code = _ACVPU_WORDS.get(level.strip().lower()) if isinstance(level, str) else None
    if code is None:
        raise ValueError(f"consciousness must be one of A, C, V, P, U; got {level!r}")
    return 0 if code == "A" else 3


def acvpu(level: object) -> str | None:
    """The ACVPU letter for ``level`` (letter or word), or ``None`` if it is not one."""
    return _ACVPU_WORDS.get(level.strip().lower()) if isinstance(level, str) else None


def temperature_score(celsius: float) -> int:
    """≤35.0 → 3; 35.1–36.0 → 1; 36.1–38.0 → 0; 38.1–39.0 → 1; ≥39.1 → 2 (one decimal)."""
    tenths = _charted(celsius, 1)
    if tenths <= 350:
        return 3
    if tenths <= 360:
        return 1
    if tenths <= 380:
        return 0
    if tenths <= 390:
        return 1
    return 2


def band(total: int, subscores: Mapping[str, int]) -> Band:
    """Clinical risk band from the total and the individual subscores."""
    if total >= 7:
        return "high"
    if total >= 5:
        return "medium"
    if any(s == 3 for s in subscores.values()):
        return "low-medium"
    return "low"


def score(params: Mapping[str, object], scale: int = 1) -> News2Result:
    """Score NEWS2 from ``params`` (keys from :data:`PARAMETERS`; other keys are ignored).

    ``scale`` selects the SpO2 scale: 1 (default) or 2 (only for patients with a prescribed
    88–92 % target). Raises ``ValueError`` for an unknown scale or an unscoreable value.
    """
    if scale not in (1, 2):
        raise ValueError(f"SpO2 scale must be 1 or 2, got {scale!r}")
    sub: dict[str, int] = {}
    missing = [p for p in PARAMETERS if params.get(p) is None]
    get = params.get
    rr = get("respiratory_rate")
    spo2 = get("spo2")
    on_o2 = get("on_oxygen")
    sbp = get("systolic")
    hr = get("heart_rate")
    acvpu = get("consciousness")
    temp = get("temperature_c")

    if rr is not None:
        sub["respiratory_rate"] = respiration_score(rr)  # type: ignore[arg-type]
    if spo2 is not None:
        if scale == 1:
            sub["spo2"] = spo2_scale1_score(spo2)  # type: ignore[arg-type]
        else:
            sub["spo2"] = spo2_scale2_score(spo2, bool(on_o2))  # type: ignore[arg-type]
    if on_o2 is not None:
        sub["on_oxygen"] = air_or_oxygen_score(bool(on_o2))
    if sbp is not None:
        sub["systolic"] = systolic_score(sbp)  # type: ignore[arg-type]
    if hr is not None:
        sub["heart_rate"] = pulse_score(hr)  # type: ignore[arg-type]
    if acvpu is not None:
        sub["consciousness"] = consciousness_score(acvpu)  # type: ignore[arg-type]
    if temp is not None:
        sub["temperature_c"] = temperature_score(temp)  # type: ignore[arg-type]

    total = sum(sub.values())
    return News2Result(total, band(total, sub), sub, missing)
