"""The MQTT bridge: the device gateway's devices publish to ``health/device_data``; we store them.

* paho-mqtt 2.x, MQTT 3.1.1, QoS 1 subscriptions to ``mqtt.topics``;
* a persistent session (``clean_session=False``, stable ``mqtt.client_id``): messages
  published while the bridge is down are queued by the broker and delivered when it returns;
* username/password from ``mqtt.url`` (``mqtt://user:pass@host:port``), TLS for ``mqtts://``
  or when ``mqtt.ca_file`` is set (client certificate: ``mqtt.cert_file`` / ``mqtt.key_file``);
* **PUBACK only after the message is in the log**: paho's manual acknowledgement; a flusher
  thread takes every message received so far, writes the batch, ``flush()``-es, and only then
  acks each message. If the bridge dies first, the broker redelivers (at-least-once).

Each payload is validated as a ``device_data`` message (:mod:`vitalstream.events.device`) and
written keyed by ``deviceId``; anything else goes to the dead letters (stage ``ingest.mqtt``,
header ``mqtt.topic``). If the log is unavailable the batch is retried with backoff; the
broker stops sending once its in-flight window is full, so nothing piles up in memory.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from .. import topics as t
from ..config import MqttSettings, Settings
from ..errors import ConfigError, VitalstreamError, require
from ..log.base import Log, Producer
from ..redact import redact_url
from ..registry import check_url
from .base import Source
from .ingest import Accepted, OutRecord, check_one, dead_letter_record

if TYPE_CHECKING:  # paho is optional (the mqtt extra) and imported when used
    from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags, MQTTMessage
    from paho.mqtt.properties import Properties
    from paho.mqtt.reasoncodes import ReasonCode

logger = logging.getLogger(__name__)

STAGE = "ingest.mqtt"


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool


def parse_url(url: str) -> BrokerAddress:
    if not url:
        raise ConfigError("mqtt.url is not set (env VITALSTREAM_MQTT_URL), e.g. "
                          "mqtt://user:password@127.0.0.1:1883")
    check_url("mqtt", url, "mqtt.url")
    u = urlsplit(url)
    tls = u.scheme == "mqtts"
    return BrokerAddress(
        host=u.hostname or "127.0.0.1",
        port=u.port or (8883 if tls else 1883),
        username=unquote(u.username) if u.username else None,
        password=unquote(u.password) if u.password else None,
        tls=tls,
    )


def make_client(cfg: MqttSettings, client_id: str, clean_session: bool, url: str | None = None,
                manual_ack: bool = False) -> tuple[Client, BrokerAddress]:
    """A paho client configured from settings (credentials, TLS); not yet connected."""
    mqtt = require("paho.mqtt.client", "mqtt")
    addr = parse_url(url or cfg.url)
    client: Client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        protocol=mqtt.MQTTv311,
        manual_ack=manual_ack,
    )
    if addr.username is not None:
        client.username_pw_set(addr.username, addr.password)
    if addr.tls or cfg.ca_file:
        client.tls_set(
            ca_certs=cfg.ca_file or None,
            certfile=cfg.cert_file or None,
            keyfile=cfg.key_file or None,
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client, addr


class BridgeError(ConfigError):
    """The broker refused the bridge (wrong credentials, not authorised, bad client id)."""


class MqttBridge(Source):
    """Run with :meth:`run` (blocks until ``stop`` is set) or :meth:`start` / :meth:`stop`."""

    name = "mqtt"

    def __init__(self, log: Log, settings: Settings, client_id: str | None = None,
                 topics: Sequence[str] | None = None, max_batch: int = 10_000) -> None:
        self.log = log
        self.settings = settings
        self.cfg = settings.mqtt
        self.client_id = client_id or self.cfg.client_id
        self.topics = tuple(topics or self.cfg.topics)
        self.max_batch = max_batch
        self.linger_s = 0.005
        self.quiet_s = 0.0005
        self._pending: list[tuple[int, int, bytes, str]] = []  # (mid, qos, payload, topic)
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._fatal: str | None = None
        self._producer: Producer | None = None
        self._thread: threading.Thread | None = None
        self.received = 0
        self.written = 0
        self.rejected = 0

    # -- paho callbacks (network thread) --------------------------------------------------------
    def _on_connect(self, client: Client, userdata: Any, flags: ConnectFlags, reason_code: ReasonCode,
                    properties: Properties | None) -> None:
        if reason_code.is_failure:
            self._fatal = (f"MQTT broker {redact_url(self.cfg.url)} refused the connection: "
                           f"{reason_code} (check the user name and password in mqtt.url)")
            self._stop.set()
            with self._cond:
                self._cond.notify_all()
            return
        client.subscribe([(topic, 1) for topic in self.topics])
        self._connected.set()
        logger.info("mqtt bridge connected to %s (session present: %s)",
                    redact_url(self.cfg.url), flags.session_present)

    def _on_disconnect(self, client: Client, userdata: Any, flags: DisconnectFlags, reason_code: ReasonCode,
                       properties: Properties | None) -> None:
        self._connected.clear()
        if not self._stop.is_set():
            logger.warning("mqtt bridge disconnected (%s); reconnecting", reason_code)

    def _on_message(self, client: Client, userdata: Any, msg: MQTTMessage) -> None:
        with self._cond:
            # paho types the payload bytes | bytearray; bytes() of bytes is the same object, no copy
            self._pending.append((msg.mid, msg.qos, bytes(msg.payload), msg.topic))
            if len(self._pending) == 1:  # wake the writer once per batch, not per message
                self._cond.notify()

    # -- running ------------------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> MqttBridge:
        """Connect and start bridging in background threads; raise if the broker refuses."""
        s = self.settings
        t.ensure(self.log, [t.DEVICE_DATA, t.DEAD_LETTERS], s.partitions, s.retention_ms,
                 s.replication_factor)
        self.client, addr = make_client(self.cfg, self.client_id, clean_session=False,
                                        manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        try:
            self.client.connect(addr.host, addr.port, keepalive=30)
        except OSError as exc:
            raise BridgeError(f"cannot reach MQTT broker {redact_url(self.cfg.url)}: {exc}") from None
        self.client.loop_start()
        deadline = time.monotonic() + timeout
        while not self._connected.is_set():
            if self._fatal or time.monotonic() > deadline:
                self.client.loop_stop()
                raise BridgeError(self._fatal or f"no answer from MQTT broker "
                                                 f"{redact_url(self.cfg.url)} in {timeout:.0f}s")
            time.sleep(0.01)
        self._thread = threading.Thread(target=self._flush_loop, name="mqtt-bridge-writer",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop: messages not yet in the log stay un-acked and the broker redelivers them."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(10)
        self.client.disconnect()
        self.client.loop_stop()
        if self._producer is not None:
            self._producer.close()
            self._producer = None

    def run(self, stop: threading.Event | None = None) -> None:
        self.start()
        try:
            while not self._stop.is_set() and not (stop and stop.is_set()):
                self._stop.wait(0.5)
        finally:
            self.stop()
        if self._fatal:
            raise BridgeError(self._fatal)

    # -- the writer thread ------------------------------------------------------------------------------
    def _flush_loop(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                while not self._pending and not self._stop.is_set():
                    self._cond.wait(0.5)
            # Linger while messages keep coming: the broker sends at most its in-flight
            # window before our PUBACKs, so a quiet moment means "window full: flush now".
            deadline = time.monotonic() + self.linger_s
            seen = len(self._pending)
            while seen < self.max_batch and not self._stop.is_set():
                time.sleep(self.quiet_s)
                now = len(self._pending)
                if now == seen or time.monotonic() >= deadline:
                    break
                seen = now
            with self._cond:
                if self._stop.is_set():
                    return
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
            self._write(batch)

    def _write(self, batch: list[tuple[int, int, bytes, str]]) -> None:
        out: list[OutRecord] = []
        for i, (_, _, payload, topic) in enumerate(batch):
            result = check_one(i, payload, t.DEVICE_DATA)
            if isinstance(result, Accepted):
                out.append((t.DEVICE_DATA, result.value, result.key.encode(), ()))
            else:
                out.append(dead_letter_record(STAGE, result,
                                              original=(("mqtt.topic", topic.encode()),)))
                self.rejected += 1
        delay = 0.2
        while True:
            try:
                producer = self._producer or self.log.producer()
                self._producer = producer
                for topic, value, key, headers in out:
                    producer.send(topic, value, key=key, headers=headers)
                producer.flush()
                break
            except VitalstreamError as exc:
                self._producer = None  # resend the whole batch on a fresh producer
                if self._stop.is_set():
                    return  # un-acked: the broker redelivers after restart
                logger.warning("mqtt bridge: log write failed (%s); retrying in %.1fs",
                               type(exc).__name__, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)
        self.received += len(batch)
        self.written += len(out)
        ack = self.client.ack
        for mid, qos, _, _ in batch:
            if qos > 0:
                ack(mid, qos)  # PUBACK only now: the message is durable in the log


def publish_all(cfg: MqttSettings, payloads: Sequence[bytes], topic: str, url: str | None = None,
                qos: int = 1, timeout: float = 120.0) -> None:
    """Publish payloads at QoS 1 and wait until the broker acknowledged every one."""
    client, addr = make_client(cfg, f"vitalstream-pub-{uuid.uuid4().hex[:8]}", clean_session=True,
                               url=url)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(addr.host, addr.port, keepalive=30)
    client.loop_start()
    try:
        infos = [client.publish(topic, p, qos=qos) for p in payloads]
        deadline = time.monotonic() + timeout
        for info in infos:
            info.wait_for_publish(max(0.0, deadline - time.monotonic()))
    finally:
        client.disconnect()
        client.loop_stop()
