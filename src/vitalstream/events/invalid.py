"""The one error :func:`vitalstream.events.decode` raises for bad input."""

from __future__ import annotations

import re

from ..errors import InvalidData

_AT_PATH = re.compile(r"at `\$((?:\.[^`]+?)?)`")
_MISSING = re.compile(r"missing required field `([^`]+)`")
_FIELD_PREFIX = re.compile(r"^([A-Za-z_]\w*(?: [A-Z]\w*)?): ")


class InvalidEvent(InvalidData):
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
        """Wrap a msgspec error message; the field comes from ``at `$.x```, ``missing
        required field `x``` or a ``x: ...`` prefix (our own physiology checks)."""
        field: str | None = None
        match = _AT_PATH.search(message)
        path = match.group(1)[1:] if match and match.group(1) else ""
        missing = _MISSING.search(message)
        if missing:
            field = f"{path}.{missing.group(1)}" if path else missing.group(1)
        elif path:
            field = path
        else:
            prefix = _FIELD_PREFIX.match(message)
            if prefix:
                field = prefix.group(1)
        return cls(f"{topic}: {message}", field)
