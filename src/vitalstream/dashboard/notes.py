"""A patient's clinical notes with the problems and medications found in them, from the
warehouse (``processed_entries``, ``note_problems``, ``note_medications``; docs/notes.md).

The mention rows, not the entries' JSON, are what the page shows: they are what reports and
queries see too. Newest note first, a page of notes at a time; the same SQL on DuckDB and
PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from .store import Reader

# the extractor's assertion (i2b2 2010 classes + historical) -> the word a reader sees;
# "present" is the plain case and gets no mark
STATUS = {"present": "active", "absent": "negated", "possible": "uncertain", "hypothetical": "hypothetical",
          "historical": "historical", "family": "family"}

_PROBLEM_COLS = "entry_id, span_start, span_end, text, name, assertion"
_MEDICATION_COLS = f"{_PROBLEM_COLS}, dose, unit, route, frequency"


def patient_notes(reader: Reader, patient_id: str, limit: int = 20, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """(notes newest first, how many the patient has). Each note: ``entry_id, time,
    processed_time, text, problems, medications``; each mention has ``status`` too."""
    if not reader.has_table("note_medications"):  # before migration 4: no notes yet
        return [], 0
    total = int(reader.rows("SELECT count(*) AS n FROM processed_entries WHERE patient_id = ?", [patient_id])[0]["n"])
    notes = reader.rows(
        "SELECT entry_id, entry_time AS time, processed_timestamp AS processed_time, medical_entry AS text "
        "FROM processed_entries WHERE patient_id = ? ORDER BY entry_time DESC, entry_id "
        f"LIMIT {int(limit)} OFFSET {int(offset)}", [patient_id])
    if not notes:
        return [], total
    by_id = {n["entry_id"]: {**n, "problems": [], "medications": []} for n in notes}
    marks = ", ".join("?" * len(by_id))
    for kind, cols in (("problems", _PROBLEM_COLS), ("medications", _MEDICATION_COLS)):
        table = f"note_{kind}"
        for m in reader.rows(f"SELECT {cols} FROM {table} WHERE patient_id = ? AND entry_id IN ({marks}) "
                             "ORDER BY entry_id, span_start", [patient_id, *by_id]):
            m["status"] = STATUS.get(m["assertion"], m["assertion"])
            if m.get("dose") is not None:
                m["dose"] = float(m["dose"])
            by_id[m.pop("entry_id")][kind].append(m)
    return list(by_id.values()), total


def segments(note: dict[str, Any]) -> list[dict[str, Any]]:
    """The note's text cut at its mentions, for marking them in the page: ``{text}`` or
    ``{text, kind, status, name}``; a mention overlapping an earlier one stays unmarked."""
    text: str = note["text"] or ""
    found = sorted([(m["span_start"], m["span_end"], kind, m) for kind in ("problem", "medication")
                    for m in note[f"{kind}s"]], key=lambda x: (x[0], -x[1]))
    out: list[dict[str, Any]] = []
    at = 0
    for start, end, kind, m in found:
        if start < at or not 0 <= start < end <= len(text):
            continue
        if start > at:
            out.append({"text": text[at:start]})
        out.append({"text": text[start:end], "kind": kind, "status": m["status"], "name": m["name"]})
        at = end
    if at < len(text):
        out.append({"text": text[at:]})
    return out
