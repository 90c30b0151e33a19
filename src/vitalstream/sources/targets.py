"""Where simulated or replayed traffic goes: an ingest server over HTTP, or an MQTT broker.

    target = open_target("http://127.0.0.1:62333", settings)    # or mqtt://user:pw@host:1883
    target.send(batch)      # list[Outgoing]; returns once the far end acknowledged it
    target.close()

HTTP posts each batch grouped by topic to ``/topics/{topic}`` (exact, so reference records
such as patient metadata go too), retrying 429/503 and connection failures with the server's
``Retry-After`` or exponential backoff; a 413 halves the batch. Rejected events (422) were
dead-lettered by the server: they are counted, not resent. The API key is the ``api_key``
argument, else ``VITALSTREAM_API_KEY``, else the most capable configured key (admin, then
gateway, then device).

MQTT publishes device messages (``device_data``) at QoS 1 to the first ``mqtt.topics``
filter (or the URL's path, ``mqtt://host:1883/health/device_data``) and waits for PUBACKs.
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, cast
from urllib.parse import urlsplit

import msgspec

from .. import topics as t
from ..config import Settings
from ..errors import ConfigError, TransientError, require
from ..redact import redact_url
from ..registry import open_url
from ..simulate import Outgoing

if TYPE_CHECKING:  # httpx is optional (the http extra) and imported when used
    from httpx import Client, Response

logger = logging.getLogger(__name__)


class Target(Protocol):
    def send(self, batch: list[Outgoing]) -> None: ...

    def close(self) -> None: ...


@dataclass(slots=True)
class SendStats:
    sent: int = 0
    accepted: int = 0
    rejected: int = 0
    retries: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


def default_api_key(settings: Settings, api_key: str | None = None) -> str | None:
    if api_key:
        return api_key
    env = os.environ.get("VITALSTREAM_API_KEY")
    if env:
        return env
    from .auth import default_client_key

    return default_client_key(settings.http)


_result = msgspec.json.Decoder()


class HttpTarget:
    """Posts batches to a vitalstream ingest server; safe to reuse for many batches."""

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 30.0,
                 max_retry_s: float = 300.0) -> None:
        httpx = require("httpx", "http")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ConfigError(f"target url {url!r}: use http(s)://host:port")
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.stream_path = parts.path if parts.path not in ("", "/") else "/stream"
        headers = {"Content-Type": "application/x-ndjson"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.client: Client = httpx.Client(base_url=self.base, headers=headers, timeout=timeout)
        self._httpx = httpx
        logging.getLogger("httpx").setLevel(logging.WARNING)  # no line per request
        self.max_retry_s = max_retry_s
        self.stats = SendStats()

    def send(self, batch: list[Outgoing]) -> None:
        by_topic: dict[str, list[bytes]] = defaultdict(list)
        for msg in batch:
            by_topic[msg.topic].append(msg.value)
        for topic, values in by_topic.items():
            self.post(values, f"/topics/{topic}")

    def post(self, values: Sequence[bytes], path: str | None = None) -> None:
        """POST ``values`` as NDJSON (one bad event cannot spoil the others' parse); retry
        until stored or a terminal answer."""
        if not values:
            return
        path = path or self.stream_path
        body = b"\n".join(v.replace(b"\n", b" ") for v in values)
        delay = 0.2
        deadline = time.monotonic() + self.max_retry_s
        while True:
            r: Response | None
            try:
                r = self.client.post(path, content=body)
                status = r.status_code
            except self._httpx.TransportError as exc:
                status, r = 0, None
                why = type(exc).__name__
            if r is not None and status in (200, 422):
                result = _result.decode(r.content)
                self.stats.sent += len(values)
                self.stats.accepted += result.get("accepted", 0)
                for item in result.get("rejected", []):
                    self.stats.rejected += 1
                    reason = str(item.get("reason", ""))[:80]
                    self.stats.reasons[reason] = self.stats.reasons.get(reason, 0) + 1
                return
            if status == 413 and len(values) > 1:
                half = len(values) // 2
                self.post(values[:half], path)
                self.post(values[half:], path)
                return
            if status in (429, 503, 0) or status >= 500:
                if time.monotonic() > deadline:
                    raise TransientError(f"{self.base}{path}: still failing after "
                                         f"{self.max_retry_s:.0f}s (last answer {status or why})")
                wait = delay
                if r is not None and r.headers.get("retry-after", "").isdigit():
                    wait = float(r.headers["retry-after"])
                self.stats.retries += 1
                time.sleep(wait)
                delay = min(delay * 2, 10.0)
                continue
            detail = ""
            try:
                detail = str(_result.decode(r.content).get("detail", "")) if r is not None else ""
            except (msgspec.DecodeError, AttributeError):
                pass
            raise ConfigError(f"{self.base}{path} answered {status}: {detail or 'refused'}")

    def close(self) -> None:
        self.client.close()


class MqttTarget:
    """Publishes device messages at QoS 1 to an MQTT broker."""

    def __init__(self, url: str, settings: Settings) -> None:
        from .mqtt import make_client

        parts = urlsplit(url)
        self.topic = parts.path.lstrip("/") or settings.mqtt.topics[0]
        self.url = url
        self.client, addr = make_client(settings.mqtt, f"vitalstream-sim-{os.getpid()}",
                                        clean_session=True, url=f"{parts.scheme}://{parts.netloc}")
        self.client.max_inflight_messages_set(1000)
        try:
            self.client.connect(addr.host, addr.port, keepalive=30)
        except OSError as exc:
            raise ConfigError(f"cannot reach MQTT broker {redact_url(url)}: {exc}") from None
        self.client.loop_start()
        self.sent = 0

    def send(self, batch: list[Outgoing]) -> None:
        infos = []
        for msg in batch:
            if msg.topic != t.DEVICE_DATA:
                continue  # only device-gateway messages travel over MQTT
            infos.append(self.client.publish(self.topic, msg.value, qos=1))
        for info in infos:
            info.wait_for_publish(60)
            if not info.is_published():
                raise TransientError(f"MQTT broker {redact_url(self.url)} did not acknowledge")
        self.sent += len(infos)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def http_target(url: str, settings: Settings, api_key: str | None = None) -> HttpTarget:
    return HttpTarget(url, default_api_key(settings, api_key))


def mqtt_target(url: str, settings: Settings, api_key: str | None = None) -> MqttTarget:
    del api_key  # the broker authenticates with the URL's user and password
    return MqttTarget(url, settings)


def open_target(url: str, settings: Settings, api_key: str | None = None) -> Target:
    """An HTTP(S) or MQTT(S) target for ``vitalstream simulate --to URL`` (registry kind
    ``target``); raises ConfigError naming the allowed schemes for any other URL."""
    return cast(Target, open_url("target", url, settings, api_key))  # the registry's "target" backends
