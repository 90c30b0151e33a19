"""Cheap timestamp text: the date/hour/minute prefix is formatted once per minute."""

from __future__ import annotations

from datetime import UTC, datetime


class MinuteCachedFormat:
    """Milliseconds since the epoch -> ``<date><sep><HH:MM:SS.mmm><suffix>`` in UTC."""

    def __init__(self, sep: str = "T", suffix: str = "Z") -> None:
        self._pattern = f"%Y-%m-%d{sep}%H:%M:"
        self._suffix = suffix
        self._minute = -1
        self._prefix = ""

    def __call__(self, ms: int) -> str:
        minute, rem = divmod(ms, 60_000)
        if minute != self._minute:
            self._minute = minute
            self._prefix = datetime.fromtimestamp(minute * 60, UTC).strftime(self._pattern)
        seconds, milli = divmod(rem, 1000)
        return f"{self._prefix}{seconds:02d}.{milli:03d}{self._suffix}"


def iso_utc(ms: int) -> str:
    """``2024-04-01T08:00:00Z`` (second precision) for reference records."""
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def uuid4_text(bits: int) -> str:
    """A version-4 UUID string from 128 random bits (deterministic, unlike uuid.uuid4)."""
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"
