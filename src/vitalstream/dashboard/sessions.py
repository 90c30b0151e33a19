"""Logins: in-memory sessions with a CSRF token, and a brake on password guessing.

A session id is 32 random bytes in an ``HttpOnly``, ``SameSite=Strict`` cookie (``Secure``
behind HTTPS); the server keeps ``id -> (user, csrf token, expiry)`` in memory, so a restart
logs everyone out and nothing secret is stored on disk. Each session has its own CSRF token,
required on every state-changing request made with the cookie (acknowledging an alert,
logging out).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from .accounts import User

COOKIE = "vs_session"
MAX_FAILURES = 5  # failed logins per name within FAILURE_WINDOW_S before the name is paused
FAILURE_WINDOW_S = 300.0


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    user: User
    csrf: str
    expires: float

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf, token or "")


class Sessions:
    def __init__(self, minutes: int) -> None:
        self.ttl = minutes * 60.0
        self._sessions: dict[str, Session] = {}
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def create(self, user: User) -> Session:
        s = Session(secrets.token_urlsafe(32), user, secrets.token_urlsafe(32), time.monotonic() + self.ttl)
        with self._lock:
            self._sessions[s.id] = s
            self._failures.pop(user.name, None)
        return s

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            s = self._sessions.get(sid)
            if s is not None and s.expires < time.monotonic():
                del self._sessions[sid]
                return None
        return s

    def drop(self, sid: str) -> None:
        with self._lock:
            self._sessions.pop(sid, None)

    def paused(self, name: str) -> bool:
        """Too many recent failed logins for ``name``: refuse without checking the password."""
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(name, []) if now - t < FAILURE_WINDOW_S]
            self._failures[name] = recent
        return len(recent) >= MAX_FAILURES

    def failed(self, name: str) -> None:
        with self._lock:
            self._failures.setdefault(name, []).append(time.monotonic())
            if len(self._failures) > 10_000:  # bound memory against name spraying
                self._failures.clear()
