"""The dashboard's ``/metrics`` scraped by a real Prometheus server (Debian's package).

A short ``vitalstream up`` (simulators, processor, sinks, dashboard; embedded log) runs on a
temporary home with an analyst account for Prometheus; three malformed records are produced
into a raw topic so the processor dead-letters them. Prometheus scrapes ``/metrics`` every
second with the account as a bearer credential (as docs/dashboard.md configures it), and
its HTTP API must return the processor's records in per topic, its batch-latency histogram
count and the dead letters by stage. Prometheus comes from ``scripts/services/prometheus.sh``
(``VITALSTREAM_TEST_PROMETHEUS``, default ``/usr/bin/prometheus``); missing, the test skips
with that hint, or fails under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from preconditions import missing
from vitalstream import topics as T
from vitalstream.config import load
from vitalstream.dashboard.accounts import add_account
from vitalstream.log import open_log

pytestmark = pytest.mark.prometheus

PASSWORD = "prometheus scrapes this"
BAD_RECORDS = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(check: Callable[[], Any], what: str, timeout: float, proc: subprocess.Popen[str] | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            value = check()
            if value:
                return value
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: the process exited ({proc.returncode}): {_tail(proc)}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


def _tail(proc: subprocess.Popen[str]) -> str:
    with contextlib.suppress(Exception):
        return (proc.stderr.read() if proc.stderr else "")[-1500:]
    return ""


def _stop(proc: subprocess.Popen[str]) -> None:
    """Ctrl-C, then (a clean stop is tests/unit/cli's subject, not this test's) the whole
    process group after a short grace, so a slow stop does not cost the suite 30 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # `up` and its components
            proc.wait(10)


@pytest.fixture(scope="module")
def prometheus_binary() -> str:
    path = os.environ.get("VITALSTREAM_TEST_PROMETHEUS") or shutil.which("prometheus") or "/usr/bin/prometheus"
    if not Path(path).is_file():
        missing(f"no prometheus at {path}: run scripts/services/prometheus.sh start (or make services-up)")
    return path


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """``vitalstream up`` with its dashboard on a free port: yields (dashboard URL, settings)."""
    home = tmp_path / "home"
    port = _free_port()
    settings = load(environ={}, overrides={"home": str(home), "dashboard": {"port": port}})
    add_account(settings, "prometheus", "analyst", PASSWORD)
    env = {**os.environ, "VITALSTREAM_DASHBOARD_PORT": str(port), "VITALSTREAM_MODEL_INTERVAL_S": "0",
           "VITALSTREAM_SIMULATE_PATIENTS": "3", "VITALSTREAM_LOG_LEVEL": "WARNING"}
    for name in ("VITALSTREAM_LOG_URL", "VITALSTREAM_WAREHOUSE_URL", "VITALSTREAM_LAKE_URL", "VITALSTREAM_CONFIG",
                 "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)  # the embedded log and warehouse under `home`; up's own metrics directory
    up = subprocess.Popen([str(Path(sys.executable).parent / "vitalstream"), "--home", str(home), "up",
                           "--count", "40", "--for", "150s", "--quiet"],
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: httpx.get(url + "/healthz", timeout=2).json()["feed"] == "ready", "the dashboard", 120, up)
        yield url, settings
    finally:
        _stop(up)


@pytest.fixture
def prometheus(prometheus_binary: str, pipeline: tuple[str, Any], tmp_path: Path) -> Iterator[str]:
    """A Prometheus scraping the pipeline's /metrics every second: yields its URL."""
    url, _ = pipeline
    token = tmp_path / "prometheus-token"
    token.write_text(f"prometheus:{PASSWORD}")
    token.chmod(0o600)
    config = tmp_path / "prometheus.yml"
    config.write_text(f"""
global: {{scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 5s}}
scrape_configs:
  - job_name: vitalstream
    static_configs: [{{targets: ["{url.removeprefix('http://')}"]}}]
    authorization: {{type: Bearer, credentials_file: "{token}"}}
""")
    port = _free_port()
    proc = subprocess.Popen([prometheus_binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    prom = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: httpx.get(prom + "/-/ready", timeout=2).status_code == 200, "prometheus to be ready", 60, proc)
        yield prom
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _query(prom: str, expr: str) -> list[dict[str, Any]]:
    body = httpx.get(prom + "/api/v1/query", params={"query": expr}, timeout=5).json()
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def test_prometheus_scrapes_records_dead_letters_and_batch_latency(prometheus_binary: str, pipeline: tuple[str, Any],
                                                                 prometheus: str) -> None:
    _, settings = pipeline
    with open_log(settings.log_url) as log, log.producer() as p:  # the processor dead-letters these
        for i in range(BAD_RECORDS):
            p.send(T.HEART_RATE, b"{not json " + str(i).encode(), key=b"P-BROKEN")
        p.flush()

    # the scrape itself succeeds with the bearer credential
    up = _wait(lambda: [s for s in _query(prometheus, 'up{job="vitalstream"}') if s["value"][1] == "1"],
               "a successful scrape of /metrics", 60)
    assert up[0]["metric"]["instance"].endswith(pipeline[0].rsplit(":", 1)[1])

    # records in, per topic, for the processor's group
    records = _wait(lambda: _query(prometheus, 'vitalstream_records_in_total{group="vitalstream-processor"} > 0'),
                    "the processor's records in per topic", 90)
    topics = {s["metric"]["topic"] for s in records}
    assert topics & set(T.RAW_TOPICS), topics

    # the batch latency histogram: a count, and buckets that add up to it
    count = _wait(lambda: _query(prometheus, 'vitalstream_batch_seconds_count{group="vitalstream-processor"} > 0'),
                  "the processor's batch latency histogram", 60)
    assert float(count[0]["value"][1]) >= 1
    same = _query(prometheus, 'vitalstream_batch_seconds_count{group="vitalstream-processor"} - ignoring(le) '
                              'vitalstream_batch_seconds_bucket{group="vitalstream-processor",le="+Inf"}')
    assert same and float(same[0]["value"][1]) == 0, same  # one instant: the +Inf bucket is the count

    # dead letters by stage: the three malformed records, under a processing stage
    dead = _wait(lambda: [s for s in _query(prometheus, "vitalstream_dead_letters_total")
                          if float(s["value"][1]) >= BAD_RECORDS], "the dead letters by stage", 60)
    assert any(s["metric"].get("stage", "").startswith("process") for s in dead), dead

    # the log's own state, read at scrape time
    assert _query(prometheus, f'vitalstream_topic_records{{topic="{T.DEAD_LETTERS}"}} >= {BAD_RECORDS}')
