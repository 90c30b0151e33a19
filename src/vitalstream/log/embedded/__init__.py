"""The embedded message log: one SQLite database in WAL mode, no server.

URL: ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``; ``?sync=full`` makes
every flush survive power loss too (the default, ``normal``, survives ``kill -9`` of any process,
which is the promise: SQLite in WAL mode with synchronous=NORMAL loses nothing on an
application crash, only possibly the last transactions on an OS crash).

Several processes on one machine share it: an ingest process produces while a processor
consumes. Writers are serialised by SQLite's lock (each flush is one short transaction);
readers never block writers. Consumer groups work across processes: members heart-beat into
the ``members`` table and each member derives the same assignment from the live member list.

Records are stored as *batches*, like Kafka's record batches: one row per partition per
flush holding the batch's records (msgpack), so a flush of 5,000 records is one row written
and a poll reads a few rows, not thousands. Retention drops whole batches whose newest record
is older than the limit; compaction rewrites a partition keeping the latest record per key,
offsets unchanged.

Assignment is by partition *number*: partition ``p`` of every subscribed topic goes to the
same member, so a patient's records from different topics (all keyed by patient id) meet in
one member — per-patient state such as alerts and NEWS2 depends on that co-partitioning.

Where each concern lives:

* ``db.py`` — the URL, the SQLite connection and its pragmas, IMMEDIATE write transactions,
  the schema and its migrations (the topic-UUID column), the batch encoding, the topic cache.
* ``admin.py`` — :class:`EmbeddedLog`: create/describe/purge/delete topics, group lag,
  retention and compaction; the factory for producers and consumers.
* ``producer.py`` — :class:`EmbeddedProducer`: partitioning, buffering, one transaction per
  ``flush``.
* ``groups.py`` — :class:`GroupMember`: heartbeats, the co-partitioned assignment, claiming
  and handing over partitions, leaving the group.
* ``consumer.py`` — :class:`EmbeddedConsumer`: fetching from owned partitions, fenced
  commits, seeks.
"""

from .admin import EmbeddedLog
from .consumer import EmbeddedConsumer
from .producer import EmbeddedProducer

__all__ = ["EmbeddedConsumer", "EmbeddedLog", "EmbeddedProducer"]
