"""Apache Kafka backend of the message log, over confluent-kafka (librdkafka).

URL: ``kafka://host:port[,host:port]?security.protocol=SASL_SSL&sasl.mechanism=SCRAM-SHA-512``.
Every query parameter, and every ``VITALSTREAM_KAFKA_<NAME>`` environment variable, is passed
to librdkafka as ``<name>`` lower-cased with ``_`` read as ``.`` (``VITALSTREAM_KAFKA_SASL_PASSWORD``
sets ``sasl.password``); a query parameter wins over the environment. Keep secrets in the
environment: they are redacted from ``repr`` and from every log line and error message.
``connect_timeout`` (seconds, default 5) is ours: how long start-up waits for the cluster
before raising :class:`LogUnavailable`.

Producers are idempotent with ``acks=all``; keyed records go to :func:`partition_for` (an
explicit partition, so both backends place a key identically), unkeyed ones round-robin.
Consumers use the classic group protocol with the *range* assignor and never commit on their
own: :meth:`KafkaConsumer.commit` stores what the caller has finished. Range (not
cooperative-sticky) because it co-partitions: with equal partition counts, partition p of every
subscribed topic goes to the same member, so all of a patient's vitals (keyed by patient id on
every topic) meet in one worker, which per-patient alert and NEWS2 state needs. The embedded
log assigns the same way.

Where each concern lives:

* ``config.py`` — ``kafka://`` URL and environment → librdkafka settings; which settings are
  secrets and their redaction (:func:`parse_url`, :func:`redact`).
* ``errors.py`` — librdkafka error codes → vitalstream's exception tree; the ``error_cb``
  that logs client errors without flooding.
* ``admin.py`` — :class:`KafkaLog`: start-up reachability check, topics, watermarks, topic
  ids, group lag; the factory for producers and consumers.
* ``producer.py`` — :class:`KafkaProducer`: partitioning, buffering, ``flush`` as the
  acknowledgement point.
* ``consumer.py`` — :class:`KafkaConsumer`: group membership and rebalance callbacks, polling,
  fenced commits, seeks, leaving the group on ``close``.
"""

from ...errors import require

# Before any submodule imports it: a missing extra names its install command.
require("confluent_kafka", "kafka")

from .admin import KafkaLog  # noqa: E402
from .config import parse_url, redact  # noqa: E402
from .consumer import KafkaConsumer  # noqa: E402
from .producer import KafkaProducer  # noqa: E402

__all__ = ["KafkaConsumer", "KafkaLog", "KafkaProducer", "parse_url", "redact"]
