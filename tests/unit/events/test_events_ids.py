"""The id functions' fast paths (a pre-hashed namespace or prefix, copied per id) give exactly
the ids of their definitions: UUIDv5 of the namespace, UUIDv8 over SHA-256 of scoped_name()."""

import uuid
from hashlib import sha256

import pytest

from vitalstream.clinical import ids as clinical_ids
from vitalstream.events.ids import (
    MANY_MIN,
    NAMESPACE,
    scoped_event_id,
    scoped_event_ids,
    scoped_name,
    uuid5_many,
    uuid5_str,
    uuid8_hex,
)

NAMES = ["", "a", "heart-rate-data\x1fdev-1\x1f1700000000000\x1f72", "ü\x1f名前", "x" * 300, "1\x1f2\x1f\x1f"]


@pytest.mark.parametrize("name", NAMES)
def test_uuid5_str_is_uuid5(name: str) -> None:
    assert uuid5_str(name) == str(uuid.uuid5(NAMESPACE, name))
    assert uuid5_str(name) == uuid5_str(name)  # the seeded hash is copied, never updated in place


@pytest.mark.parametrize("name", NAMES)
def test_clinical_uuid5_is_uuid5_of_its_namespace(name: str) -> None:
    assert clinical_ids.uuid5(name) == str(uuid.uuid5(clinical_ids.NAMESPACE, name))


@pytest.mark.parametrize("patient, client", [("P1", "e1"), ("", ""), ("P\x1f1", "e"), ("ü", "\x1f"), ("P" * 99, "z")])
def test_scoped_event_id_is_uuid8_over_scoped_name(patient: str, client: str) -> None:
    expected = uuid8_hex(sha256(scoped_name(patient, client).encode()).hexdigest())
    assert scoped_event_id(patient, client) == expected


@pytest.mark.parametrize("n", [0, 1, MANY_MIN - 1, MANY_MIN, 40])
def test_ids_of_a_run_equal_the_ids_one_by_one(n: int) -> None:
    names = [NAMES[i % len(NAMES)] + str(i) for i in range(n)]
    assert uuid5_many(names) == [str(uuid.uuid5(NAMESPACE, name)) for name in names]
    patients = [f"P{i}" * (i % 3 + 1) for i in range(n)]
    assert scoped_event_ids(patients, names) == [scoped_event_id(p, c) for p, c in zip(patients, names, strict=True)]
