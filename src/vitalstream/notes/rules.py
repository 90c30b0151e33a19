"""ConText rules: which words make a mention absent, possible, hypothetical, historical or a
relative's, and where their scope ends.

Written for short clinical notes (after the default medspaCy rules, with their categories), as
literals where possible: literals go to spaCy's PhraseMatcher, which is many times faster than
token patterns. Termination matters as much as triggers: "History of diabetes, on metformin"
must leave metformin current, so ``CURRENT`` words ("on", "continue", "started") end a
HISTORICAL or FAMILY scope, ``PATIENT`` words end a FAMILY one, and "but", "however" end all.
"""

from __future__ import annotations

from typing import Any

NEGATED, POSSIBLE, HYPOTHETICAL = "NEGATED_EXISTENCE", "POSSIBLE_EXISTENCE", "HYPOTHETICAL"
HISTORICAL, FAMILY, CURRENT, PATIENT = "HISTORICAL", "FAMILY", "CURRENT", "PATIENT"

# category -> the assertion it gives a mention (most specific first when several apply)
ASSERTION_OF: dict[str, str] = {
    NEGATED: "absent", FAMILY: "family", HYPOTHETICAL: "hypothetical", POSSIBLE: "possible",
    HISTORICAL: "historical",
}
PRECEDENCE = (NEGATED, FAMILY, HYPOTHETICAL, POSSIBLE, HISTORICAL)
TERMINATING_TYPES = {HISTORICAL: [CURRENT], FAMILY: [CURRENT, PATIENT], NEGATED: [CURRENT, POSSIBLE],
                     POSSIBLE: [CURRENT]}  # "if it worsens, start X": X stays hypothetical

# (category, direction, literals); FORWARD = the words after, BACKWARD = before.
_LITERALS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (NEGATED, "FORWARD", (
        "no", "not", "without", "denies", "denied", "deny", "denying", "no evidence of", "no signs of",
        "no sign of", "negative for", "free of", "absence of", "no history of", "never had", "no further",
        "no new", "no complaints of", "not experiencing", "no longer", "nor", "rules out",
        "no significant", "resolution of", "with no", "not have", "does not have", "did not have",
        "was not", "unremarkable for", "fails to reveal", "declines", "no known")),
    (NEGATED, "BACKWARD", (
        "ruled out", "was ruled out", "is ruled out", "has been ruled out", "not present", "is not present",
        "absent", "is absent", "was negative", "negative", "not seen", "is excluded", "was excluded",
        "not detected", "none")),
    (POSSIBLE, "FORWARD", (
        "possibly", "probable", "probably", "suspect", "suspicion of",
        "concern for", "concerning for", "cannot exclude", "cannot rule out", "can not rule out",
        "may have", "might have", "may be", "query", "questionable", "rule out", "r/o", "evaluate for",
        "worrisome for", "suspicious for", "suggestive of", "differential includes", "presumed",
        "to exclude", "test for", "check for", "screen for", "work up for", "workup for",
        "could be")),
    (POSSIBLE, "BIDIRECTIONAL", ("unlikely",)),  # after i2b2: "unlikely" is uncertain, not absent
    (POSSIBLE, "BACKWARD", ("is suspected", "is possible", "is likely",
                            "not ruled out", "not excluded", "cannot be excluded", "to be ruled out")),
    (HYPOTHETICAL, "FORWARD", (
        "if", "should", "in case of", "in the event of", "return if", "watch for", "monitor for",
        "warned about", "advised about", "risk of", "at risk for", "to prevent", "prevention of",
        "would", "whenever", "unless")),
    (HYPOTHETICAL, "BACKWARD", ("prophylaxis",)),
    (HISTORICAL, "FORWARD", (
        "history of", "h/o", "hx of", "past history of", "past medical history", "pmh", "previous",
        "previously", "prior", "past", "childhood", "status post", "s/p", "was on", "used to take",
        "formerly on", "previously on", "remote", "treated for", "had", "finished", "completed")),
    (HISTORICAL, "BACKWARD", ("resolved", "has resolved", "now resolved", "in the past", "years ago",
                              "as a child", "in childhood", "last year", "last week", "last month",
                              "treated in", "as a teenager", "no recurrence")),
    (FAMILY, "FORWARD", (
        "family history of", "family history", "fh of", "fhx", "family hx of", "mother", "father",
        "sister", "brother", "grandmother", "grandfather", "aunt", "uncle", "son", "daughter",
        "maternal", "paternal", "sibling", "siblings", "parents", "mother's", "father's")),
    (FAMILY, "BACKWARD", ("in his father", "in her father", "in his mother", "in her mother", "in his brother",
                          "in her sister", "in the family", "runs in the family")),
    (NEGATED, "FORWARD", ("stop", "avoid", "discontinue", "discontinued", "hold", "held", "allergic to",
                          "intolerant of", "allergy to", "cease", "ceased", "off")),
    (CURRENT, "PSEUDO", (
        "on", "currently", "now", "continue", "continues", "continued", "started", "start", "starting",
        "prescribed", "taking", "takes", "given", "controlled with", "managed with", "today",
        "presents with", "complains of", "reports", "is on")),
    (PATIENT, "PSEUDO", ("patient", "pt", "she", "he", "the patient")),
    ("TERMINATE", "TERMINATE", ("but", "however", "although", "though", "except", "apart from",
                                "aside from", "which", "who", "secondary to", "due to", "because",
                                "since", "and now", "presenting with", "while")),
    ("PSEUDO", "PSEUDO", ("no change", "not only", "no increase", "not certain if", "not necessarily",
                          "gram negative", "without difficulty", "no further workup", "if needed",
                          "as needed", "not been", "history and physical", "family doctor")),
)
# Token patterns where a literal will not do (and the matcher needs one pattern at least).
_PATTERNS: tuple[tuple[str, str, str, list[dict[str, Any]]], ...] = (
    (NEGATED, "FORWARD", "no * of", [{"LOWER": "no"}, {"IS_ALPHA": True, "OP": "?"}, {"LOWER": "of"}]),
    (HISTORICAL, "BACKWARD", "in 2015", [{"LOWER": "in"}, {"SHAPE": "dddd"}]),
)
# Words that reach only a few tokens: uncertainty either side ("likely migraine", "AF suspected"),
# "stopped" either side, "free" just before ("seizure free").
_NEAR: tuple[tuple[str, str, str, int], ...] = (
    ("possible", POSSIBLE, "BIDIRECTIONAL", 4), ("likely", POSSIBLE, "BIDIRECTIONAL", 4),
    ("suspected", POSSIBLE, "BIDIRECTIONAL", 4),
    ("stopped", NEGATED, "BIDIRECTIONAL", 3), ("free", NEGATED, "BACKWARD", 1),  # "seizure free"
)


def context_rules() -> list[Any]:
    """The ConTextRule objects (medspaCy imported here: callers import this lazily)."""
    from medspacy.context import ConTextRule

    rules = [ConTextRule(lit, cat, direction=direction)
             for cat, direction, lits in _LITERALS for lit in lits]
    rules += [ConTextRule(lit, cat, pattern=pattern, direction=direction)
              for cat, direction, lit, pattern in _PATTERNS]
    rules += [ConTextRule(lit, cat, direction=direction, max_scope=scope) for lit, cat, direction, scope in _NEAR]
    return rules


def assertion_of(categories: set[str]) -> str:
    for c in PRECEDENCE:
        if c in categories:
            return ASSERTION_OF[c]
    return "present"
