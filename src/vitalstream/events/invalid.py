"""The one error :func:`vitalstream.events.decode` raises for bad input."""

from __future__ import annotations

import re

_AT_PATH = re.compile(r"at `\$((?:\.[^`]+?)?)`")
_FIELD_PREFIX = re.compile(r"^([A-Za-z_]\w*(?: [A-Z]\w*)?): ")


class InvalidEvent(ValueError):
    """A message that cannot become a typed event.

    ``reason`` is readable and carries no PHI: it names fields and allowed ranges, never the
    offending value. ``field`` is the dotted field path when one field is to blame.
    """

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field

    @classmethod
    def from_validation(cls, topic: str, message: str) -> InvalidEvent:
        """Wrap a msgspec error message; pull the field out of ``at `$.x``` or ``x: ...``."""
        field: str | None = None
        match = _AT_PATH.search(message)
        if match and match.group(1):
            field = match.group(1)[1:]
        else:
            prefix = _FIELD_PREFIX.match(message)
            if prefix:
                field = prefix.group(1)
        return cls(f"{topic}: {message}", field)
