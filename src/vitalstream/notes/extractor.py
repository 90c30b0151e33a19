"""Problems and medications in free text, with their assertion, by medspaCy on a blank spaCy
pipeline (no model, nothing downloaded).

The pipeline: spaCy's rule tokenizer and sentencizer (";" ends a clause too) → our target
matcher (a PhraseMatcher over :mod:`.vocab`, longest match wins, labels PROBLEM/MEDICATION) →
medspaCy's ConText with :mod:`.rules` (negation, uncertainty, hypothetical, history, family,
with termination). Each medication then gets its dose, unit, route and frequency from the
words after it (:mod:`.dosage`).

``Extractor().extract_many(texts)`` runs ``nlp.pipe`` over a whole micro-batch. Building the
extractor loads the vocabularies (a few seconds): build one per process and reuse it.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from .dosage import dosage_of
from .rules import TERMINATING_TYPES, assertion_of, context_rules
from .vocab import medication_terms, problem_terms

logger = logging.getLogger(__name__)

ASSERTIONS = ("present", "absent", "possible", "hypothetical", "historical", "family")
MAX_CHARS = 20_000  # what a medical entry may hold (events.notes.Text)


class Problem(msgspec.Struct, frozen=True):
    text: str
    start: int
    end: int
    assertion: str
    name: str  # normalised problem name (added to the shape)


class Medication(msgspec.Struct, frozen=True):
    text: str
    name: str  # the generic name where known (Tylenol -> acetaminophen)
    dose: float | None
    unit: str | None
    route: str | None
    frequency: str | None
    assertion: str
    start: int
    end: int


class Extraction(msgspec.Struct, frozen=True):
    problems: list[Problem]
    medications: list[Medication]


def _quiet_imports() -> Any:
    """Import spaCy and medspaCy without their import-time noise.

    PyRuSH logs every document at DEBUG through loguru unless told otherwise; pysbd (imported
    by medspaCy) has invalid escape sequences that warn when first compiled; medspaCy's
    component module imports quickumls. None of it is ours to fix, all of it is import time.
    """
    os.environ.setdefault("LOGURU_LEVEL", "WARNING")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        import medspacy  # noqa: F401  (registers the medspacy_context factory)
        import spacy
    return spacy


class Extractor:
    """One spaCy pipeline with the vocabularies loaded; thread-compatible, not thread-safe."""

    def __init__(self, *, wheel_vocabularies: bool = True) -> None:
        spacy = _quiet_imports()
        from spacy.language import Language
        from spacy.matcher import PhraseMatcher
        from spacy.tokens import Span
        from spacy.util import filter_spans

        nlp = spacy.blank("en")
        self.names: dict[str, dict[str, str]] = {"PROBLEM": {}, "MEDICATION": {}}
        matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        for label, terms in (("PROBLEM", problem_terms(wheel_vocabularies)),
                             ("MEDICATION", medication_terms(wheel_vocabularies))):
            names = self.names[label]
            phrases = []
            for phrase, name in terms:
                if phrase not in names:  # the curated list comes first and wins
                    names[phrase] = name
                    phrases.append(phrase)
            # spaCy may split an abbreviation differently by case ("t2dm" vs "T2DM"): add both
            phrases += [p.upper() for p in phrases if len(p) <= 6 and p.upper() != p]
            matcher.add(label, list(nlp.tokenizer.pipe(phrases)))
        component = f"vitalstream_targets_{id(self)}"

        @Language.component(component)
        def targets(doc: Any) -> Any:
            spans = [Span(doc, s, e, label=label) for label, s, e in matcher(doc)]
            doc.ents = filter_spans(spans)  # longest first; overlaps dropped
            return doc

        nlp.add_pipe("sentencizer", config={"punct_chars": [".", "!", "?", ";", "\n"]})
        nlp.add_pipe(component)
        context = nlp.add_pipe("medspacy_context", config={
            "rules": None, "terminating_types": TERMINATING_TYPES, "span_attrs": None})
        context.add(context_rules())
        nlp.max_length = MAX_CHARS * 2
        self.nlp = nlp

    def extract(self, text: str) -> Extraction:
        return self.extract_many([text])[0]

    def extract_many(self, texts: Sequence[str], batch_size: int = 256) -> list[Extraction]:
        """One :class:`Extraction` per text, in order (``nlp.pipe`` over the whole list)."""
        safe = [t[:MAX_CHARS] for t in texts]
        with warnings.catch_warnings():
            # a note with no ConText trigger at all is normal, not worth spaCy's warning
            warnings.filterwarnings("ignore", message=r"\[W036\]")
            return [self._read(doc) for doc in self.nlp.pipe(safe, batch_size=batch_size)]

    def _read(self, doc: Any) -> Extraction:
        problems: list[Problem] = []
        meds: list[Medication] = []
        ents = list(doc.ents)
        text = doc.text
        names = self.names
        for i, ent in enumerate(ents):
            categories = {m.category for m in ent._.modifiers}
            assertion = assertion_of(categories)
            lower = ent.text.lower()
            start, end = ent.start_char, ent.end_char
            if ent.label_ == "PROBLEM":
                problems.append(Problem(ent.text, start, end, assertion, names["PROBLEM"].get(lower, lower)))
                continue
            stop = ent.sent.end_char
            if i + 1 < len(ents):
                stop = min(stop, ents[i + 1].start_char)
            d = dosage_of(text[end:stop])
            meds.append(Medication(ent.text, names["MEDICATION"].get(lower, lower), d.dose, d.unit, d.route,
                                   d.frequency, assertion, start, end))
        return Extraction(problems, meds)


_shared: Extractor | None = None
_lock = threading.Lock()


def shared_extractor() -> Extractor:
    """The process's extractor, built on first use (a few seconds: vocabularies)."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = Extractor()
        return _shared


def extract_texts(texts: Iterable[str]) -> list[Extraction]:
    return shared_extractor().extract_many(list(texts))
