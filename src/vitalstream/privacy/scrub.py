"""PHI removed from free text (notes, medical history), Safe Harbor categories by pattern.

Names are not found by pattern (no offline model finds them reliably): the names vitalstream
*knows* (from the patient metadata: emergency contacts, the heart-rate stream's user names) are removed
wherever they appear, and so are the identifiers it knows (patient and device ids). Titled
names ("Dr. Okafor") go by pattern. Everything else — emails, URLs, IP addresses, phone and fax
numbers, social security and record numbers, street addresses, ZIP codes, dates and times —
goes by the patterns below and becomes a tag such as ``[PHONE]``.

The measured recall on a synthetic set is in docs/privacy.md (``vitalstream extract evaluate``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_MONTHS = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
           r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_DAYS = r"(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs)?|Fri|Sat(?:ur)?|Sun)(?:day)?\.?"
_SUFFIXES = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Square|Sq|Terrace|"
    "Ter|Parkway|Pkwy|Circle|Cir|Trail|Trl|Highway|Hwy|Way|Loop|Ridge|Rdg|Crossing|Xing|Alley|Aly|"
    "Path|Pike|Run|Row|Walk|Mall|Mews|Pass|Plaza|Plz|Point|Pt|Port|Park|Hill|Hills|Heights|Hts|"
    "Harbor|Hbr|Haven|Hollow|Island|Isle|Junction|Key|Keys|Knoll|Knolls|Lake|Lakes|Landing|Lodge|"
    "Manor|Mill|Mills|Mission|Motorway|Mount|Mountain|Neck|Orchard|Oval|Pines|Plains|Prairie|Ramp|"
    "Ranch|Rapids|Rest|River|Shoal|Shoals|Shore|Shores|Skyway|Spring|Springs|Spur|Station|Stravenue|"
    "Stream|Summit|Throughway|Trace|Track|Trafficway|Tunnel|Turnpike|Underpass|Union|Unions|Valley|"
    "Valleys|Via|Viaduct|View|Views|Village|Villages|Ville|Vista|Wall|Well|Wells|Estate|Estates|"
    "Expressway|Extension|Falls|Ferry|Field|Fields|Flat|Flats|Ford|Fords|Forest|Forge|Forges|Fork|"
    "Forks|Fort|Freeway|Garden|Gardens|Gateway|Glen|Glens|Green|Greens|Grove|Groves|Burg|Burgs|"
    "Bypass|Camp|Canyon|Cape|Causeway|Center|Centers|Cliff|Cliffs|Club|Common|Commons|Corner|"
    "Corners|Course|Courts|Cove|Coves|Creek|Crescent|Crest|Curve|Dale|Dam|Divide|Drives|Bluff|"
    "Bluffs|Bottom|Branch|Bridge|Brook|Brooks|Beach|Bend|Arcade|Anex|Meadow|Meadows|Radial|"
    "Ports|Route|Shoal|Squares|Streets|Light|Lights|Locks|Lock|Loaf|Marsh|Overpass|Passage|Plain|Points|"
    "Inlet|Rue|Rapid|Crossroad|Isle|Cswy|Expy|Fwy|Tpke")
_CAP = r"[A-Z][a-zA-Z'-]+"

# (tag, pattern), applied in this order: the specific kinds before the broad ones
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((tag, re.compile(p)) for tag, p in (
    ("EMAIL", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    ("URL", r"\b(?:https?://|www\.)[^\s,;]+"),
    ("IP", r"\b\d{1,3}(?:\.\d{1,3}){3}\b"),
    ("SSN", r"\b\d{3}-\d{2}-\d{4}\b"),
    # ISO dates with an optional time, before phone numbers eat their digits
    ("DATE", r"\b\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"),
    ("DATE", r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b"),
    ("PHONE", r"(?<![\w/])(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]?\d{4}(?:\s*(?:x|ext\.?)\s*\d{1,6})?\b"),
    ("PHONE", r"(?<![\w/])\+\d{1,3}(?:[\s.-]?\d{2,4}){2,5}\b"),
    ("ADDRESS", rf"\b\d{{1,6}}\s+(?:{_CAP}\s+){{0,3}}(?:{_SUFFIXES})s?\b\.?(?:,?\s+(?:Apt\.?|Suite|Unit|#)\s*\d+)?"),
    ("ADDRESS", r"\b(?:Apt\.?|Suite)\s+\d+\b"),
    ("ADDRESS", r"\b(?:PSC|Unit)\s+\d{3,5},?\s+Box\s+\d{3,5}\b|\bUSN[SV]\s+[A-Z][a-z]+\b|\b[FAD]PO\s+A[AEP]\b"),
    ("ADDRESS", rf"\b{_CAP}(?:\s+{_CAP}){{0,2}},\s+[A-Z]{{2}}\s+\d{{5}}(?:-\d{{4}})?\b"),
    ("ZIP", r"\b\d{5}-\d{4}\b"),
    ("DATE", rf"\b(?:{_DAYS},?\s+)?{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b"),
    ("DATE", rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}(?:,?\s+\d{{4}})?\b"),
    ("DATE", rf"\b{_MONTHS}\s+\d{{4}}\b"),
    ("DATE", rf"\b{_DAYS}(?=[\s,.;])"),
    ("TIME", r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp]\.?[Mm]\.?)?\b"),
    ("ID", r"\b(?:MRN|ID|Acct|Account|Record|Policy|Member|License|Licence|Plate|Serial|Device|Patient|Chart)"
           r"\s*(?:No\.?|Number|#)?[:#\s]*[A-Z0-9][A-Z0-9-]{3,}\b"),
    ("ID", r"\b[A-Z]{1,3}\d{5,}\b|\b\d{6,}\b"),
    ("NAME", rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Nurse)\.?\s+{_CAP}(?:\s+{_CAP})?"),
    ("ZIP", r"\b\d{5}\b"),
))


class Scrubber:
    """``scrub(text)``: the text with every known name / identifier and every pattern match
    replaced by its tag."""

    def __init__(self, names: Iterable[str] = (), identifiers: Iterable[str] = ()) -> None:
        words = {w.strip() for w in names if w and len(w.strip()) >= 2}
        ids = {i.strip() for i in identifiers if i and len(i.strip()) >= 3}
        self._names = _alternation(words, r"(?i)\b(?:{})\b")
        self._ids = _alternation(ids, r"(?i)(?<![\w-])(?:{})(?![\w-])")

    def scrub(self, text: str | None) -> str | None:
        if not text:
            return text
        if self._ids is not None:
            text = self._ids.sub("[ID]", text)
        for tag, pattern in PATTERNS:
            text = pattern.sub(f"[{tag}]", text)
        if self._names is not None:  # after the patterns: a name inside an email is gone already
            text = self._names.sub("[NAME]", text)
        return text


def _alternation(items: set[str], template: str) -> re.Pattern[str] | None:
    if not items:
        return None
    # longest first, so "Mary Ann" wins over "Mary"
    return re.compile(template.format("|".join(re.escape(i) for i in sorted(items, key=len, reverse=True))))


def names_in(contact: str | None) -> list[str]:
    """The name words of an emergency contact such as ``"Ana Silva (spouse) +1-555-0100"``."""
    if not contact:
        return []
    head = re.split(r"[(+\d]", contact, maxsplit=1)[0]
    return [w for w in re.findall(r"[A-Za-z][A-Za-z'-]+", head) if w[0].isupper()]


__all__ = ["PATTERNS", "Scrubber", "names_in"]
