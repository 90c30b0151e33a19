"""The lake: every raw record archived as received, the source of truth for replay.

Layout (by event time, i.e. the record timestamp)::

    <root>/topics/<topic>/year=YYYY/month=MM/day=DD/hour=HH/<topic>+<partition>+<start>.parquet

``<start>`` is the zero-padded offset of the file's first record. Parquet by default (columns
``topic, partition, offset, timestamp, key, value, headers``; the value is the raw bytes as
received); ``?format=jsonl`` writes JSON lines instead (seed 0's raw JSON archive).

Deterministic rotation
    A *segment* is a maximal run of consecutive records of one partition that share the
    event-time hour and the offset chunk ``offset // rotate_records``. Its boundaries depend
    only on the records, never on how they were batched, so a replay after a crash produces the
    same file names with the same contents and every record lands in exactly one file.

Durability of the open segment
    A segment's final file is written when the segment closes (the next record starts another
    one). Until then each batch's records of that segment are written as a *part* under
    ``<root>/_staging/<topic>/<partition>/<start>+<part start>.parquet`` before the offsets are
    committed. After a restart the open segment is rebuilt from its parts (parts at or past the
    first replayed offset are stale and deleted). Parts of a closed segment are deleted once its
    final file is durable *and* committed. :func:`read_lake` reads final files and open parts.

One implementation over fsspec: ``file:///path`` (default) and ``s3://bucket/prefix``
(``?endpoint_url=http://host:port&region=...``; credentials from the usual AWS environment
variables). Local writes go to a hidden temporary file and are renamed into place, so a
``kill -9`` never leaves a torn file under its final name; S3 puts are atomic.
"""

from __future__ import annotations

import base64
import json
import logging
import posixpath
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from .. import topics as T
from ..errors import ConfigError
from ..log.base import Record, TopicPartition
from .base import LakeUnavailable, Sink

logger = logging.getLogger(__name__)

HOUR_MS = 3_600_000
OFFSET_DIGITS = 19  # int64 offsets; zero-padded so names sort by offset
DEFAULT_ROTATE_RECORDS = 10_000
FORMATS = {"parquet": "parquet", "jsonl": "jsonl"}
LAKE_GROUP = "vitalstream-lake"
LANDING_GROUP = "vitalstream-lake-landing"

ExtraColumns = Callable[[list[Record]], dict[str, Any]]


# -- filesystem -------------------------------------------------------------------------------
@dataclass(frozen=True)
class LakeLocation:
    """A lake root parsed from its URL: the fsspec filesystem, the root path and options."""

    fs: Any
    root: str
    format: str
    rotate_records: int
    url: str


def open_lake(url: str, format: str | None = None, rotate_records: int | None = None) -> LakeLocation:
    """Parse ``file://``, ``s3://`` or ``memory://`` lake URLs (query options stripped)."""
    import fsspec

    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    fmt = (format or query.pop("format", "parquet")).lower()
    query.pop("format", None)
    if fmt not in FORMATS:
        raise ConfigError(f"lake format {fmt!r}: allowed: {', '.join(FORMATS)}")
    rotate = int(rotate_records or query.pop("rotate_records", DEFAULT_ROTATE_RECORDS))
    query.pop("rotate_records", None)
    if rotate < 1:
        raise ConfigError("lake rotate_records must be >= 1")
    scheme = parts.scheme or "file"
    if scheme == "file":
        root = parts.path if not parts.netloc else f"/{parts.netloc}{parts.path}"
        fs = fsspec.filesystem("file", auto_mkdir=True)
        root = fs._strip_protocol(root)
    elif scheme == "s3":
        from ..errors import require

        require("s3fs", "s3")
        import os

        endpoint = query.pop("endpoint_url", None) or os.environ.get("AWS_ENDPOINT_URL_S3") \
            or os.environ.get("AWS_ENDPOINT_URL")
        region = query.pop("region", None) or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        client_kwargs: dict[str, Any] = {"region_name": region}
        if endpoint:
            client_kwargs["endpoint_url"] = endpoint
        fs = fsspec.filesystem(
            "s3", client_kwargs=client_kwargs, use_listings_cache=False, skip_instance_cache=True,
            # fail fast to the sink's own backoff loop instead of retrying inside botocore
            config_kwargs={"connect_timeout": 5, "read_timeout": 30, "retries": {"max_attempts": 2}},
            anon=query.pop("anon", "false").lower() in ("1", "true"),
        )
        root = f"{parts.netloc}{parts.path}".rstrip("/")
    elif scheme == "memory":
        fs = fsspec.filesystem("memory")
        root = f"/{parts.netloc}{parts.path}".rstrip("/")
    else:
        raise ConfigError(f"lake url {url!r}: scheme must be file://, s3:// or memory://")
    if query:
        raise ConfigError(f"lake url {url!r}: unknown options {', '.join(sorted(query))}")
    clean = urlunsplit((scheme, parts.netloc, parts.path, "", ""))
    return LakeLocation(fs, root.rstrip("/"), fmt, rotate, clean)


