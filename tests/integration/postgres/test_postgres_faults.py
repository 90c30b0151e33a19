"""Faults with PostgreSQL as the warehouse: kill -9 of the sink, and the server stopped for 30 s.

The outage test stops a *private* PostgreSQL cluster (initdb into the test's tmp dir with the
binaries scripts/services/postgres.sh installed), not the shared test server, so concurrent
test runs are not disturbed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from contract.sink_contract import check_exactly_once, produce_events, sink_env, start_sink
from preconditions import missing
from vitalstream import topics as T
from vitalstream.log import open_log

EVENTS = int(os.environ.get("VITALSTREAM_FAULT_EVENTS", "200000"))


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    return found[-1] if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateCluster:
    def __init__(self, root: Path) -> None:
        self.bin = _pg_bin()
        self.data = root / "pg"
        self.port = _free_port()
        self.root = root
        self.as_owner: list[str] = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_owner, *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_owner:
            shutil.chown(self.root, "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust")
        with open(self.data / "postgresql.conf", "a") as f:
            f.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.root}'\n"
                    "fsync = off\n")

    def start(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w", "start")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def private_pg(postgres_url):  # postgres_url: skip (or fail under CI) like every pg test
    import tempfile

    if _pg_bin() is None:
        missing("no PostgreSQL server binaries under /usr/lib/postgresql (the outage test runs "
                "a private cluster): run scripts/services/up.sh postgres")
    # Not under pytest's tmp dir: as root the cluster runs as `postgres`, which cannot enter it.
    root = Path(tempfile.mkdtemp(prefix="vitalstream-pg-"))
    root.chmod(0o755)
    cluster = PrivateCluster(root)
    cluster.init()
    cluster.start()
    yield cluster
    try:
        cluster.stop()
    except subprocess.CalledProcessError:
        pass
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_kill_nine_postgres(tmp_path, pg_schema_url) -> None:
    from test_sink_faults import kill_nine_while_flowing  # type: ignore[import-not-found]

    assert kill_nine_while_flowing(tmp_path, pg_schema_url, EVENTS) == 8  # all mid-batch


@pytest.mark.slow
def test_postgres_down_for_30s_mid_stream(tmp_path, private_pg) -> None:
    n = 60_000
    home = tmp_path / "home"
    lake_url = f"file://{tmp_path}/lake"
    env = sink_env(home, private_pg.url, lake_url)
    log = open_log(f"sqlite:///{home}/log.db")
    T.ensure_all(log)
    producer = threading.Thread(target=produce_events, args=(log, n), kwargs={"chunk": 2000, "pause": 1.0})
    producer.start()
    sink = start_sink("warehouse", env)
    lake = start_sink("lake", env)
    try:
        time.sleep(5)
        private_pg.stop()
        down_at = time.monotonic()
        time.sleep(30)
        lag_while_down = sum(g.lag for g in log.group_lag("vitalstream-warehouse", [T.PROCESSED_HEART_RATE]))
        assert sink.poll() is None, "the sink must wait for the database, not exit"
        private_pg.start()
        assert time.monotonic() - down_at >= 30
        assert lag_while_down > 0  # events kept flowing into the log meanwhile
        producer.join()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            lags = log.group_lag("vitalstream-warehouse", [T.PROCESSED_HEART_RATE]) + \
                log.group_lag("vitalstream-lake", [T.HEART_RATE])
            if lags and all(g.lag == 0 for g in lags) and len(lags) == 12:
                break
            time.sleep(0.5)
    finally:
        producer.join()
        for p in (sink, lake):
            p.send_signal(signal.SIGTERM)
        for p in (sink, lake):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()
    err = sink.stderr.read().decode()
    assert "retrying" in err and "recovered" in err, err[-2000:]
    check_exactly_once(private_pg.url, lake_url, n)
