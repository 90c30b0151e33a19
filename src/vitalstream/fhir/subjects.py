"""The configured way of naming patients and devices in FHIR output (``fhir.patient_reference``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..privacy.pseudonym import pseudonymiser_from
from .resources import Subjects

if TYPE_CHECKING:
    from ..config import Settings


def subjects_from(settings: Settings) -> Subjects:
    """Pseudonyms (the default: needs a key, see :mod:`vitalstream.privacy.pseudonym`) or
    identifiers, as the settings say."""
    if settings.fhir.patient_reference == "identifier":
        return Subjects(identifier_system=settings.fhir.identifier_system)
    return Subjects(pseudonymiser=pseudonymiser_from(settings))


__all__ = ["Subjects", "subjects_from"]