def _transient_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError, TimeoutError]
    try:
        from botocore.exceptions import BotoCoreError

        errors.append(BotoCoreError)
    except ImportError:  # pragma: no cover - s3 extra not installed
        pass
    try:
        from aiohttp import ClientError

        errors.append(ClientError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


# -- layout -----------------------------------------------------------------------------------
def hour_dir(root: str, topic: str, hour: int) -> str:
    t = datetime.fromtimestamp(hour * 3600, UTC)
    return (f"{root}/topics/{topic}/year={t.year:04d}/month={t.month:02d}/day={t.day:02d}"
            f"/hour={t.hour:02d}")


def file_name(topic: str, partition: int, start: int, ext: str) -> str:
    return f"{topic}+{partition}+{start:0{OFFSET_DIGITS}d}.{ext}"


def final_path(root: str, topic: str, partition: int, start: int, hour: int, ext: str) -> str:
    return f"{hour_dir(root, topic, hour)}/{file_name(topic, partition, start, ext)}"


def staging_dir(root: str, topic: str, partition: int) -> str:
    return f"{root}/_staging/{topic}/{partition}"


_PART = re.compile(r"^(\d+)\+(\d+)\.parquet$")
_FINAL = re.compile(r"^(?P<topic>.+)\+(?P<partition>\d+)\+(?P<start>\d+)\.(?P<ext>parquet|jsonl)$")
_HOUR = re.compile(r"year=(\d{4})/month=(\d{2})/day=(\d{2})/hour=(\d{2})")


# -- encoding ---------------------------------------------------------------------------------
def _arrow_schema():  # type: ignore[no-untyped-def]
    import pyarrow as pa

    header = pa.struct([("key", pa.string()), ("value", pa.binary())])
    return pa.schema([
        ("topic", pa.string()),
        ("partition", pa.int32()),
        ("offset", pa.int64()),
        ("timestamp", pa.timestamp("ms", tz="UTC")),
        ("key", pa.binary()),
        ("value", pa.binary()),
        ("headers", pa.list_(header)),
    ])


def records_table(rows: Sequence[Record], extra: ExtraColumns | None = None):  # type: ignore[no-untyped-def]
    """The Arrow table of a file: the raw record columns (+ decoded extra columns)."""
    import pyarrow as pa

    schema = _arrow_schema()
    columns = [
        pa.array([r.topic for r in rows], pa.string()),
        pa.array([r.partition for r in rows], pa.int32()),
        pa.array([r.offset for r in rows], pa.int64()),
        pa.array([r.timestamp_ms for r in rows], pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
        pa.array([r.key for r in rows], pa.binary()),
        pa.array([r.value for r in rows], pa.binary()),
        pa.array([[{"key": k, "value": v} for k, v in r.headers] if r.headers else [] for r in rows],
                 schema.field("headers").type),
    ]
    table = pa.Table.from_arrays(columns, schema=schema)
    if extra is not None:
        for name, array in extra(list(rows)).items():
            table = table.append_column(name, array)
    return table


def table_records(table) -> list[Record]:  # type: ignore[no-untyped-def]
    """Records back from a lake table (Parquet file or part)."""
    import pyarrow as pa

    ts = table.column("timestamp").cast(pa.int64()).to_pylist()
    headers = table.column("headers").to_pylist()
    return [
        Record(topic, p, o, k, v, t, tuple((h["key"], h["value"]) for h in hs or ()))
        for topic, p, o, k, v, t, hs in zip(
            table.column("topic").to_pylist(), table.column("partition").to_pylist(),
            table.column("offset").to_pylist(), table.column("key").to_pylist(),
            table.column("value").to_pylist(), ts, headers, strict=True,
        )
    ]


def _text(b: bytes | None) -> tuple[str | None, bool]:
    if b is None:
        return None, False
    try:
        return b.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(b).decode("ascii"), True


def jsonl_bytes(rows: Sequence[Record]) -> bytes:
    """One JSON object per record; bytes that are not UTF-8 are base64 with a ``*_b64`` flag."""
    out = []
    for r in rows:
        key, key_b64 = _text(r.key)
        value, value_b64 = _text(r.value)
        line: dict[str, Any] = {
            "topic": r.topic, "partition": r.partition, "offset": r.offset,
            "timestamp": datetime.fromtimestamp(r.timestamp_ms / 1000, UTC).isoformat().replace("+00:00", "Z"),
            "timestamp_ms": r.timestamp_ms, "key": key, "value": value,
        }
        if key_b64:
            line["key_b64"] = True
        if value_b64:
            line["value_b64"] = True
        if r.headers:
            line["headers"] = [[k, base64.b64encode(v).decode("ascii")] for k, v in r.headers]
        out.append(json.dumps(line, separators=(",", ":"), ensure_ascii=False))
    return ("\n".join(out) + "\n").encode("utf-8")


def jsonl_records(data: bytes) -> list[Record]:
    out = []
    for line in data.decode("utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        key = d.get("key")
        value = d["value"]
        kb = None if key is None else (base64.b64decode(key) if d.get("key_b64") else key.encode("utf-8"))
        vb = base64.b64decode(value) if d.get("value_b64") else value.encode("utf-8")
        headers = tuple((k, base64.b64decode(v)) for k, v in d.get("headers", ()))
        out.append(Record(d["topic"], d["partition"], d["offset"], kb, vb, d["timestamp_ms"], headers))
    return out


# -- the sink ---------------------------------------------------------------------------------
@dataclass
class _Segment:
    partition: int
    start: int
    hour: int
    chunk: int
    rows: list[Record]

    @property
    def last(self) -> int:
        return self.rows[-1].offset


class LakeSink(Sink):
    """Archives ``topics`` (default: every raw topic) to the lake at ``url``."""

    def __init__(
        self,
        url: str,
        topics: Sequence[str] = T.RAW_TOPICS,
        *,
        group: str = LAKE_GROUP,
        format: str | None = None,
        rotate_records: int | None = None,
        extra_columns: ExtraColumns | None = None,
    ) -> None:
        self.location = open_lake(url, format, rotate_records)
        self.fs = self.location.fs
        self.root = self.location.root
        self.ext = FORMATS[self.location.format]
        self.rotate = self.location.rotate_records
        self.topics = tuple(topics)
        self.group = group
        self.extra_columns = extra_columns
        self._open: dict[TopicPartition, _Segment] = {}
        self._closed: list[tuple[str, int, int]] = []  # (topic, partition, start) awaiting cleanup
        self._errors = _transient_errors()
        self.files_written = 0

    # -- Worker -----------------------------------------------------------------------------
    def assigned(self, partitions: set[TopicPartition]) -> None:
        for tp in list(self._open):
            if tp not in partitions:
                del self._open[tp]

    def write(self, records: list[Record]) -> None:
        try:
            self._write(records)
        except self._errors as exc:
            raise LakeUnavailable(f"lake {self.location.url}: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        self._open.clear()

    # -- batch ------------------------------------------------------------------------------
    def _write(self, records: list[Record]) -> None:
        # The previous batch has been committed (the loop only calls us again after a commit):
        # parts of segments it closed are no longer needed for a replay.
        self._cleanup_closed()
        by_tp: dict[TopicPartition, list[Record]] = {}
        for r in records:
            by_tp.setdefault((r.topic, r.partition), []).append(r)
        finals: list[_Segment] = []
        parts: list[tuple[_Segment, list[Record]]] = []
        new_open: dict[TopicPartition, _Segment] = {}
        rotate = self.rotate
        for tp, rows in by_tp.items():
            seg = self._open.get(tp)
            if seg is None or rows[0].offset != seg.last + 1:
                seg = self._resume(tp, rows[0].offset)
            base: list[Record] = seg.rows if seg else []
            added: list[Record] = []
            for r in rows:
                hour, chunk = r.timestamp_ms // HOUR_MS, r.offset // rotate
                if seg is None or hour != seg.hour or chunk != seg.chunk:
                    if seg is not None:
                        finals.append(_Segment(seg.partition, seg.start, seg.hour, seg.chunk, base + added))
                    seg = _Segment(r.partition, r.offset, hour, chunk, [])
                    base, added = [], []
                added.append(r)
            assert seg is not None
            if added:
                parts.append((seg, added))
            new_open[tp] = _Segment(seg.partition, seg.start, seg.hour, seg.chunk, base + added)
        # Final files first: a part of a later segment implies the earlier one is final.
        for seg in finals:
            self._write_final(seg)
        for seg, added in parts:
            self._write_part(seg, added)
        self._open.update(new_open)
        self._closed.extend((s.rows[0].topic, s.partition, s.start) for s in finals)

    def _resume(self, tp: TopicPartition, first: int) -> _Segment | None:
        """Rebuild the open segment of ``tp`` from its parts; ``first`` is the next offset."""
        topic, partition = tp
        found = self._list_parts(topic, partition)
        keep: list[tuple[int, int, str]] = []
        for seg_start, part_start, path in found:
            if part_start >= first:  # written by a batch that was never committed
                self._rm(path)
            else:
                keep.append((seg_start, part_start, path))
        if not keep:
            return None
        seg_start = max(s for s, _, _ in keep)
        rows: dict[int, Record] = {}
        for s, _, path in keep:
            if s < seg_start:  # a closed segment whose cleanup did not happen before a crash
                self._rm(path)
                continue
            for r in self._read_parquet(path):
                if r.offset < first:
                    rows[r.offset] = r
        if not rows:
            return None
        ordered = [rows[o] for o in sorted(rows)]
        head = ordered[0]
        return _Segment(partition, seg_start, head.timestamp_ms // HOUR_MS, head.offset // self.rotate, ordered)

    def _cleanup_closed(self) -> None:
        for topic, partition, start in self._closed:
            for s, _, path in self._list_parts(topic, partition):
                if s <= start:
                    self._rm(path)
        self._closed.clear()

    # -- files ------------------------------------------------------------------------------
    def _list_parts(self, topic: str, partition: int) -> list[tuple[int, int, str]]:
        d = staging_dir(self.root, topic, partition)
        try:
            names = self.fs.ls(d, detail=False)
        except FileNotFoundError:
            return []
        out = []
        for path in names:
            m = _PART.match(posixpath.basename(path))
            if m:
                out.append((int(m.group(1)), int(m.group(2)), path))
        return out

    def _rm(self, path: str) -> None:
        try:
            self.fs.rm(path)
        except FileNotFoundError:
            pass

    def _write_final(self, seg: _Segment) -> None:
        topic = seg.rows[0].topic
        path = final_path(self.root, topic, seg.partition, seg.start, seg.hour, self.ext)
        if self.ext == "jsonl":
            self._put(path, jsonl_bytes(seg.rows))
        else:
            self._put_parquet(path, records_table(seg.rows, self.extra_columns))

    def _write_part(self, seg: _Segment, added: list[Record]) -> None:
        d = staging_dir(self.root, added[0].topic, seg.partition)
        name = f"{seg.start:0{OFFSET_DIGITS}d}+{added[0].offset:0{OFFSET_DIGITS}d}.parquet"
        self._put_parquet(f"{d}/{name}", records_table(added))

    def _put_parquet(self, path: str, table) -> None:  # type: ignore[no-untyped-def]
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        self._put(path, sink.getvalue().to_pybytes())

    def _put(self, path: str, data: bytes) -> None:
        fs = self.fs
        if _is_local(fs):
            d, name = posixpath.split(path)
            tmp = f"{d}/.{name}.tmp-{uuid.uuid4().hex[:8]}"
            fs.makedirs(d, exist_ok=True)
            with fs.open(tmp, "wb") as f:
                f.write(data)
            fs.mv(tmp, path)
        else:
            fs.pipe_file(path, data)
        self.files_written += 1

    def _read_parquet(self, path: str) -> list[Record]:
        return table_records(_read_table(self.fs, path))


def _is_local(fs: Any) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol in ("file", "local")


def _read_table(fs: Any, path: str):  # type: ignore[no-untyped-def]
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pq.read_table(pa.BufferReader(fs.cat_file(path)))


# -- seed 4's landing: normalised smartwatch events as typed Parquet columns -----------------
_LANDING_FIELDS = (
    ("event_id", "string"), ("patient_id", "string"), ("user_id", "string"), ("device_id", "string"),
    ("event_time", "ts"), ("heart_rate", "int32"), ("steps", "int64"), ("sleeping", "bool"),
    ("age", "int32"), ("gender", "string"),
)


def smartwatch_columns(rows: list[Record]) -> dict[str, Any]:
    """Decoded columns of ``processed-smartwatch-data`` (seed 4's landing job), next to the
    raw value: what the daily/weekly aggregates read."""
    import msgspec
    import pyarrow as pa

    decoder = msgspec.json.Decoder()
    docs: list[dict[str, Any]] = []
    for r in rows:
        try:
            d = decoder.decode(r.value)
            docs.append(d if isinstance(d, dict) else {})
        except msgspec.DecodeError:
            docs.append({})
    types = {"string": pa.string(), "int32": pa.int32(), "int64": pa.int64(), "bool": pa.bool_()}
    out: dict[str, Any] = {}
    for name, kind in _LANDING_FIELDS:
        values = [d.get(name) for d in docs]
        if kind == "ts":
            out[name] = pa.array(values, pa.string()).cast(pa.timestamp("us", tz="UTC"))
        else:
            out[name] = pa.array([None if isinstance(v, (dict, list)) else v for v in values], types[kind])
    return out


# -- reading the lake -------------------------------------------------------------------------
@dataclass(frozen=True)
class LakeFile:
    path: str
    topic: str
    partition: int
    start: int
    hour: int | None  # event hour (hours since the epoch); None for staged parts
    staged: bool


def list_files(loc: LakeLocation, topic: str) -> list[LakeFile]:
    """Final files of ``topic`` plus the staged parts of its open segments, by partition/offset."""
    fs, root = loc.fs, loc.root
    finals: list[LakeFile] = []
    for path in fs.glob(f"{root}/topics/{topic}/year=*/month=*/day=*/hour=*/{topic}+*"):
        m = _FINAL.match(posixpath.basename(path))
        h = _HOUR.search(path)
        if not m or not h or m.group("topic") != topic:
            continue
        y, mo, d, hh = (int(x) for x in h.groups())
        hour = int(datetime(y, mo, d, hh, tzinfo=UTC).timestamp()) // 3600
        finals.append(LakeFile(path, topic, int(m.group("partition")), int(m.group("start")), hour, False))
    closed = {(f.partition, f.start) for f in finals}
    parts: list[LakeFile] = []
    for path in fs.glob(f"{root}/_staging/{topic}/*/*.parquet"):
        m = _PART.match(posixpath.basename(path))
        if not m:
            continue
        partition = int(posixpath.basename(posixpath.dirname(path)))
        if (partition, int(m.group(1))) in closed:
            continue  # leftover part of a segment whose final file exists
        parts.append(LakeFile(path, topic, partition, int(m.group(2)), None, True))
    return sorted(finals + parts, key=lambda f: (f.partition, f.start))


def read_lake(
    url: str | LakeLocation,
    topic: str,
    since_ms: int | None = None,
    until_ms: int | None = None,
) -> Iterator[Record]:
    """Archived records of ``topic`` with ``since_ms <= timestamp < until_ms``, in partition
    and offset order, each once (a record of an open segment is read from its part)."""
    loc = open_lake(url) if isinstance(url, str) else url
    seen: set[TopicPartition | tuple[str, int, int]] = set()
    for f in list_files(loc, topic):
        if f.hour is not None:
            if since_ms is not None and (f.hour + 1) * HOUR_MS <= since_ms:
                continue
            if until_ms is not None and f.hour * HOUR_MS >= until_ms:
                continue
        if f.path.endswith(".jsonl"):
            rows = jsonl_records(loc.fs.cat_file(f.path))
        else:
            rows = table_records(_read_table(loc.fs, f.path))
        for r in rows:
            if since_ms is not None and r.timestamp_ms < since_ms:
                continue
            if until_ms is not None and r.timestamp_ms >= until_ms:
                continue
            ident = (r.topic, r.partition, r.offset)
            if ident in seen:
                continue
            seen.add(ident)
            yield r
