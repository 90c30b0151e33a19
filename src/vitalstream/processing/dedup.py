"""Recently seen event ids, bounded: a duplicate is dropped once and counted."""

from __future__ import annotations

from collections import OrderedDict


class RecentIds:
    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()
        self.duplicates = 0

    def seen(self, event_id: str) -> bool:
        """True if ``event_id`` was seen recently (and count it); else remember it."""
        ids = self._ids
        if event_id in ids:
            self.duplicates += 1
            return True
        ids[event_id] = None
        if len(ids) > self.capacity:
            ids.popitem(last=False)
        return False
