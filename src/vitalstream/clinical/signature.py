"""What a NEWS2 score says, as one int, and whether a new reading can change it.

:mod:`.tracker` keeps the signature of the score it last emitted for each minute (``0``: none
yet) and emits a minute again only when the signature changes. :func:`unchanged_by` answers,
without scoring the minute, whether a new reading of the patient's newest minute leaves the
signature as it is; that makes NEWS2 cost per change rather than per reading.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from vitalstream.clinical import news2
from vitalstream.events.canonical import Vital

_SIG_BITS = tuple((p, 3 * i) for i, p in enumerate(news2.PARAMETERS))


def signature(result: news2.News2Result, scale: int) -> int:
    """What a score says, as one int: 3 bits per parameter (sub-score + 1, 0 = missing) and
    the scale; total and band follow from them. Never 0, the "nothing sent" mark."""
    sub = result.subscores
    sig = scale
    for p, shift in _SIG_BITS:
        x = sub.get(p)
        if x is not None:
            sig |= (x + 1) << (shift + 2)
    return sig


def _oxygen(on_oxygen: object) -> int:
    return news2.air_or_oxygen_score(bool(on_oxygen))


# Sub-score of one parameter on SpO2 scale 1, where each depends on its own value alone.
_SCORERS: tuple[Callable[[Any], int], ...] = (
    news2.respiration_score, news2.spo2_scale1_score, _oxygen, news2.systolic_score,
    news2.pulse_score, news2.consciousness_score, news2.temperature_score,
)
_SUBSCORE = {p: (shift + 2, fn) for (p, shift), fn in zip(_SIG_BITS, _SCORERS, strict=True)}
assert tuple(_SUBSCORE) == news2.PARAMETERS


def unchanged_by(sent: int, v: Vital, params: Sequence[str]) -> bool:
    """Whether the newest minute, last scored as ``sent`` (scale 1) and not changed since but
    by ``v``'s readings of ``params``, still scores the same: every one of them must chart
    the sub-score the last score holds for its parameter. Cheaper than scoring the minute,
    which is what makes NEWS2 cost per change rather than per reading."""
    return unchanged_check(tuple(params))(sent, v)


Check = Callable[[int, Vital], bool]
_CHECKS: dict[tuple[str, ...], Check] = {}


def unchanged_check(params: tuple[str, ...]) -> Check:
    """:func:`unchanged_by` for a fixed ``params``, as ``check(sent, v)``, with its lookups
    done once and cached: a vital has one of a few shapes."""
    got = _CHECKS.get(params)
    if got is None:
        got = _CHECKS[params] = _compiled(params)
    return got


def _compiled(params: tuple[str, ...]) -> Check:
    checks = tuple((shift, subscore, attrgetter(p)) for p in params
                   for shift, subscore in (_SUBSCORE[p],))

    def check(sent: int, v: Vital) -> bool:
        for shift, subscore, get in checks:
            try:
                sub = subscore(get(v))
            except (ValueError, TypeError):
                return False  # unscoreable: the full scoring decides what counts
            if (sent >> shift) & 7 != sub + 1:
                return False
        return True

    return check
