"""Wait until a test service really serves requests (not just until its port is open).

    ready.py kafka 127.0.0.1:59092 [--timeout S] [--pidfile F]
    ready.py postgres postgresql://user:pw@127.0.0.1:55432/db
    ready.py mqtt mqtt://user:pw@127.0.0.1:51883
    ready.py s3 http://127.0.0.1:55000

Exits 0 when ready, 1 on timeout or when the process in --pidfile died. Uses the same client
libraries as vitalstream, so "ready" means ready for the tests.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit


_kafka_clients: list[object] = []


def kafka(target: str, deadline: float) -> str | None:
    from confluent_kafka import Consumer, KafkaException, TopicPartition
    from confluent_kafka.admin import AdminClient

    # One pair of clients for the whole wait, created lazily and never destroyed mid-start.
    # (Admin list_consumer_group_offsets segfaults librdkafka 2.12 when the coordinator is not
    # up yet, so the group check below goes through a consumer.)
    conf = {"bootstrap.servers": target, "socket.timeout.ms": 2000, "log_level": 0}
    if not _kafka_clients:
        _kafka_clients.append(AdminClient(conf))
    admin = _kafka_clients[0]
    try:
        md = admin.list_topics(timeout=2)  # type: ignore[attr-defined]
    except KafkaException as exc:
        return str(exc)
    if not md.brokers:
        return "no brokers in metadata"
    # Ask for a group coordinator: on a fresh broker this creates __consumer_offsets, which
    # would otherwise make the first test's consumer group wait several seconds.
    if len(_kafka_clients) == 1:
        _kafka_clients.append(Consumer({**conf, "group.id": "vitalstream-ready"}))
    try:
        _kafka_clients[1].committed([TopicPartition("vitalstream-ready", 0)], timeout=5)  # type: ignore[attr-defined]
    except KafkaException as exc:
        return f"group coordinator: {exc}"
    _kafka_clients[1].close()  # type: ignore[attr-defined]
    return None


def postgres(target: str, deadline: float) -> str | None:
    import psycopg

    try:
        with psycopg.connect(target, connect_timeout=2) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        return str(exc).strip()
    return None


def mqtt(target: str, deadline: float) -> str | None:
    import threading

    import paho.mqtt.client as paho

    u = urlsplit(target)
    done = threading.Event()
    result: list[str | None] = ["no CONNACK"]

    def on_connect(client, userdata, flags, reason_code, properties):  # type: ignore[no-untyped-def]
        result[0] = None if not reason_code.is_failure else f"CONNACK {reason_code}"
        done.set()

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="vitalstream-ready")
    if u.username:
        client.username_pw_set(u.username, u.password)
    client.on_connect = on_connect
    try:
        client.connect(u.hostname or "127.0.0.1", u.port or 1883, keepalive=10)
    except OSError as exc:
        return str(exc)
    client.loop_start()
    done.wait(3)
    client.disconnect()
    client.loop_stop()
    return result[0]


def s3(target: str, deadline: float) -> str | None:
    try:
        with urllib.request.urlopen(target.rstrip("/") + "/", timeout=2) as resp:
            resp.read()
    except OSError as exc:
        return str(exc)
    return None


CHECKS: dict[str, Callable[[str, float], str | None]] = {
    "kafka": kafka, "postgres": postgres, "mqtt": mqtt, "s3": s3,
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("service", choices=sorted(CHECKS))
    ap.add_argument("target")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--pidfile")
    args = ap.parse_args()
    deadline = time.monotonic() + args.timeout
    problem: str | None = "not checked"
    while time.monotonic() < deadline:
        if args.pidfile and not _alive(args.pidfile):
            print(f"{args.service}: process exited during start-up", file=sys.stderr)
            return 1
        problem = CHECKS[args.service](args.target, deadline)
        if problem is None:
            return 0
        time.sleep(0.3)
    print(f"{args.service}: not ready after {args.timeout:.0f}s: {problem}", file=sys.stderr)
    return 1


def _alive(pidfile: str) -> bool:
    try:
        with open(pidfile) as f:
            os.kill(int(f.read().strip()), 0)
    except (OSError, ValueError):
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
