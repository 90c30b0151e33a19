"""The document-store sink: processed clinical entries into MongoDB (seed 2's destination).

``VITALSTREAM_DOCSTORE_URL=mongodb://user:password@host:27017/`` turns it on; without the URL the
sink does not run (the warehouse already holds entries, problems and medications). Database
``medical``, collection ``processed_entries`` (the seed's names; ``?database=``/``?collection=``
override them). Each processed entry is upserted on ``entry_id`` — replays and restarts rewrite the
same document, never a second one (``_id`` is the entry id) — in one ordered bulk write per batch; the loop commits the
offsets only after it returned (write, then commit). A server that is down or unreachable is a
:class:`DocStoreUnavailable`: the same batch is retried with backoff. Indexes: ``entry_id``
(unique), ``patient_id``, ``timestamp``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec

from .. import topics as T
from ..errors import require
from ..log.base import Record
from ..redact import redact_url
from .base import Sink, SinkUnavailable

logger = logging.getLogger(__name__)

DOCSTORE_GROUP = "vitalstream-docstore"
DATABASE, COLLECTION = "medical", "processed_entries"
_OURS = ("database", "collection")  # query options of ours, not the driver's

_dec = msgspec.json.Decoder()


class DocStoreUnavailable(SinkUnavailable):
    """The document store cannot be reached or refused the write for now (retried)."""


def _split_url(url: str) -> tuple[str, str, str]:
    """(driver URL, database, collection): our two options removed from the query."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    ours = {k: v for k, v in query if k in _OURS}
    driver = urlunsplit(parts._replace(query=urlencode([(k, v) for k, v in query if k not in _OURS])))
    return driver, ours.get("database", DATABASE), ours.get("collection", COLLECTION)


def _document(r: Record) -> dict[str, Any] | None:
    """A processed entry as a BSON-ready document (times as dates), or None if it is not one."""
    try:
        doc = _dec.decode(r.value)
    except msgspec.DecodeError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("entry_id"), str):
        return None
    for name in ("timestamp", "processed_timestamp"):
        value = doc.get(name)
        if isinstance(value, str):
            try:
                doc[name] = datetime.fromisoformat(value)
            except ValueError:
                pass  # kept as written
    return doc


class MongoDocStore(Sink):
    """Upserts processed entries into a MongoDB collection (``mongodb://`` URL)."""

    group = DOCSTORE_GROUP
    topics = (T.PROCESSED_ENTRIES,)

    def __init__(self, url: str, *, timeout_ms: int = 5000) -> None:
        self.pymongo = require("pymongo", "docstore")
        self.url = url
        self.driver_url, self.database, self.collection_name = _split_url(url)
        self.timeout_ms = timeout_ms
        self.skipped = 0
        self._client: Any = None
        self._indexed = False

    def _collection(self) -> Any:
        if self._client is None:
            self._client = self.pymongo.MongoClient(
                self.driver_url, serverSelectionTimeoutMS=self.timeout_ms, connectTimeoutMS=self.timeout_ms,
                tz_aware=True, appname="vitalstream")
        return self._client[self.database][self.collection_name]

    def write(self, records: list[Record]) -> None:
        from pymongo import ASCENDING, UpdateOne
        from pymongo.errors import PyMongoError

        ops = []
        for r in records:
            doc = _document(r)
            if doc is None:
                self.skipped += 1  # the notes stage dead-letters what is not an entry
                continue
            # _id is the entry id: an upsert by _id is a key lookup on every server (FerretDB's
            # SQLite backend scans the collection for any other field: O(n) per write)
            ops.append(UpdateOne({"_id": doc["entry_id"]}, {"$set": doc}, upsert=True))
        if not ops:
            return
        try:
            coll = self._collection()
            if not self._indexed:
                coll.create_index([("entry_id", ASCENDING)], unique=True, name="entry_id")
                coll.create_index([("patient_id", ASCENDING)], name="patient_id")
                coll.create_index([("timestamp", ASCENDING)], name="timestamp")
                self._indexed = True
            coll.bulk_write(ops, ordered=True)  # in log order: the last document of an entry wins
        except PyMongoError as exc:
            # Down, unreachable, a failover, or two writers racing to insert the same new entry_id
            # (the retry then updates): all retried with the same batch.
            self._drop()
            raise DocStoreUnavailable(f"document store {redact_url(self.url)}: {type(exc).__name__}") from exc

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def close(self) -> None:
        self._drop()
