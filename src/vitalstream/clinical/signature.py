"""What a NEWS2 score says, as one int, and whether new readings can change it.

:mod:`.tracker` keeps the signature of the score it last emitted for each minute (``0``: none
yet) and emits a minute again only when the signature changes. :func:`unchanged_by` answers,
without scoring the minute, whether the minute's new readings leave the signature as it is;
that makes NEWS2 cost per change rather than per reading.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from vitalstream.clinical import news2

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


def unchanged_by(sent: int, readings: Mapping[str, tuple[Any, datetime]], params: Iterable[str]) -> bool:
    """Whether the newest minute, last scored as ``sent`` (scale 1) and changed since only by
    in-order readings of ``params`` whose latest are ``readings[p]``, still scores the same:
    each must chart the sub-score the last score holds for its parameter. Only the latest
    reading of each counts (the score uses nothing else), so a minute is checked once per
    batch, not per reading."""
    for p in params:
        shift, subscore = _SUBSCORE[p]
        reading = readings.get(p)
        if reading is None:
            return False
        try:
            sub = subscore(reading[0])
        except (ValueError, TypeError):
            return False  # unscoreable: the full scoring decides what counts
        if (sent >> shift) & 7 != sub + 1:
            return False
    return True
