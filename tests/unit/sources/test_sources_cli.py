"""The edge commands as a user runs them (the installed console script)."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from vitalstream.simulate import make

EXE = str(Path(sys.executable).parent / "vitalstream")


def vs(home: Path, *args: str, env: dict | None = None, timeout: float = 60):  # type: ignore[type-arg]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("VITALSTREAM_")}
    full_env.update(env or {})
    return subprocess.run([EXE, "--home", str(home), *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout)


def test_ingest_csv_with_map_resumes(tmp_path) -> None:
    f = tmp_path / "notes.csv"
    f.write_text("pid,note,when\n1,Shows signs of flu.,2024-01-01 12:00\n2,,2024-01-01 13:00\n")
    args = ["ingest", "csv", str(f), "--topic", "medical-entries", "--map", "pid=patient_id",
            "--map", "note=medical_entry", "--map", "when=timestamp"]
    r = vs(tmp_path, *args)
    assert r.returncode == 0, r.stderr
    assert "1 accepted, 1 rejected" in r.stdout
    r = vs(tmp_path, *args)
    assert "0 accepted, 0 rejected" in r.stdout and "2 already done" in r.stdout
    bad = vs(tmp_path, "ingest", "csv", str(f), "--topic", "alerts")
    assert bad.returncode == 2 and "cannot be loaded" in bad.stderr


def test_serve_and_replay_client(tmp_path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"VITALSTREAM_HTTP_API_KEYS": "cli-key", "VITALSTREAM_HTTP_PORT": str(port)}
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("VITALSTREAM_")} | env
    server = subprocess.Popen([EXE, "--home", str(tmp_path), "serve"], env=full_env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None
            time.sleep(0.1)
        rec = tmp_path / "watch.jsonl"
        rec.write_bytes(b"\n".join(o.value for o in itertools.islice(make("smartwatch").events(), 50)))
        r = vs(tmp_path, "replay-client", str(rec), "--url", f"http://127.0.0.1:{port}/stream",
               "--fast", env=env)
        assert r.returncode == 0, r.stderr
        assert "sent 50: 50 accepted, 0 rejected" in r.stdout
        r = vs(tmp_path, "replay-client", str(rec), "--url", f"http://127.0.0.1:{port}/stream",
               "--fast", "--api-key", "nope")
        assert r.returncode == 2 and "403" in r.stderr
    finally:
        server.terminate()
        server.wait(10)
        server.stdout.close()  # type: ignore[union-attr]
        server.stderr.close()  # type: ignore[union-attr]


def test_mqtt_bridge_without_url_says_how(tmp_path) -> None:
    r = vs(tmp_path, "mqtt-bridge")
    assert r.returncode == 2 and "VITALSTREAM_MQTT_URL" in r.stderr
