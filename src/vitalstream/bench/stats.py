"""The arithmetic of repeated, interleaved runs: summaries, the run order, output counts.

Pure functions (no I/O), so they are unit-tested apart from any broker.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def summary(values: Iterable[float | None]) -> dict[str, Any]:
    """Median and min–max of the measured values (``None``: a failed run, left out)."""
    got = sorted(v for v in values if v is not None)
    if not got:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(got), "min": got[0], "max": got[-1], "n": len(got)}


def interleave(names: Sequence[str], repeats: int) -> list[tuple[int, str]]:
    """``(repeat, name)`` in the order A B C A B C …: slow drifts of the machine's load then
    touch every implementation alike instead of favouring whichever ran first."""
    return [(r, name) for r in range(repeats) for name in names]


def compare_counts(counts: Mapping[str, Mapping[str, int | None]]) -> dict[str, Any]:
    """Output records per kind (processed, alerts, …) of each implementation, side by side.

    ``counts`` maps implementation → kind → records. The result has one row per kind with every
    implementation's count and whether they all agree (implementations that do not produce a
    kind, ``None``, are left out of the agreement).
    """
    kinds = sorted({k for per in counts.values() for k in per})
    rows = {}
    for kind in kinds:
        row = {impl: per.get(kind) for impl, per in counts.items()}
        present = {v for v in row.values() if v is not None}
        rows[kind] = {"counts": row, "agree": len(present) <= 1}
    return {"kinds": rows, "agree": all(r["agree"] for r in rows.values()),
            "differ": [k for k, r in rows.items() if not r["agree"]]}


def counts_line(comparison: Mapping[str, Any]) -> str:
    """One printable line per kind: ``alerts: quix 1,204 · vitalstream 1,198 (differ)``."""
    lines = []
    for kind, row in comparison["kinds"].items():
        shown = " · ".join(f"{impl} {'-' if n is None else format(n, ',')}" for impl, n in row["counts"].items())
        lines.append(f"{kind}: {shown}{'' if row['agree'] else ' (differ)'}")
    return "\n".join(lines)


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50/p95/p99 (nearest rank) and the maximum, rounded to 0.1."""
    if not values:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    s = sorted(values)

    def p(q: float) -> float:
        return round(s[min(len(s) - 1, math.ceil(q * len(s)) - 1)], 1)

    return {"p50_ms": p(0.50), "p95_ms": p(0.95), "p99_ms": p(0.99), "max_ms": round(s[-1], 1)}
