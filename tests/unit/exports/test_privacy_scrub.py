"""The note scrubber: each PHI kind by example, clinical content kept."""

from __future__ import annotations

import pytest

from vitalstream.privacy.scrub import Scrubber, names_in


@pytest.mark.parametrize("phi", [
    "jane.doe@example.com", "http://www.example.org/x", "192.168.1.20", "123-45-6789", "(555) 123-4567",
    "555.123.4567", "+1-555-123-4567x891", "001-555-123-4567", "+44 20 7946 0958", "2024-04-01", "04/01/2024",
    "1/4/24", "April 1, 2024", "1st of April 2024", "Apr 1", "March 2021", "08:30 am", "MRN 00123456",
    "42 Willow Creek Road", "Apt. 12", "Springfield, IL 62704", "62704-1234", "Dr. Okafor", "PSC 1234, Box 5678",
])
def test_each_kind_is_removed(phi) -> None:
    out = Scrubber().scrub(f"Note: {phi} today.")
    assert phi.lower() not in out.lower(), out


def test_known_names_and_ids_are_removed_and_medicine_is_kept() -> None:
    s = Scrubber(names=names_in("Ana Okonkwo (spouse) +1-555-0142"), identifiers=["patient-0001"])
    out = s.scrub("ana okonkwo called about patient-0001. Prescribed metformin 500 mg twice daily for 3 days.")
    assert "okonkwo" not in out.lower() and "patient-0001" not in out
    assert "metformin 500 mg twice daily for 3 days" in out


def test_names_in_an_emergency_contact() -> None:
    assert names_in("Ana Okonkwo (spouse) +1-555-0142") == ["Ana", "Okonkwo"]
    assert names_in(None) == []
