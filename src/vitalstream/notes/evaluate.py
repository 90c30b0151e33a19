"""Scoring the extractor against labelled notes (``vitalstream notes evaluate FILE``).

A labelled set is JSON lines, one note each::

    {"id": "c001", "text": "Denies chest pain. Tylenol 1 g PO q6h prn.",
     "problems": [{"start": 7, "end": 17, "assertion": "absent"}],
     "medications": [{"start": 19, "end": 26, "assertion": "present", "name": "acetaminophen",
                      "dose": 1, "unit": "g", "route": "oral", "frequency": "every 6 hours"}]}

Only ``start``/``end`` are required; ``assertion`` and the medication fields are scored where the
gold gives them (a set without assertions, such as the biomedical sentences, scores spans only).

Reported, per label: precision, recall and F1 with exact spans and with overlapping spans (each
gold mention matched at most once); assertion accuracy over overlap-matched mentions; for
medications the name F1 (overlap and the same generic name) and dose, unit, route and frequency
accuracy over matched mentions whose gold states them. Throughput is notes per CPU-second of
the extraction (one core), measured over the set.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from .extractor import Extraction, Extractor

LABELS = ("problem", "medication")
_FIELDS = ("dose", "unit", "route", "frequency")


class GoldNote(msgspec.Struct):
    text: str
    id: str = ""
    problems: list[dict[str, Any]] = msgspec.field(default_factory=list)
    medications: list[dict[str, Any]] = msgspec.field(default_factory=list)


def load(path: Path) -> list[GoldNote]:
    """The labelled notes of a JSON-lines file (a line that is not a note raises ValueError)."""
    notes = []
    dec = msgspec.json.Decoder(GoldNote)
    for n, line in enumerate(path.read_bytes().splitlines(), 1):
        if line.strip():
            try:
                notes.append(dec.decode(line))
            except msgspec.DecodeError as exc:
                raise ValueError(f"{path.name} line {n}: not a labelled note ({exc})") from None
    return notes


@dataclass
class Counts:
    gold: int = 0
    found: int = 0
    exact: int = 0
    overlap: int = 0
    assertion_ok: int = 0
    assertion_n: int = 0
    name_ok: int = 0
    fields_ok: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_FIELDS, 0))
    fields_n: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_FIELDS, 0))


def _prf(tp: int, found: int, gold: int) -> tuple[float, float, float]:
    p = tp / found if found else 0.0
    r = tp / gold if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _match(gold: list[dict[str, Any]], found: Sequence[Any]) -> list[tuple[dict[str, Any], Any]]:
    """Overlapping pairs, each gold and each found mention used once (exact matches first)."""
    pairs: list[tuple[dict[str, Any], Any]] = []
    used: set[int] = set()
    for want_exact in (True, False):
        for g in gold:
            if any(g is pg for pg, _ in pairs):
                continue
            for i, f in enumerate(found):
                if i in used:
                    continue
                hit = (f.start == g["start"] and f.end == g["end"]) if want_exact else \
                    (f.start < g["end"] and g["start"] < f.end)
                if hit:
                    pairs.append((g, f))
                    used.add(i)
                    break
    return pairs


def _score(c: Counts, gold: list[dict[str, Any]], found: Sequence[Any], medication: bool) -> None:
    c.gold += len(gold)
    c.found += len(found)
    for g, f in _match(gold, found):
        c.overlap += 1
        c.exact += f.start == g["start"] and f.end == g["end"]
        if g.get("assertion"):
            c.assertion_n += 1
            c.assertion_ok += f.assertion == g["assertion"]
        if medication:
            c.name_ok += not g.get("name") or f.name == g["name"]
            for name in _FIELDS:
                if name in g:  # a gold null means "the note does not say": finding none is right
                    c.fields_n[name] += 1
                    c.fields_ok[name] += getattr(f, name) == g[name]


@dataclass
class Evaluation:
    notes: int
    counts: dict[str, Counts]
    cpu_seconds: float

    @property
    def notes_per_second(self) -> float:
        return self.notes / self.cpu_seconds if self.cpu_seconds else 0.0

    def table(self) -> list[dict[str, Any]]:
        """One row per label: exact and overlap P/R/F1, assertion accuracy, medication details."""
        rows = []
        for label, c in self.counts.items():
            ep, er, ef = _prf(c.exact, c.found, c.gold)
            op, orr, of = _prf(c.overlap, c.found, c.gold)
            row: dict[str, Any] = {
                "label": label, "gold": c.gold, "found": c.found,
                "exact_p": ep, "exact_r": er, "exact_f1": ef, "overlap_p": op, "overlap_r": orr, "overlap_f1": of,
                "assertion_acc": c.assertion_ok / c.assertion_n if c.assertion_n else None,
            }
            if label == "medication":
                row["name_f1"] = _prf(c.name_ok, c.found, c.gold)[2]
                for name in _FIELDS:
                    row[f"{name}_acc"] = c.fields_ok[name] / c.fields_n[name] if c.fields_n[name] else None
            rows.append(row)
        return rows


def evaluate(notes: Iterable[GoldNote], extractor: Extractor) -> Evaluation:
    notes = list(notes)
    started = time.process_time()
    found: list[Extraction] = extractor.extract_many([n.text for n in notes])
    cpu = time.process_time() - started
    counts = {label: Counts() for label in LABELS}
    for note, got in zip(notes, found, strict=True):
        _score(counts["problem"], note.problems, got.problems, medication=False)
        _score(counts["medication"], note.medications, got.medications, medication=True)
    return Evaluation(len(notes), counts, cpu)
