"""Recently seen event ids, bounded: a duplicate is dropped once and counted.

Two generations of sets: when the young one fills up, it becomes the old one and the previous
old one is forgotten. Lookups stay two set probes, and at least ``capacity`` ids are remembered.
"""

from __future__ import annotations


class RecentIds:
    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = max(1, capacity)
        self._young: set[str] = set()
        self._old: set[str] = set()
        self.duplicates = 0

    def seen(self, event_id: str) -> bool:
        """True if ``event_id`` was seen recently (and count it); else remember it."""
        if event_id in self._young or event_id in self._old:
            self.duplicates += 1
            return True
        self._young.add(event_id)
        if len(self._young) >= self.capacity:
            self._old, self._young = self._young, set()
        return False
