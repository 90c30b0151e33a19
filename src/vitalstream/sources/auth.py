"""API keys for the HTTP edge: who may send, and for which device.

Configured as ``http.api_keys`` (env ``VITALSTREAM_HTTP_API_KEYS``, comma-separated):

* ``device_id:key`` — a per-device key; it may only send events whose partition key (device
  id, or patient/user id for sources keyed that way) is ``device_id``;
* ``key`` — a gateway key that may send for any device.

A request carries the key as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.
Keys are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from ..errors import TerminalError

ANY_DEVICE = None


class AuthError(TerminalError):
    """``status`` 401 (no credentials) or 403 (unknown key / wrong device)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: ``device`` is ``None`` for a key valid for every device."""

    device: str | None

    def may_send(self, device: str) -> bool:
        return self.device is None or self.device == device


GATEWAY = Principal(None)


class KeyRing:
    """The configured keys. ``enabled=False`` lets every request in (development only)."""

    def __init__(self, entries: tuple[str, ...] | list[str], enabled: bool = True) -> None:
        self.enabled = enabled
        self._keys: dict[bytes, str | None] = {}
        for entry in entries:
            entry = entry.strip()
            if not entry:
                continue
            device, sep, key = entry.rpartition(":")
            if not sep:
                device, key = "", entry
            if not key:
                raise ValueError("http.api_keys: an entry has an empty key (use device_id:key or key)")
            self._keys[key.encode()] = device or None

    def __len__(self) -> int:
        return len(self._keys)

    def lookup(self, key: str) -> Principal | None:
        candidate = key.encode()
        found: Principal | None = None
        # Compare against every key so timing does not tell how many keys match a prefix.
        for known, device in self._keys.items():
            if hmac.compare_digest(known, candidate):
                found = Principal(device)
        return found

    def authenticate(self, authorization: str | None, api_key: str | None) -> Principal:
        """The caller behind these headers, or :class:`AuthError` (401 / 403)."""
        if not self.enabled:
            return GATEWAY
        key = api_key
        if key is None and authorization is not None:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise AuthError(401, "Authorization must be 'Bearer <key>'")
            key = token.strip()
        if not key:
            raise AuthError(401, "missing credentials: send Authorization: Bearer <key> or X-API-Key")
        principal = self.lookup(key)
        if principal is None:
            raise AuthError(403, "unknown API key")
        return principal
