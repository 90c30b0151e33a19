"""Processed clinical entries in a real MongoDB-wire server (FerretDB): each exactly once, even
after a replay and after kill -9 of the sink mid-stream."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import msgspec
import pytest

from vitalstream import topics as T
from vitalstream.log import open_log
from vitalstream.notes.extractor import shared_extractor
from vitalstream.notes.stage import NotesStage
from vitalstream.runtime import run_worker
from vitalstream.simulate import make
from vitalstream.sinks.docstore import MongoDocStore

pymongo = pytest.importorskip("pymongo")
EXE = str(Path(sys.executable).parent / "vitalstream")
# FerretDB takes ~1 s per 50-entry batch: 1000 entries are 20 batches, so the kill (after a
# quarter has landed) still lands well mid-stream without minutes of writing.
KILL_ENTRIES = 1000


def _entries(home: Path, n: int) -> set[str]:
    """``n`` simulated notes through the notes stage; returns their entry ids."""
    log = open_log(f"sqlite:///{home}/log.db")
    T.ensure_all(log, partitions=3)
    with log.producer() as p:
        for m in itertools.islice(make("notes", patients=50, seed=4).events(), n):
            p.send(m.topic, m.value, key=m.key, timestamp_ms=m.timestamp_ms)
    stop = threading.Event()
    run_worker(log, NotesStage(log, extractor=shared_extractor(), stop=stop), stop, until_idle=True, max_wait_s=0.05)
    with log.consumer("ids", [T.PROCESSED_ENTRIES]) as c:
        ids = set()
        while batch := c.poll(max_records=10_000, timeout=0.3):
            ids |= {msgspec.json.decode(r.value)["entry_id"] for r in batch}
    log.close()
    return ids


@pytest.fixture
def collection(mongodb_url, unique_name):
    client = pymongo.MongoClient(mongodb_url, serverSelectionTimeoutMS=5000)
    yield f"{mongodb_url}?database=medical&collection={unique_name}", client["medical"][unique_name]
    client["medical"].drop_collection(unique_name)
    client.close()


def test_notes_land_once_with_indexes(tmp_path, collection) -> None:
    url, coll = collection
    ids = _entries(tmp_path, 300)
    log = open_log(f"sqlite:///{tmp_path}/log.db")
    for _ in range(2):  # the second run replays everything from a rewound group
        with log.consumer("vitalstream-docstore", [T.PROCESSED_ENTRIES]) as c:
            c.poll(max_records=1, timeout=0.5)
            c.commit({tp: 0 for tp in c.assignment()})
        stop = threading.Event()
        run_worker(log, MongoDocStore(url), stop, until_idle=True, max_records=100, max_wait_s=0.05)
    log.close()
    docs = list(coll.find({}, {"_id": 0, "entry_id": 1, "patient_id": 1, "problems": 1, "timestamp": 1}))
    assert len(docs) == len(ids) and {d["entry_id"] for d in docs} == ids
    assert {"entry_id", "patient_id", "timestamp"} <= {i["name"] for i in coll.list_indexes()}
    assert any(p["assertion"] == "absent" for d in docs for p in d["problems"])
    assert all(d["timestamp"].tzinfo is not None or d["timestamp"].year > 2000 for d in docs)  # a date


def test_kill_9_of_the_sink_mid_stream_leaves_every_entry_once(tmp_path, collection) -> None:
    url, coll = collection
    ids = _entries(tmp_path, KILL_ENTRIES)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VITALSTREAM_")}
    env.update(VITALSTREAM_HOME=str(tmp_path), VITALSTREAM_LOG_LEVEL="WARNING", VITALSTREAM_DOCSTORE_URL=url)
    cmd = [EXE, "sink", "docstore", "--max-records", "50"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while coll.estimated_document_count() < len(ids) // 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    landed = coll.count_documents({})
    assert 0 < landed < len(ids), "the kill should land mid-stream"
    done = subprocess.run([*cmd, "--until-idle"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    got = [d["entry_id"] for d in coll.find({}, {"_id": 0, "entry_id": 1})]
    assert len(got) == len(ids) and set(got) == ids
