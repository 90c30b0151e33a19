"""Dose, unit, route and frequency of a medication mention, from the words after its name.

"metformin 500 mg PO twice daily", "salbutamol 2 puffs inhaled every 4-6 hours as needed",
"Tylenol 1 g q6h prn". Each is read from a short window after the name (up to the next
medication or the end of the sentence) and normalised: ``dose`` a number, ``unit`` one of
mg/mcg/g/mL/units/puffs, ``route`` a word (oral, intravenous, …), ``frequency`` a short form
("twice daily", "every 6 hours", "as needed"); None when the note does not say.

The expressions are anchored and bounded (no nested repetition), so no wording makes them slow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WINDOW = 80  # characters after the name that may describe it

_UNITS = {
    "mg": "mg", "milligram": "mg", "milligrams": "mg", "mcg": "mcg", "µg": "mcg", "ug": "mcg",
    "microgram": "mcg", "micrograms": "mcg", "g": "g", "gram": "g", "grams": "g", "gm": "g",
    "ml": "mL", "millilitre": "mL", "milliliter": "mL", "millilitres": "mL", "milliliters": "mL",
    "unit": "units", "units": "units", "iu": "units", "u": "units", "puff": "puffs", "puffs": "puffs",
}
_DOSE = re.compile(
    r"(?<![\w.])(\d{1,6}(?:[.,]\d{1,3})?)\s{0,2}(" + "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))
    + r")(?![a-zµ])", re.IGNORECASE)

_ROUTES: tuple[tuple[str, str], ...] = (
    (r"by mouth|orally|oral|p\.?o\.?", "oral"),
    (r"intravenously|intravenous|i\.?v\.?", "intravenous"),
    (r"intramuscularly|intramuscular|i\.?m\.?", "intramuscular"),
    (r"subcutaneously|subcutaneous|subcut|s\.?c\.?|s\.?q\.?", "subcutaneous"),
    (r"inhaled|inhaler|via inhaler|nebulised|nebulized|by inhalation", "inhaled"),
    (r"sublingually|sublingual|s\.?l\.?", "sublingual"),
    (r"topically|topical|applied to skin", "topical"),
    (r"rectally|rectal|p\.?r\.?", "rectal"),
    (r"transdermal|patch", "transdermal"),
)
_ROUTE = [(re.compile(r"(?<![\w.])(?:" + pat + r")(?![\w])", re.IGNORECASE), name) for pat, name in _ROUTES]

_NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "six": "6", "eight": "8", "twelve": "12"}
_FREQUENCIES: tuple[tuple[str, str], ...] = (
    (r"as needed|as required|when needed|if needed|p\.?r\.?n\.?", "as needed"),
    (r"once daily|once a day|once per day|daily|every day|o\.?d\.?|q\.?d\.?|q\.?a\.?m\.?|each day|per day", "once daily"),
    (r"twice daily|twice a day|two times a day|two times daily|twice per day|b\.?i\.?d\.?|b\.?d\.?", "twice daily"),
    (r"three times a day|three times daily|thrice daily|t\.?i\.?d\.?|t\.?d\.?s\.?", "three times daily"),
    (r"four times a day|four times daily|q\.?i\.?d\.?|q\.?d\.?s\.?", "four times daily"),
    (r"at night|nightly|at bedtime|before bed|q\.?h\.?s\.?|nocte|every night|each night", "at night"),
    (r"every morning|in the morning|each morning|mane", "every morning"),
    (r"once weekly|once a week|weekly|every week", "weekly"),
    (r"once|single dose|stat", "once"),
)
_FREQ = [(re.compile(r"(?<![\w.])(?:" + pat + r")(?![\w])", re.IGNORECASE), name) for pat, name in _FREQUENCIES]
_EVERY_HOURS = re.compile(
    r"(?<![\w.])(?:every|q)\s{0,2}(\d{1,2}|one|two|three|four|six|eight|twelve)(?:\s{0,2}(?:-|to)\s{0,2}\d{1,2})?"
    r"\s{0,2}(?:hours?|hrs?|h)(?![\w])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Dosage:
    dose: float | None = None
    unit: str | None = None
    route: str | None = None
    frequency: str | None = None


def _first(patterns: list[tuple[re.Pattern[str], str]], text: str) -> str | None:
    best: tuple[int, str] | None = None
    for pat, name in patterns:
        m = pat.search(text)
        if m is not None and (best is None or m.start() < best[0]):
            best = (m.start(), name)
    return best[1] if best else None


def frequency_of(text: str) -> str | None:
    """The normalised frequency a phrase states, or None ("q6h" → "every 6 hours")."""
    hours = _EVERY_HOURS.search(text)
    named = _first(_FREQ, text)
    if hours is not None:
        n = _NUMBER_WORDS.get(hours.group(1).lower(), hours.group(1))
        every = "every 24 hours" if n == "24" else f"every {int(n)} hours"
        # "every 6 hours as needed": the interval is the schedule; "as needed" is the condition
        return every if named in (None, "as needed", "once") else named
    return named


def dosage_of(text: str) -> Dosage:
    """Dose, unit, route and frequency stated in ``text`` (the words after a medication)."""
    text = text[:WINDOW]
    dose = unit = None
    m = _DOSE.search(text)
    if m is not None:
        dose = float(m.group(1).replace(",", "."))
        unit = _UNITS[m.group(2).lower()]
    return Dosage(dose, unit, _first(_ROUTE, text), frequency_of(text))
