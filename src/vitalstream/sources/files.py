"""File sources: CSV with column mapping and JSON lines, resumable by checkpoint.

    ingest_file(log, "notes.csv", fmt="csv", topic="medical-entries", settings=s)
    ingest_file(log, "users.csv", fmt="csv", topic="hr-users", settings=s)
    ingest_file(log, "watch.jsonl", fmt="jsonl", topic=None, settings=s)   # route by shape

CSV rows become JSON objects named by the header (``mapping`` renames columns: the clinical
notes' ``patient_id,medical_entry,timestamp`` and the heart-rate stream's ``users.csv`` /
``activities.csv`` need none); every value stays a string and the topic's decoder converts where its schema allows.
Each row or line is validated like any edge input; rejects go to the dead letters with
``file.name`` / ``file.record`` (1-based) headers.

Checkpoint: after every flushed batch a small JSON file under ``<home>/checkpoints/``
records the file's path, size, mtime, the byte offset and the number of records done, and a
hash of the bytes done. Re-running skips what is done: an unchanged file resumes where it
stopped (a finished file does nothing), an appended-to file (same leading bytes) continues
after the old end, a rewritten file starts over. A crash between a flush and the checkpoint
write re-sends at most that one batch (at-least-once, as everywhere in vitalstream).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import msgspec

from .. import topics as t
from ..config import Settings
from ..errors import ConfigError, InvalidData
from ..log.base import Log, Producer
from .base import Source
from .ingest import Accepted, OutRecord, Rejected, check_one, dead_letter_record
from .routing import WRITABLE_TOPICS

logger = logging.getLogger(__name__)

STAGE = "ingest.file"
FORMATS = ("csv", "jsonl")
_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class FileResult:
    accepted: int
    rejected: int
    skipped: int  # records already done by an earlier run (from the checkpoint)
    records_done: int  # total records done for this file, this run and earlier ones


# -- checkpoint --------------------------------------------------------------------------------
@dataclass(slots=True)
class Checkpoint:
    path: str
    topic: str
    size: int
    mtime_ns: int
    offset: int  # bytes of the file done
    records: int  # records (rows / lines) done
    digest: str  # sha256 of the first `offset` bytes

    @staticmethod
    def location(home: Path, path: Path, topic: str, fmt: str) -> Path:
        name = hashlib.sha256(f"{path}\x1f{topic}\x1f{fmt}".encode()).hexdigest()[:24]
        return home / "checkpoints" / f"file-{name}.json"

    @classmethod
    def load(cls, where: Path) -> Checkpoint | None:
        try:
            data = json.loads(where.read_text())
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None

    def save(self, where: Path) -> None:
        where.parent.mkdir(parents=True, exist_ok=True)
        tmp = where.with_suffix(".tmp")
        tmp.write_text(json.dumps({s: getattr(self, s) for s in self.__slots__}))
        os.replace(tmp, where)  # atomic: a crash leaves the old or the new checkpoint


def _digest(path: Path, upto: int) -> tuple[str, int]:
    h = hashlib.sha256()
    done = 0
    with path.open("rb") as f:
        while done < upto:
            chunk = f.read(min(1 << 20, upto - done))
            if not chunk:
                break
            h.update(chunk)
            done += len(chunk)
    return h.hexdigest(), done


def resume_point(cp: Checkpoint | None, path: Path) -> tuple[int, int]:
    """(byte offset, records done) to continue from; (0, 0) when the file is new or changed."""
    if cp is None:
        return 0, 0
    st = path.stat()
    if st.st_size == cp.size and st.st_mtime_ns == cp.mtime_ns:
        return cp.offset, cp.records
    if st.st_size >= cp.offset:
        digest, n = _digest(path, cp.offset)
        if n == cp.offset and digest == cp.digest:
            return cp.offset, cp.records  # appended to: continue after the old end
    logger.warning("%s changed since its checkpoint: starting over", path.name)
    return 0, 0


# -- reading -------------------------------------------------------------------------------------
class _Prefix:
    """sha256 of the bytes of a file done so far, advanced batch by batch (not re-read)."""

    def __init__(self, path: Path, upto: int) -> None:
        self.path = path
        self.hash = hashlib.sha256()
        self.pos = 0
        self.advance(upto)

    def advance(self, upto: int) -> str:
        if upto > self.pos:
            with self.path.open("rb") as f:
                f.seek(self.pos)
                while self.pos < upto:
                    chunk = f.read(min(1 << 20, upto - self.pos))
                    if not chunk:
                        break
                    self.hash.update(chunk)
                    self.pos += len(chunk)
        return self.hash.hexdigest()


class BadRow(InvalidData):
    pass


def _lines(f: io.BufferedReader, counter: list[int]) -> Iterator[str]:
    for raw in f:
        counter[0] += len(raw)
        yield raw.decode("utf-8", "replace")


def csv_rows(path: Path, start: int, mapping: Mapping[str, str] | None = None,
             ) -> Iterator[tuple[bytes | BadRow, int]]:
    """``(JSON object bytes, byte offset after the row)`` for each CSV row after ``start``;
    a row whose column count differs from the header comes as a :class:`BadRow`."""
    with path.open("rb") as f:
        header_line = f.readline()
        header = next(csv.reader([header_line.decode("utf-8-sig")]), [])
        if not header:
            return
        names = [(mapping or {}).get(h.strip(), h.strip()) for h in header]
        if start > len(header_line):
            f.seek(start)
        counter = [f.tell()]
        reader = csv.reader(_lines(f, counter))
        for row in reader:
            if not row or row == [""]:
                continue
            if len(row) != len(names):
                text = io.StringIO()
                csv.writer(text).writerow(row)
                bad = BadRow(f"CSV row has {len(row)} columns, the header {len(names)}")
                bad.args = (bad.args[0], text.getvalue().strip().encode())
                yield bad, counter[0]
                continue
            yield _encode({n: v for n, v in zip(names, row, strict=True) if n}), counter[0]


def jsonl_rows(path: Path, start: int) -> Iterator[tuple[bytes | BadRow, int]]:
    with path.open("rb") as f:
        f.seek(start)
        offset = start
        for raw in f:
            offset += len(raw)
            line = raw.strip()
            if line:
                yield line, offset


# -- ingest ----------------------------------------------------------------------------------------
def ingest_file(
    log: Log,
    path: str | os.PathLike[str],
    fmt: str,
    topic: str | None,
    settings: Settings,
    mapping: Mapping[str, str] | None = None,
    batch_size: int = 5000,
    resume: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> FileResult:
    """Load one file into ``topic`` (``None``: route JSON lines by shape); see module doc.

    ``progress(bytes_done, bytes_total)`` is called after every batch.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if topic is not None and topic not in WRITABLE_TOPICS:
        raise ConfigError(f"topic {topic!r} cannot be loaded from files; choose one of "
                          + ", ".join(WRITABLE_TOPICS))
    if topic is None and fmt == "csv":
        raise ConfigError("CSV files need --topic (their rows carry no shape to route by)")
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise ConfigError(f"{file} is not a file")
    where = Checkpoint.location(settings.home_path, file, topic or "*", fmt)
    offset, done = resume_point(Checkpoint.load(where) if resume else None, file)
    skipped = done
    t.ensure(log, [*([topic] if topic else WRITABLE_TOPICS), t.DEAD_LETTERS], settings.partitions,
             settings.retention_ms, settings.replication_factor)
    total = file.stat().st_size
    rows = csv_rows(file, offset, mapping) if fmt == "csv" else jsonl_rows(file, offset)
    producer = log.producer()
    accepted = rejected = 0
    name_header = ("file.name", file.name.encode())
    try:
        pending: list[OutRecord] = []
        prefix = _Prefix(file, offset)
        for raw, end in rows:
            done += 1
            if isinstance(raw, BadRow):
                result: Accepted | Rejected = Rejected(done, raw.args[0], "DecodeError", None,
                                                       topic, raw.args[1])
            else:
                result = check_one(done, raw, topic)
            if type(result) is Accepted:
                pending.append((result.topic, result.value, result.key.encode(), ()))
                accepted += 1
            else:
                assert isinstance(result, Rejected)
                pending.append(dead_letter_record(
                    STAGE, result, original=(name_header, ("file.record", str(done).encode()))))
                rejected += 1
            offset = end
            if len(pending) >= batch_size:
                _commit(producer, pending, where, file, topic or "*", offset, done, prefix)
                pending = []
                if progress:
                    progress(offset, total)
        _commit(producer, pending, where, file, topic or "*", offset, done, prefix)
        if progress:
            progress(total, total)
    finally:
        producer.close()
    return FileResult(accepted, rejected, skipped, done)


