"""API keys for the HTTP edge: who may send, for which device, to which topics.

Every key belongs to one *principal* with one role (settings ``http.*_keys`` as ``id=key``
pairs, split at the **first** ``=``, so a key may contain ``:`` or ``=``; or
``http.keys_file``, one ``ROLE ID=KEY`` per line):

* ``device``  — ``id`` is the device (partition key: device id, or patient/user id for sources
  keyed that way); the key may only send that device's events;
* ``gateway`` — any device, raw topics only;
* ``admin``   — any device, and the reference topics (patient metadata, users, activities,
  user profiles).

The deprecated ``http.api_keys`` still works as before: ``device_id:key`` (split at the last
``:``) is a device key, a bare key is a gateway key (without the admin scope).

A request carries the key as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. Keys
are compared in constant time and never logged; the principal's ``name`` (``role:id``) is
what logs, limits and dead letters show.
"""

from __future__ import annotations

import hmac
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError, TerminalError

if TYPE_CHECKING:
    from ..config import HttpSettings

ROLES = ("device", "gateway", "admin")


class AuthError(TerminalError):
    """``status`` 401 (no credentials) or 403 (unknown key / wrong device / no scope)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. ``id`` names it (never the key); ``device`` is set for a
    device key only."""

    role: str
    id: str

    @property
    def name(self) -> str:
        return f"{self.role}:{self.id}"

    @property
    def device(self) -> str | None:
        return self.id if self.role == "device" else None

    @property
    def admin(self) -> bool:
        return self.role == "admin"

    def may_send(self, device: str) -> bool:
        return self.role != "device" or self.id == device


#: The caller when authentication is switched off (development only).
ANONYMOUS = Principal("gateway", "anonymous")


def _pair(entry: str, where: str) -> tuple[str, str]:
    ident, sep, key = entry.partition("=")
    ident, key = ident.strip(), key.strip()
    if not sep or not ident or not key:
        raise ConfigError(f"{where}: an entry is not 'id=key' (id before the first '=', "
                          "then the key)")
    return ident, key


def _legacy(entries: tuple[str, ...] | list[str]) -> list[tuple[Principal, str]]:
    out = []
    gateways = 0
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        device, sep, key = entry.rpartition(":")
        if not key:
            raise ConfigError("http.api_keys: an entry has an empty key (use device_id:key or key)")
        if sep and device:
            out.append((Principal("device", device), key))
        else:
            gateways += 1
            out.append((Principal("gateway", f"api-key-{gateways}"), key))
    return out


def read_keys_file(path: str | os.PathLike[str]) -> list[tuple[Principal, str]]:
    """``ROLE ID=KEY`` lines; ``#`` comments and blank lines ignored."""
    p = Path(path).expanduser()
    try:
        text = p.read_text()
    except OSError as exc:
        raise ConfigError(f"http.keys_file {p}: cannot read it ({exc.strerror})") from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        role, _, rest = line.partition(" ")
        if role not in ROLES:
            raise ConfigError(f"http.keys_file {p} line {n}: start with one of "
                              f"{', '.join(ROLES)}, then ID=KEY")
        ident, key = _pair(rest, f"http.keys_file {p} line {n}")
        out.append((Principal(role, ident), key))
    return out


def configured_keys(http: HttpSettings) -> list[tuple[Principal, str]]:
    """Every configured (principal, key), from all the key settings."""
    out: list[tuple[Principal, str]] = []
    for role in ROLES:
        for entry in getattr(http, f"{role}_keys"):
            if entry.strip():
                ident, key = _pair(entry, f"http.{role}_keys")
                out.append((Principal(role, ident), key))
    if http.keys_file:
        out += read_keys_file(http.keys_file)
    return out + _legacy(http.api_keys)


def key_warnings(http: HttpSettings) -> list[str]:
    """What an operator should fix about the key settings (shown when the server starts)."""
    out = []
    if http.api_keys:
        out.append("http.api_keys (VITALSTREAM_HTTP_API_KEYS) is deprecated: a ':' in a key "
                   "makes it a device key, and its bare keys cannot write reference topics; "
                   "use http.device_keys / gateway_keys / admin_keys (id=key) or http.keys_file")
    if http.keys_file:
        try:
            mode = Path(http.keys_file).expanduser().stat().st_mode
        except OSError:
            mode = 0
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            out.append(f"http.keys_file {http.keys_file} is readable by other users: "
                       "chmod 600 it")
    return out


def default_client_key(http: HttpSettings) -> str | None:
    """The key a local client (simulator, replay) uses by default: the most capable one."""
    keys = configured_keys(http)
    for role in ("admin", "gateway", "device"):
        for principal, key in keys:
            if principal.role == role:
                return key
    return None


class KeyRing:
    """The configured keys. ``enabled=False`` lets every request in (development only)."""

    def __init__(self, keys: list[tuple[Principal, str]], enabled: bool = True) -> None:
        self.enabled = enabled
        self._keys: dict[bytes, Principal] = {}
        for principal, key in keys:
            raw = key.encode()
            if raw in self._keys and self._keys[raw] != principal:
                raise ConfigError(f"API keys of {self._keys[raw].name} and {principal.name} "
                                  "are the same key: give each principal its own")
            self._keys[raw] = principal

    @classmethod
    def from_settings(cls, http: HttpSettings) -> KeyRing:
        return cls(configured_keys(http), enabled=http.auth)

    def __len__(self) -> int:
        return len(self._keys)

    def lookup(self, key: str) -> Principal | None:
        candidate = key.encode()
        found: Principal | None = None
        # Compare against every key so timing does not tell how many keys match a prefix.
        for known, principal in self._keys.items():
            if hmac.compare_digest(known, candidate):
                found = principal
        return found

    def authenticate(self, authorization: str | None, api_key: str | None) -> Principal:
        """The caller behind these headers, or :class:`AuthError` (401 / 403)."""
        if not self.enabled:
            return ANONYMOUS
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
