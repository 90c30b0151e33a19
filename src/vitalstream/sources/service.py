"""The HTTP edge's logic without the web framework: authenticate, authorise, admit, check,
write.

:class:`IngestService` is what :mod:`.http` calls for every request; tests and the benchmark
can drive it directly. The log is opened lazily and reopened after an outage, so the server
starts (and ``/healthz`` answers) while the log is down; ``/readyz`` and ``POST`` answer 503
until it is back.

Every event of a request counts, valid or not: the caller's rate limit takes the whole
request's size from its bucket, and a device key may not name another device even in an
event that will be rejected. Limits are per *principal* (the API key's identity), never per
the device id a body claims.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from .. import topics as t
from ..config import Settings
from ..errors import LogUnavailable, VitalstreamError
from ..log import open_log
from ..log.base import Log
from .auth import AuthError, KeyRing, Principal
from .ingest import Accepted, OutRecord, Rejected, check_one, dead_letter_record, split_body
from .ratelimit import RateLimiter, retry_after_header
from .routing import WRITABLE_TOPICS
from .writer import GroupWriter

logger = logging.getLogger(__name__)

STAGE = "ingest.http"
PRINCIPAL_HEADER = "http.principal"  # on dead letters: which key sent the rejected event
#: Below this much free space next to an embedded log the server reports not ready.
MIN_FREE_BYTES = 16 * 1024 * 1024
#: A failed write keeps /readyz at 503 this long even if the probes pass (then they decide).
WRITE_FAILURE_HOLD_S = 5.0

_any_value = msgspec.json.Decoder()
_ID_FIELDS = ("device_id", "deviceId", "Device ID", "patient_id", "user_id")


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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        http = settings.http
        self.settings = settings
        self.keys = KeyRing.from_settings(http)
        # One bucket per principal; device keys and gateway/admin keys earn different rates.
        self.limiters = {
            "device": RateLimiter(http.rate_per_device, clock=clock),
            "gateway": RateLimiter(http.rate_per_gateway, clock=clock),
        }
        self.max_body_bytes = http.max_body_bytes
        self.body_timeout_s = http.body_timeout_s
        self._log_factory = log_factory or (lambda: open_log(settings.log_url))
        self._log: Log | None = None
        self._writer: GroupWriter | None = None
        self._lock = threading.Lock()
        self._write_failed_at: float | None = None

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

    async def write(self, records: Sequence[OutRecord]) -> None:
        """Write durably or raise 503 (nothing stored: the client may retry)."""
        writer = None
        try:
            writer = self.writer()
            await writer.write(records)
        except (VitalstreamError, RuntimeError) as exc:
            # LogUnavailable (transient) or a terminal log error: the log is reopened on the
            # next request, and /readyz reports the failure meanwhile.
            logger.warning("log unavailable: %s", type(exc).__name__)
            self._write_failed_at = time.monotonic()
            self.reset(writer)
            raise HttpProblem(503, "the log is unavailable; retry later",
                              {"Retry-After": "1"}) from None
        self._write_failed_at = None

    def ready(self) -> tuple[bool, str]:
        """Whether a POST now would be stored: the log is reachable and writable."""
        try:
            self.writer()
            assert self._log is not None
            self._log.list_topics()
        except Exception as exc:  # readiness reports, never raises
            self.reset()
            return False, f"log unavailable ({type(exc).__name__})"
        problem = _local_write_problem(self._log)
        if problem:
            return False, problem
        failed = self._write_failed_at
        if failed is not None and time.monotonic() - failed < WRITE_FAILURE_HOLD_S:
            return False, "the last write to the log failed"
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
            except Exception:
                logger.debug("closing the log after an outage failed", exc_info=True)

    def close(self) -> None:
        self.reset()

    # -- one request ---------------------------------------------------------------------------
    def authenticate(self, authorization: str | None, api_key: str | None) -> Principal:
        try:
            return self.keys.authenticate(authorization, api_key)
        except AuthError as exc:
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            raise HttpProblem(exc.status, exc.reason, headers) from None

    def authorize_topic(self, principal: Principal, topic: str | None) -> None:
        """404 for a topic nobody may write, 403 for a reference topic without the admin
        scope (``/stream`` never routes to reference topics)."""
        if topic is None:
            return
        if topic not in WRITABLE_TOPICS:
            raise HttpProblem(404, f"unknown topic {topic!r}; writable: {', '.join(WRITABLE_TOPICS)}")
        if topic in t.REFERENCE_TOPICS and not principal.admin:
            raise HttpProblem(403, f"topic {topic!r} holds reference data: only admin keys "
                                   "(http.admin_keys) may write it")

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

    def too_slow(self) -> HttpProblem:
        return HttpProblem(408, f"request body not received within {self.body_timeout_s:g} s "
                                "(setting http.body_timeout_s)", {"Connection": "close"})

    def admit(self, principal: Principal, events: int) -> None:
        """Take ``events`` (at least 1 per request) from the caller's bucket: 413 / 429."""
        kind = "device" if principal.role == "device" else "gateway"
        limiter = self.limiters[kind]
        n = max(1, events)
        if not limiter.fits(n):
            raise HttpProblem(413, f"batch of {n} events is larger than this key's burst of "
                                   f"{int(limiter.burst)} events (setting http.rate_per_{kind}, "
                                   "events per second); send smaller batches")
        wait = limiter.admit({principal.name: n})
        if wait > 0:
            raise HttpProblem(429, f"rate limit for this API key exceeded (setting "
                                   f"http.rate_per_{kind}); retry later",
                              {"Retry-After": retry_after_header(wait)})

    def check_body(
        self, body: bytes, content_type: str | None, principal: Principal, topic: str | None = None
    ) -> Checked:
        """Split, admit, validate; enforce device ownership on every event (403)."""
        self.authorize_topic(principal, topic)
        raws = split_body(body, content_type)
        self.admit(principal, len(raws))
        accepted: list[Accepted] = []
        rejected: list[Rejected] = []
        dead: list[OutRecord] = []
        origin = ((PRINCIPAL_HEADER, principal.name.encode()),)
        for i, raw in enumerate(raws):
            result = check_one(i, raw, topic)
            if isinstance(result, Accepted):
                claimed = {result.key}
            else:
                claimed = claimed_ids(result)
            if principal.device is not None and claimed - {principal.device}:
                raise HttpProblem(403, f"event {i}: this API key may only send events of its "
                                       "own device")
            if isinstance(result, Accepted):
                accepted.append(result)
            else:
                rejected.append(result)
                key = principal.device or (next(iter(claimed)) if len(claimed) == 1 else None)
                dead.append(dead_letter_record(STAGE, result, key.encode() if key is not None else None,
                                               origin))
        out: list[OutRecord] = [(a.topic, a.value, a.key.encode(), ()) for a in accepted]
        return Checked(accepted, rejected, out + dead)


def claimed_ids(rejected: Rejected) -> set[str]:
    """The device/patient/user ids a rejected event names (empty if it names none or is not
    a JSON object): what a device key is checked against."""
    try:
        obj = _any_value.decode(rejected.value)
    except (msgspec.DecodeError, RecursionError, ValueError):
        return set()
    if type(obj) is not dict:
        return set()
    fields: tuple[str, ...] = _ID_FIELDS
    if rejected.topic in t.BY_NAME:
        key = t.BY_NAME[rejected.topic].key
        fields = (key, "Device ID") if rejected.topic == t.SMARTWATCH else (key,)
    return {str(obj[f]) for f in fields if obj.get(f) is not None}


def _local_write_problem(log: Any) -> str | None:
    """For a log kept in a local file (the embedded log): is its folder writable, with room?
    A read-only or full disk answers 503 on POST, so /readyz must say so too."""
    path = getattr(log, "path", None)
    if path is None:
        return None
    folder = os.path.dirname(os.path.abspath(path))
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        return "the log's disk is not writable"
    try:
        if shutil.disk_usage(folder).free < MIN_FREE_BYTES:
            return "the log's disk is full"
    except OSError:
        return "the log's disk cannot be checked"
    return None
