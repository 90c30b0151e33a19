"""How the embedded log stores a batch: one ``batches`` row per partition per flush.

Version 2 (what this version writes) is a msgpack array
``[2, base_offset, rows, headers, offsets]``:

* ``rows`` — ``[key, value, timestamp_ms]`` per record, in offset order; the producer encodes
  the rows it buffered as they are, with no per-record re-packing;
* ``headers`` — ``{row index: [[name, value], ...]}`` for the records that have headers, else nil;
* ``offsets`` — nil when the offsets are consecutive from ``base_offset`` (every flush), else
  each row's offset (a batch rewritten by compaction).

Version 1 (logs written before) is an array of ``[offset, timestamp_ms, key, value, headers]``
records. It still reads: :func:`decode` tells them apart by the first two bytes (a version 2
batch starts with ``0x95 0x02``; a version 1 batch of five records with ``0x95 0x95``) and
turns a version 1 batch into the same :class:`Stored` form, so readers see one shape.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

import msgspec

from ...errors import ConfigError
from ..base import Headers, Record

Row = tuple["bytes | None", bytes, int]  # (key, value, timestamp_ms)

_V2 = b"\x95\x02"
_encoder = msgspec.msgpack.Encoder()


class Stored(msgspec.Struct, array_like=True, gc=False):
    """One decoded batch (see the module doc)."""

    version: int
    base: int
    rows: list[tuple[bytes | None, bytes, int]]
    headers: dict[int, Headers] | None = None
    offsets: list[int] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def offset(self, i: int) -> int:
        return self.base + i if self.offsets is None else self.offsets[i]

    def index(self, pos: int) -> int:
        """Index of the first record at offset >= pos."""
        if self.offsets is None:
            return min(max(pos - self.base, 0), len(self.rows))
        return bisect_left(self.offsets, pos)

    def records(self, topic: str, partition: int, start: int, stop: int) -> list[Record]:
        rows, hd, offsets = self.rows[start:stop], self.headers, self.offsets
        if offsets is None and not hd:
            return [Record(topic, partition, o, k, v, ts) for o, (k, v, ts) in enumerate(rows, self.base + start)]
        offs: Sequence[int] = range(self.base, self.base + len(self.rows)) if offsets is None else offsets
        hd = hd or {}
        return [Record(topic, partition, offs[i], k, v, ts, hd.get(i, ()))
                for i, (k, v, ts) in enumerate(rows, start)]

    def entries(self) -> list[tuple[int, int, bytes | None, bytes, Headers]]:
        """Every record as ``(offset, timestamp_ms, key, value, headers)``."""
        hd = self.headers or {}
        return [(self.offset(i), ts, k, v, hd.get(i, ())) for i, (k, v, ts) in enumerate(self.rows)]


_v2_decoder = msgspec.msgpack.Decoder(Stored)
_v1_decoder = msgspec.msgpack.Decoder(list[tuple[int, int, bytes | None, bytes, list[tuple[str, bytes]] | None]])


def encode(base: int, rows: Sequence[Row], headers: dict[int, Headers] | None = None,
           offsets: Sequence[int] | None = None) -> bytes:
    """A version 2 batch (``offsets`` only when they are not ``base, base + 1, ...``)."""
    return _encoder.encode((2, base, rows, headers or None, offsets))


def decode(data: bytes) -> Stored:
    if data[:2] == _V2:
        return _v2_decoder.decode(data)
    if data[:1] == b"\x95" and data[1:2] < b"\x80":  # [version, ...]: a format from a newer version
        raise ConfigError(f"the embedded log holds batches in format {data[1]}, newer than this "
                          "version of vitalstream reads (2): upgrade it")
    old = _v1_decoder.decode(data)
    headers = {i: tuple(h) for i, (*_, h) in enumerate(old) if h}
    consecutive = not old or old[-1][0] - old[0][0] == len(old) - 1
    return Stored(1, old[0][0] if old else 0, [(k, v, ts) for _, ts, k, v, _ in old], headers or None,
                  None if consecutive else [r[0] for r in old])
