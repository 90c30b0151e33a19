"""The HTTP edge's logic without the web framework: authenticate, check, admit, write.

:class:`IngestService` is what :mod:`.http` calls for every request; tests and the benchmark
can drive it directly. The log is opened lazily and reopened after an outage, so the server
starts (and ``/healthz`` answers) while the log is down; ``/readyz`` and ``POST`` answer 503
until it is back.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import topics as t
from ..config import Settings
from ..errors import LogUnavailable, VitalstreamError
from ..log import open_log
from ..log.base import Log
from .auth import KeyRing, Principal
from .ingest import Accepted, OutRecord, Rejected, check, records, split_body
from .ratelimit import RateLimiter
from .routing import WRITABLE_TOPICS
from .writer import GroupWriter

logger = logging.getLogger(__name__)

STAGE = "ingest.http"


class HttpProblem(VitalstreamError):
    """An answer other than 200/422: ``status``, a ``detail`` and extra headers."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


@dataclass(slots=True)
class Checked:
    """A request body that passed auth and rate limits, ready to be written."""

    accepted: list[Accepted]
    rejected: list[Rejected]
    records: list[OutRecord] = field(default_factory=list)

    @property
    def status(self) -> int:
        return 422 if self.rejected else 200

    def result(self) -> dict[str, Any]:
        return {"accepted": len(self.accepted), "rejected": [r.as_dict() for r in self.rejected]}


class IngestService:
    def __init__(
        self,
        settings: Settings,
        log_factory: Callable[[], Log] | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.settings = settings
        self.keys = KeyRing(settings.http.api_keys, enabled=settings.http.auth)
        self.limiter = limiter or RateLimiter(settings.http.rate_per_device)
        self.max_body_bytes = settings.http.max_body_bytes
        self._log_factory = log_factory or (lambda: open_log(settings.log_url))
        self._log: Log | None = None
        self._writer: GroupWriter | None = None
        self._lock = threading.Lock()

    # -- the log ---------------------------------------------------------------------------
    def writer(self) -> GroupWriter:
        """The group-commit writer, opening the log (and creating topics) on first use."""
        w = self._writer
        if w is not None:
            return w
        with self._lock:
            if self._writer is None:
                try:
                    log = self._log_factory()
                    s = self.settings
                    t.ensure(log, (*WRITABLE_TOPICS, t.DEAD_LETTERS), s.partitions, s.retention_ms,
                             s.replication_factor)
                except VitalstreamError:
                    raise
                except Exception as exc:  # sqlite/OS errors opening a broken log
                    raise LogUnavailable(f"cannot open the log: {type(exc).__name__}") from exc
                self._log = log
                self._writer = GroupWriter(log)
            return self._writer

    def ready(self) -> tuple[bool, str]:
        try:
            self.writer()
            assert self._log is not None
            self._log.list_topics()
        except Exception as exc:  # noqa: BLE001 - readiness reports, never raises
            self.reset()
            return False, f"log unavailable ({type(exc).__name__})"
        return True, "ok"

    def reset(self, failed: GroupWriter | None = None) -> None:
        """Forget the log after an outage; the next request reopens it. With ``failed``, only
        if that writer is still the current one (a newer one may already be working)."""
        with self._lock:
            if failed is not None and failed is not self._writer:
                return
            writer, log = self._writer, self._log
            self._writer = self._log = None
        if writer is not None:
            writer.close()
        if log is not None:
            try:
                log.close()
            except Exception:  # noqa: BLE001
                logger.debug("closing the log after an outage failed", exc_info=True)

    def close(self) -> None:
        self.reset()

    # -- one request ---------------------------------------------------------------------------
    def authenticate(self, authorization: str | None, api_key: str | None) -> Principal:
        from .auth import AuthError

        try:
            return self.keys.authenticate(authorization, api_key)
        except AuthError as exc:
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            raise HttpProblem(exc.status, exc.reason, headers) from None

    def check_length(self, content_length: str | None) -> None:
        if content_length is not None:
            try:
                n = int(content_length)
            except ValueError:
                raise HttpProblem(400, "Content-Length is not a number") from None
            if n > self.max_body_bytes:
                raise self.too_large()

    def too_large(self) -> HttpProblem:
        return HttpProblem(413, f"request body larger than {self.max_body_bytes} bytes "
                                "(setting http.max_body_bytes); send smaller batches")

    def check_body(
        self, body: bytes, content_type: str | None, principal: Principal, topic: str | None = None
    ) -> Checked:
        """Split and validate a body; enforce device ownership and rate (403 / 429)."""
        if topic is not None and topic not in WRITABLE_TOPICS:
            raise HttpProblem(404, f"unknown topic {topic!r}; writable: {', '.join(WRITABLE_TOPICS)}")
        raws = split_body(body, content_type)
        accepted, rejected = check(raws, topic)
        if principal.device is not None:
            for a in accepted:
                if a.key != principal.device:
                    raise HttpProblem(403, f"event {_index_of(a, accepted, rejected)}: this API key "
                                           "may only send events of its own device")
        if accepted:
            wait = self.limiter.admit(Counter(a.key for a in accepted))
            if wait > 0:
                from .ratelimit import retry_after_header

                raise HttpProblem(429, "rate limit for a device exceeded (setting "
                                       "http.rate_per_device); retry later",
                                  {"Retry-After": retry_after_header(wait)})
        return Checked(accepted, rejected, records(STAGE, accepted, rejected))


def _index_of(a: Accepted, accepted: list[Accepted], rejected: list[Rejected]) -> int:
    # Index in the body: accepted and rejected events interleave in body order.
    bad = sorted(r.index for r in rejected)
    i = accepted.index(a)
    for b in bad:
        if b <= i:
            i += 1
    return i
