"""Simulated notes through `vitalstream up --until-idle` land in PostgreSQL and FerretDB, and a
DuckDB warehouse sink over the same log gets the same entries."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pymongo = pytest.importorskip("pymongo")
psycopg = pytest.importorskip("psycopg")
EXE = str(Path(sys.executable).parent / "vitalstream")
# `up` paces the notes simulator at one note per second of event time: 40 notes, not minutes.
NOTES = 40


@pytest.mark.timeout(900)  # the extractor loads its vocabularies in the notes process (10-60 s)
def test_notes_end_to_end(tmp_path, mongodb_url, postgres_url, unique_name) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {unique_name}")
    sep = "&" if "?" in postgres_url else "?"
    pg_url = f"{postgres_url}{sep}options=-csearch_path%3D{unique_name}"
    client = pymongo.MongoClient(mongodb_url, serverSelectionTimeoutMS=5000)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VITALSTREAM_")}
    env.update(VITALSTREAM_HOME=str(tmp_path), VITALSTREAM_LOG_LEVEL="WARNING", VITALSTREAM_SIMULATE_PROFILES="notes",
               VITALSTREAM_WAREHOUSE_URL=pg_url,
               VITALSTREAM_DOCSTORE_URL=f"{mongodb_url}?database=medical&collection={unique_name}")
    try:
        err = tmp_path / "up.stderr"
        with err.open("wb") as f:
            up = subprocess.Popen([EXE, "up", "--until-idle", "--count", str(NOTES), "--quiet"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=f, start_new_session=True)
            try:
                code = up.wait(420)
            except subprocess.TimeoutExpired:
                os.killpg(up.pid, signal.SIGKILL)  # the supervisor and its components
                up.wait(10)
                code = None
        assert code == 0, err.read_text()[-3000:]
        with psycopg.connect(pg_url) as conn:
            entries = conn.execute("SELECT count(*), count(DISTINCT entry_id) FROM processed_entries").fetchone()
            problems = conn.execute("SELECT count(*) FROM note_problems WHERE assertion = 'absent'").fetchone()[0]
        assert entries[0] == entries[1] and NOTES * 0.8 <= entries[0] <= NOTES  # the simulator may repeat a note
        assert problems > 0
        assert client["medical"][unique_name].count_documents({}) == entries[0]
        # the same log into DuckDB: the warehouse group starts over
        from vitalstream import topics as T
        from vitalstream.log import open_log
        from vitalstream.sinks.warehouse import WAREHOUSE_GROUP

        with open_log(f"sqlite:///{tmp_path}/log.db") as log, log.consumer(WAREHOUSE_GROUP, [T.PROCESSED_ENTRIES]) as c:
            c.poll(max_records=1, timeout=0.5)
            c.commit({tp: 0 for tp in c.assignment()})
        env["VITALSTREAM_WAREHOUSE_URL"] = f"duckdb:///{tmp_path}/wh.duckdb"
        sink = subprocess.run([EXE, "sink", "warehouse", "--until-idle"], env=env, capture_output=True, text=True,
                              timeout=300)
        assert sink.returncode == 0, sink.stderr[-3000:]
        out = subprocess.run([EXE, "query", "SELECT count(*) AS n FROM processed_entries", "--format", "json"],
                             env=env, capture_output=True, text=True, timeout=120)
        assert f'"n": {entries[0]}' in out.stdout or f'"n":{entries[0]}' in out.stdout, out.stdout + out.stderr
    finally:
        client["medical"].drop_collection(unique_name)
        client.close()
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {unique_name} CASCADE")
