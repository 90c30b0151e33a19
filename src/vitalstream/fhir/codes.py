"""What each measurement is called in FHIR R4: LOINC code, UCUM unit, vital-signs profile.

The vital signs follow the R4 vital-signs profiles: heart rate 8867-4 ``/min``,
respiratory rate 9279-1 ``/min``, SpO2 2708-6 (+59408-5) ``%``, blood pressure panel 85354-9
with systolic 8480-6 and diastolic 8462-4 ``mm[Hg]``, body temperature 8310-5 ``Cel``. Steps
are LOINC 41950-7 "Number of steps in 24 hour Measured", an activity observation (not a vital
sign), so they are exported as one total per patient and UTC day.

NEWS2 has no LOINC code that we could confirm (NHS England's UK Core profiles code it in the
SNOMED CT UK extension and say explicitly that there is no LOINC code for it), so the total and its
subscores use vitalstream's own code system :data:`NEWS2_SYSTEM`, published as a CodeSystem
resource by :func:`news2_code_system` (docs/fhir.md).

:func:`to_canonical` converts a value given in another unit to the one FHIR gets (°F to Cel,
kPa to mm[Hg], a 0-1 fraction to %), so a source that reports °F is exported in Cel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import VitalstreamError

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
NEWS2_SYSTEM = "https://vitalstream.invalid/fhir/CodeSystem/news2"
PROFILE_BASE = "http://hl7.org/fhir/StructureDefinition/"


class UnitError(VitalstreamError):
    """A value came in a unit we cannot convert to the one its FHIR code requires."""


@dataclass(frozen=True)
class Coding:
    system: str
    code: str
    display: str

    def json(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}


@dataclass(frozen=True)
class Measure:
    """One kind of observation: its codings (the first is the profile's required one), the
    UCUM unit, the profile it claims (``None``: none) and its observation category."""

    name: str
    codings: tuple[Coding, ...]
    unit: str  # UCUM code (also shown as the human unit)
    profile: str | None
    category: str = "vital-signs"
    unit_display: str = ""

    @property
    def text(self) -> str:
        return self.codings[0].display


def _loinc(code: str, display: str) -> Coding:
    return Coding(LOINC, code, display)


MEASURES: dict[str, Measure] = {m.name: m for m in (
    Measure("heart_rate", (_loinc("8867-4", "Heart rate"),), "/min", PROFILE_BASE + "heartrate",
            unit_display="beats/minute"),
    Measure("respiratory_rate", (_loinc("9279-1", "Respiratory rate"),), "/min", PROFILE_BASE + "resprate",
            unit_display="breaths/minute"),
    Measure("spo2", (_loinc("2708-6", "Oxygen saturation in Arterial blood"),
                     _loinc("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry")),
            "%", PROFILE_BASE + "oxygensat"),
    Measure("blood_pressure", (_loinc("85354-9", "Blood pressure panel with all children optional"),),
            "mm[Hg]", PROFILE_BASE + "bp"),
    Measure("systolic", (_loinc("8480-6", "Systolic blood pressure"),), "mm[Hg]", None, unit_display="mmHg"),
    Measure("diastolic", (_loinc("8462-4", "Diastolic blood pressure"),), "mm[Hg]", None, unit_display="mmHg"),
    Measure("temperature", (_loinc("8310-5", "Body temperature"),), "Cel", PROFILE_BASE + "bodytemp",
            unit_display="C"),
    # a daily total: steps per day, the unit of 41950-7
    Measure("steps", (_loinc("41950-7", "Number of steps in 24 hour Measured"),), "/d", None,
            category="activity", unit_display="steps/day"),
)}

#: ProcessedVital field -> measure (blood pressure is one panel of two fields).
FIELD_MEASURES: dict[str, str] = {
    "heart_rate": "heart_rate", "respiratory_rate": "respiratory_rate", "spo2": "spo2",
    "temperature_c": "temperature",
}

CATEGORY_DISPLAY = {"vital-signs": "Vital Signs", "activity": "Activity", "survey": "Survey"}

# --- NEWS2 ----------------------------------------------------------------------------------
NEWS2_TOTAL = Coding(NEWS2_SYSTEM, "news2-total", "NEWS2 total score")
#: subscore parameter (vitalstream.clinical.news2) -> its code
NEWS2_SUBSCORES: dict[str, Coding] = {p: Coding(NEWS2_SYSTEM, f"news2-{c}", d) for p, c, d in (
    ("respiratory_rate", "respiration-rate", "NEWS2 respiration rate subscore"),
    ("spo2", "spo2", "NEWS2 SpO2 subscore"),
    ("on_oxygen", "air-or-oxygen", "NEWS2 air or oxygen subscore"),
    ("systolic", "systolic-bp", "NEWS2 systolic blood pressure subscore"),
    ("heart_rate", "pulse", "NEWS2 pulse subscore"),
    ("consciousness", "consciousness", "NEWS2 consciousness subscore"),
    ("temperature_c", "temperature", "NEWS2 temperature subscore"),
)}
NEWS2_SCALE = Coding(NEWS2_SYSTEM, "news2-spo2-scale", "NEWS2 SpO2 scale used (1 or 2)")
NEWS2_BAND = Coding(NEWS2_SYSTEM, "news2-clinical-risk", "NEWS2 clinical risk band")
NOT_MEASURED = Coding(DATA_ABSENT_SYSTEM, "not-performed", "Not Performed")


def news2_code_system() -> dict[str, Any]:
    """The CodeSystem resource that defines :data:`NEWS2_SYSTEM` (validators load it)."""
    codes = [NEWS2_TOTAL, *NEWS2_SUBSCORES.values(), NEWS2_SCALE, NEWS2_BAND]
    return {
        "resourceType": "CodeSystem", "id": "vitalstream-news2", "url": NEWS2_SYSTEM,
        "version": "1", "name": "VitalstreamNEWS2", "title": "vitalstream NEWS2 codes",
        "status": "active", "content": "complete", "caseSensitive": True,
        "description": "NEWS2 (Royal College of Physicians, 2017) total score, subscores, SpO2 scale "
                       "and clinical risk band as computed by vitalstream. No LOINC code is used "
                       "because none could be confirmed for NEWS2.",
        "concept": [{"code": c.code, "display": c.display} for c in codes],
    }


# --- units ------------------------------------------------------------------------------------
# unit spellings a source may use -> (UCUM code, function to the measure's unit)
_FAHRENHEIT = ("[degF]", "degF", "°F", "F", "fahrenheit")
_CELSIUS = ("Cel", "°C", "C", "degC", "celsius")


def _f_to_c(value: float) -> float:
    return round((value - 32.0) * 5.0 / 9.0, 2)


_CONVERSIONS: dict[str, dict[str, Any]] = {
    "Cel": {**{u.lower(): _f_to_c for u in _FAHRENHEIT}, **{u.lower(): float for u in _CELSIUS}},
    "mm[Hg]": {"mm[hg]": float, "mmhg": float, "kpa": lambda v: round(v * 7.50062, 1)},
    "%": {"%": float, "percent": float, "1": lambda v: round(v * 100.0, 1)},
    "/min": {"/min": float, "bpm": float, "1/min": float, "breaths/min": float, "beats/min": float},
    "/d": {"/d": float, "steps/day": float, "{steps}/d": float},
}


def to_canonical(measure: str, value: float, unit: str | None = None) -> float | int:
    """``value`` in the UCUM unit of ``measure`` (``unit`` ``None``: already in it).

    >>> to_canonical("temperature", 98.6, "°F")
    37.0
    """
    target = MEASURES[measure].unit
    if unit is None or unit == target:
        return value
    convert = _CONVERSIONS.get(target, {}).get(unit.strip().lower())
    if convert is None:
        raise UnitError(f"{measure}: cannot convert unit {unit!r} to {target!r}")
    result = convert(value)
    return int(result) if isinstance(value, int) and float(result).is_integer() else result


def quantity(measure: str, value: float | int, unit: str | None = None) -> dict[str, Any]:
    """A FHIR ``Quantity`` for ``value`` (converted from ``unit`` if given)."""
    m = MEASURES[measure]
    return {"value": to_canonical(measure, value, unit), "unit": m.unit_display or m.unit,
            "system": UCUM, "code": m.unit}


__all__ = ["MEASURES", "NEWS2_SUBSCORES", "NEWS2_SYSTEM", "Measure", "UnitError", "news2_code_system",
           "quantity", "to_canonical"]
