"""The lake: every raw record archived as received, the source of truth for replay.

Layout (by event time, i.e. the record timestamp)::

    <root>/topics/<topic>/year=YYYY/month=MM/day=DD/hour=HH/<topic>+<partition>+<start>+<tag>.parquet

``<start>`` is the zero-padded offset of the file's first record; ``<tag>`` the log's
incarnation of the topic (its ``topic_id``), so the archive is append-only by construction:
a topic reset or a new log restarts offsets at 0 but never reuses a name
(:mod:`.incarnations`; the sink refuses to start over an incarnation the log does not know
unless told ``new_incarnation``). Parquet by default (columns
``topic, partition, offset, timestamp, key, value, headers``; the value is the raw bytes as
received); ``?format=jsonl`` writes JSON lines instead (the smartwatch-vitals raw JSON archive).

Deterministic rotation
    A *segment* is a maximal run of consecutive records of one partition that share the
    event-time hour and the offset chunk ``offset // rotate_records``. Its boundaries depend
    only on the records, never on how they were batched, so a replay after a crash produces the
    same file names with the same contents and every record lands in exactly one file.

The open segment: in memory, the log as its write-ahead log
    A segment's final file is written when the segment closes (the next record starts another
    one), from one Arrow table, so files hold thousands of rows. Until then its records wait in
    memory (as Arrow columns, built once per polled batch) and their offsets are *not*
    committed: driven by :func:`~vitalstream.runtime.run_worker`, the sink tells the loop what
    is durable (:meth:`LakeSink.checkpoint`, :mod:`vitalstream.commits`) and a crash simply
    reads them from the log again. Records that have waited ``flush_s`` seconds (lake URL
    option, default 10), all of them after a second without records, and everything when the
    loop stops or ``--until-idle`` finds nothing left, are written as a *part* under
    ``<root>/_staging/<topic>/<partition>/<start>+<part start>+<tag>.parquet`` and committed,
    which bounds how long an archived record can be missing from the lake. After a restart the
    open segment is rebuilt from its parts (parts at or past the committed offset are stale and
    deleted; parts of a segment whose final file holds later records are leftovers and deleted).
    Parts of a closed segment are deleted once its final file is durable *and* committed.
    Called directly (no ``checkpoint``), :meth:`LakeSink.process` writes parts before it
    returns, as the sink contract asks. :func:`read_lake` reads final files and open parts.

One implementation over fsspec: ``file:///path`` (default) and ``s3://bucket/prefix``
(``?endpoint_url=http://host:port&region=...``; credentials from the usual AWS environment
variables). Local writes go to a hidden temporary file and are renamed into place, so a
``kill -9`` never leaves a torn file under its final name; S3 puts are atomic. Local files
are owner-only (0600, directories 0700): the lake holds PHI.

Modules: :mod:`.fs` (URL → filesystem), :mod:`.layout` (paths and names), :mod:`.codecs`
(Parquet, JSON lines), :mod:`.segments` (batches cut into segments, open segments in memory),
:mod:`.incarnations` (which incarnations the lake holds; the guard),
:mod:`.sink` (the rotating :class:`LakeSink`), :mod:`.landing` (the smartwatch landing's
columns), :mod:`.reader` (reading the lake back).
"""

from __future__ import annotations

from .codecs import ExtraColumns, jsonl_bytes, jsonl_records, records_table, table_records
from .fs import DEFAULT_ROTATE_RECORDS, FORMATS, LakeLocation, open_lake
from .incarnations import Incarnation, UnknownIncarnation, log_topic_ids, recorded
from .landing import LANDING_GROUP, smartwatch_columns
from .layout import HOUR_MS, OFFSET_DIGITS, file_name, final_path, hour_dir, incarnation_tag, staging_dir
from .reader import LakeFile, incarnation_order, list_files, read_lake
from .sink import LAKE_GROUP, LakeSink

__all__ = [
    "DEFAULT_ROTATE_RECORDS", "FORMATS", "HOUR_MS", "LAKE_GROUP", "LANDING_GROUP", "OFFSET_DIGITS",
    "ExtraColumns", "Incarnation", "LakeFile", "LakeLocation", "LakeSink", "UnknownIncarnation",
    "file_name", "final_path", "hour_dir", "incarnation_order", "incarnation_tag", "jsonl_bytes",
    "jsonl_records", "list_files", "log_topic_ids", "open_lake", "read_lake", "recorded",
    "records_table", "smartwatch_columns", "staging_dir", "table_records",
]
