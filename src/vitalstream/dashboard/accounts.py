"""Who may use the dashboard: accounts with a role, passwords hashed with Argon2id.

An account is one line ``ROLE NAME HASH`` — in ``[dashboard] users`` or in the users file
(``[dashboard] users_file``, default ``<home>/dashboard-users``, owner-only). Roles:

* ``clinician`` — the board, patient pages, acknowledging alerts;
* ``analyst``   — reports and the read API, no acknowledging;
* ``admin``     — everything, plus the audit trail and pipeline health.

People log in with NAME and password (a session cookie); services send
``Authorization: Bearer NAME:PASSWORD`` on every call. Hashes come from argon2-cffi (a
maintained library); a verified bearer credential is remembered by its SHA-256 for a minute so
an API client does not pay Argon2 on every call. Nothing has a default password: ``make demo``
creates one demo clinician with a random password (:func:`ensure_demo_account`).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import ConfigError, require

ROLES = ("clinician", "analyst", "admin")
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
DEMO_NAME = "demo"
DEMO_FILE = "dashboard-demo-login"  # in the home: the demo account's password, owner-only
TOKEN_CACHE_S = 60.0


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str

    def may(self, *roles: str) -> bool:
        """True if this user has one of ``roles`` (an admin may do everything)."""
        return self.role == "admin" or self.role in roles


def _hasher() -> Any:
    argon2 = require("argon2", "dashboard")
    return argon2.PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ConfigError("a dashboard password needs at least 8 characters")
    return str(_hasher().hash(password))


def users_path(settings: Settings) -> Path:
    return Path(settings.dashboard.users_file or settings.home_path / "dashboard-users")


def parse_line(line: str, where: str) -> tuple[str, str, str]:
    parts = line.split()
    if len(parts) != 3:
        raise ConfigError(f"{where}: an account is 'ROLE NAME HASH' (3 fields)")
    role, name, hashed = parts
    if role not in ROLES:
        raise ConfigError(f"{where}: role {role!r}: choose from {', '.join(ROLES)}")
    if not _NAME.match(name):
        raise ConfigError(f"{where}: account name {name!r}: letters, digits and . _ @ - only")
    if not hashed.startswith("$argon2"):
        raise ConfigError(f"{where}: account {name}: the password must be an argon2 hash "
                          "(`vitalstream dashboard user add` writes one)")
    return role, name, hashed


def _read_file(path: Path) -> list[tuple[str, str, str]]:
    if not path.exists():
        return []
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            out.append(parse_line(line, f"{path}:{n}"))
    return out


class Accounts:
    """The accounts, checked in (near) constant time whether or not a name exists."""

    def __init__(self, entries: list[tuple[str, str, str]]) -> None:
        self._by_name = {name: (role, hashed) for role, name, hashed in entries}
        self._dummy = _hasher().hash(secrets.token_hex(16))  # for unknown names
        self._tokens: dict[bytes, tuple[User, float]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Accounts:
        entries = [parse_line(line, "setting dashboard.users") for line in settings.dashboard.users]
        return cls(entries + _read_file(users_path(settings)))

    def __len__(self) -> int:
        return len(self._by_name)

    def verify(self, name: str, password: str) -> User | None:
        argon2 = require("argon2", "dashboard")
        role, hashed = self._by_name.get(name, ("", self._dummy))
        try:
            _hasher().verify(hashed, password)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return None
        return User(name, role) if role else None

    def verify_bearer(self, credential: str) -> User | None:
        """``NAME:PASSWORD`` from an ``Authorization: Bearer`` header."""
        digest = hashlib.sha256(credential.encode()).digest()
        now = time.monotonic()
        with self._lock:
            hit = self._tokens.get(digest)
        if hit and hit[1] > now:
            return hit[0]
        name, sep, password = credential.partition(":")
        user = self.verify(name, password) if sep else None
        if user is not None:
            with self._lock:
                self._tokens[digest] = (user, now + TOKEN_CACHE_S)
        return user


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def add_account(settings: Settings, name: str, role: str, password: str) -> Path:
    """Add or replace account ``name`` in the users file (owner-only); return the file."""
    path = users_path(settings)
    role_, name_, hashed = parse_line(f"{role} {name} {hash_password(password)}", "new account")
    kept = [e for e in _read_file(path) if e[1] != name_]
    lines = [f"{r} {n} {h}" for r, n, h in [*kept, (role_, name_, hashed)]]
    _write_private(path, "# vitalstream dashboard accounts: ROLE NAME ARGON2-HASH\n" + "\n".join(lines) + "\n")
    return path


def ensure_demo_account(settings: Settings) -> tuple[str, str]:
    """The demo clinician's (name, password): created with a random password on first use,
    the password kept owner-only in the home so a later ``make demo`` can print it again."""
    secret_file = settings.home_path / DEMO_FILE
    if secret_file.exists():
        password = secret_file.read_text().strip()
        if any(n == DEMO_NAME for _, n, _ in _read_file(users_path(settings))):
            return DEMO_NAME, password
    password = secrets.token_urlsafe(12)
    add_account(settings, DEMO_NAME, "clinician", password)
    _write_private(secret_file, password + "\n")
    return DEMO_NAME, password