def _commit(producer: Producer, pending: list[OutRecord], where: Path, file: Path, topic: str,
            offset: int, done: int, prefix: _Prefix) -> None:
    for tp, value, key, headers in pending:
        producer.send(tp, value, key=key, headers=headers)
    producer.flush()  # durable first, then the checkpoint says so
    st = file.stat()
    digest = prefix.advance(offset)
    Checkpoint(str(file), topic, st.st_size, st.st_mtime_ns, offset, done, digest).save(where)


class _Stopped(Exception):
    """Raised from the progress hook between batches: everything before it is checkpointed."""


class FileSource(Source):
    """One file as a :class:`~.base.Source`: :func:`ingest_file` that stops between batches."""

    name = "file"

    def __init__(self, log: Log, path: str | os.PathLike[str], fmt: str, topic: str | None,
                 settings: Settings, mapping: Mapping[str, str] | None = None,
                 batch_size: int = 5000) -> None:
        self.args = (log, path, fmt, topic, settings, mapping, batch_size)
        self.result: FileResult | None = None  # None until the whole file is done

    def run(self, stop: threading.Event) -> None:
        def check(done: int, total: int) -> None:
            if stop.is_set() and done < total:
                raise _Stopped

        try:
            self.result = ingest_file(*self.args, progress=check)
        except _Stopped:
            logger.info("file ingest stopped; the checkpoint resumes it")
