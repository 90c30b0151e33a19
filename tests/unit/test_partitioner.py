"""The keyed-record partitioner is Kafka's Java default: murmur2, then toPositive % n.

Reference values were computed with the Java client the development broker ships
(``org.apache.kafka.common.utils.Utils.murmur2`` and ``toPositive`` from
``kafka-clients-4.1.1.jar``), so a record vitalstream produces lands where a Java producer,
Kafka Connect or Kafka Streams would put it.
"""

from __future__ import annotations

import pytest

from vitalstream.log import partition_for
from vitalstream.log.base import murmur2

# key, Utils.murmur2(key as UTF-8), partition of 6, of 12, of 7
JAVA = [
    ("", 275646681, 3, 9, 2),
    ("a", -1563381124, 4, 4, 5),
    ("ab", 316155434, 2, 2, 0),
    ("abc", 479470107, 3, 3, 4),
    ("abcd", -1323649548, 2, 8, 5),
    ("abcde", 461995741, 1, 1, 4),
    ("p1", -1805418678, 2, 2, 2),
    ("p-0001", 660439876, 4, 4, 5),
    ("patient-0042", 1234369559, 5, 11, 3),
    ("device-0001", -580787201, 3, 3, 1),
    ("21", -973932308, 0, 0, 3),
    ("ünïcödé", 201421315, 1, 7, 4),
    ("00000000-0000-4000-8000-000000000001", -694496258, 0, 6, 1),
    ("kafka", -798503068, 4, 4, 3),
    ("murmur2 reference vector", -457529410, 4, 10, 0),
]


@pytest.mark.parametrize(("key", "java_hash", "p6", "p12", "p7"), JAVA)
def test_murmur2_matches_the_java_client(key: str, java_hash: int, p6: int, p12: int, p7: int) -> None:
    data = key.encode()
    assert murmur2(data) == java_hash
    assert (partition_for(data, 6), partition_for(data, 12), partition_for(data, 7)) == (p6, p12, p7)


def test_every_partition_is_used() -> None:
    keys = [f"patient-{i:04d}".encode() for i in range(600)]
    counts = [0] * 6
    for k in keys:
        counts[partition_for(k, 6)] += 1
    assert min(counts) > 60  # murmur2 spreads sequential ids
