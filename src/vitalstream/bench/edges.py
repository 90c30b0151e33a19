"""Ingest-rate measurements for the edges (the benchmark harness calls these).

    python -m vitalstream.bench.edges http          # batched events/s, single requests/s
    python -m vitalstream.bench.edges mqtt --url mqtt://user:pw@127.0.0.1:1883

The server runs in its own process (as in production) on a fresh embedded log; the load
generator is a minimal asyncio HTTP/1.1 keep-alive client so that the client, not httpx, is
never the bottleneck on a small machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence

from ..simulate import make

BENCH_KEY = "bench-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server_process(home: str | None = None, port: int | None = None,
                   rate_per_device: float = 1e9, workers: int = 1) -> Iterator[str]:
    """Run ``vitalstream serve`` in a subprocess on a fresh log; yield its URL."""
    home = home or tempfile.mkdtemp(prefix="vitalstream-bench-")
    port = port or free_port()
    # Limits are per API key: the bench's one gateway key gets the (unlimiting) rate.
    env = dict(os.environ, VITALSTREAM_HOME=home, VITALSTREAM_HTTP_GATEWAY_KEYS=f"bench={BENCH_KEY}",
               VITALSTREAM_HTTP_RATE_PER_DEVICE=str(rate_per_device),
               VITALSTREAM_HTTP_RATE_PER_GATEWAY=str(rate_per_device),
               VITALSTREAM_HTTP_PORT=str(port), VITALSTREAM_LOG_LEVEL="WARNING")
    code = ("from vitalstream.config import load; "
            f"from vitalstream.sources.http import serve; serve(load(), workers={workers})")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("bench server did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def _request(host: str, path: str, body: bytes, key: str) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"X-API-Key: {key}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def _load(url: str, bodies: Sequence[bytes], seconds: float, connections: int,
                key: str) -> tuple[int, int, dict[int, int]]:
    hostport = url.split("://", 1)[1]
    host, port = hostport.split(":")
    requests = [_request(hostport, "/stream", b, key) for b in bodies]
    done = 0
    statuses: dict[int, int] = {}
    stop = time.perf_counter() + seconds

    async def worker(offset: int) -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection(host, int(port))
        i = offset
        while time.perf_counter() < stop:
            writer.write(requests[i % len(requests)])
            i += 1
            status = await _read_response(reader)
            statuses[status] = statuses.get(status, 0) + 1
            done += 1
        writer.close()

    await asyncio.gather(*(worker(i * 7) for i in range(connections)))
    return done, len(requests), statuses


def _events(profile: str, n: int) -> list[bytes]:
    return [o.value for o in itertools.islice(make(profile, patients=200).events(), n)]


def http_batched_rate(url: str, batch: int = 1000, seconds: float = 5.0, connections: int = 4,
                      profile: str = "smartwatch", key: str = BENCH_KEY) -> float:
    """Events per second stored through ``POST /stream`` with JSON-array bodies."""
    events = _events(profile, batch * 8)
    bodies = [b"[" + b",".join(events[i:i + batch]) + b"]" for i in range(0, len(events), batch)]
    t0 = time.perf_counter()
    done, _, statuses = asyncio.run(_load(url, bodies, seconds, connections, key))
    elapsed = time.perf_counter() - t0
    if set(statuses) - {200}:
        raise RuntimeError(f"unexpected answers: {statuses}")
    return done * batch / elapsed


def http_single_rate(url: str, seconds: float = 5.0, connections: int = 32,
                     profile: str = "smartwatch", key: str = BENCH_KEY) -> float:
    """Single-event requests per second through ``POST /stream``."""
    bodies = _events(profile, 5000)
    t0 = time.perf_counter()
    done, _, statuses = asyncio.run(_load(url, bodies, seconds, connections, key))
    elapsed = time.perf_counter() - t0
    if set(statuses) - {200}:
        raise RuntimeError(f"unexpected answers: {statuses}")
    return done / elapsed


def measure_bridge_rate(url: str, n: int = 50_000, seconds: float | None = None,
                        home: str | None = None) -> float:
    """Messages per second through the bridge at QoS 1 (the benchmark calls this).

    The bridge subscribes once (creating its persistent session) and stops; ``n`` device
    messages are published at QoS 1 while it is down; then it restarts and we time how long
    it takes until all ``n`` are durably in the log and acknowledged.
    """
    from ..config import load
    from ..log import open_log
    from ..sources.mqtt import MqttBridge, publish_all

    del seconds  # accepted for a uniform signature with the HTTP measurements
    home = home or tempfile.mkdtemp(prefix="vitalstream-mqtt-bench-")
    run = uuid.uuid4().hex[:8]
    topic = f"bench/{run}/device_data"
    settings = load(environ={}, overrides={"home": home, "mqtt": {"url": url, "topics": [topic]}})
    log = open_log(settings.log_url)
    client_id = f"vitalstream-bench-{run}"
    MqttBridge(log, settings, client_id=client_id).start().stop()
    payloads = [o.value for o in itertools.islice(make("device", patients=500).events(), n)]
    publish_all(settings.mqtt, payloads, topic)
    bridge = MqttBridge(log, settings, client_id=client_id)
    t0 = time.perf_counter()
    bridge.start()
    try:
        while bridge.received < n:
            time.sleep(0.005)
            if time.perf_counter() - t0 > 300:
                raise RuntimeError(f"only {bridge.received} of {n} messages arrived")
        elapsed = time.perf_counter() - t0
    finally:
        bridge.stop()
        log.close()
    return n / elapsed


def main(argv: Sequence[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m vitalstream.bench.edges")
    parser.add_argument("edge", choices=["http", "mqtt"])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--url", default="", help="MQTT broker URL (mqtt edge)")
    parser.add_argument("--workers", type=int, default=1, help="HTTP server processes")
    args = parser.parse_args(argv)
    if args.edge == "http":
        with server_process(workers=args.workers) as url:
            print(f"http batched: {http_batched_rate(url, seconds=args.seconds):,.0f} events/s")
            print(f"http single:  {http_single_rate(url, seconds=args.seconds):,.0f} requests/s")
    else:
        print(f"mqtt bridge:  {measure_bridge_rate(args.url, seconds=args.seconds):,.0f} msg/s")


if __name__ == "__main__":
    main()
