"""The published figures hold: the clinical set meets the issue's targets, the command prints them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from vitalstream.cli import app
from vitalstream.notes.evaluate import evaluate, load

FIXTURES = Path(__file__).parents[2] / "fixtures" / "notes"


def test_clinical_set_meets_the_targets(extractor) -> None:
    notes = load(FIXTURES / "clinical.jsonl")
    assert len(notes) >= 150
    problem, medication = evaluate(notes, extractor).table()
    assert problem["overlap_f1"] >= 0.85
    assert problem["assertion_acc"] >= 0.90 and medication["assertion_acc"] >= 0.90
    assert medication["name_f1"] >= 0.90
    assert medication["dose_acc"] >= 0.85 and medication["frequency_acc"] >= 0.85


def test_every_assertion_class_is_in_the_clinical_set() -> None:
    notes = load(FIXTURES / "clinical.jsonl")
    seen = {m["assertion"] for n in notes for m in [*n.problems, *n.medications]}
    assert seen == {"present", "absent", "possible", "hypothetical", "historical", "family"}


def test_evaluate_command(tmp_path, extractor) -> None:
    f = tmp_path / "two.jsonl"
    f.write_text(json.dumps({"text": "Denies chest pain.", "problems": [{"start": 7, "end": 17, "assertion": "absent"}]})
                 + "\n" + json.dumps({"text": "Tylenol 1 g daily.", "medications": [
                     {"start": 0, "end": 7, "name": "acetaminophen", "dose": 1, "unit": "g", "frequency": "once daily"}]})
                 + "\n")
    out = CliRunner().invoke(app, ["notes", "evaluate", str(f), "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = {r["label"]: r for r in json.loads(out.stdout)["labels"]}
    assert rows["problem"]["exact_f1"] == 1.0 and rows["problem"]["assertion_acc"] == 1.0
    assert rows["medication"]["name_f1"] == 1.0 and rows["medication"]["dose_acc"] == 1.0
    bad = CliRunner().invoke(app, ["notes", "evaluate", str(tmp_path / "missing.jsonl")])
    assert bad.exit_code == 2 and "no labelled set" in bad.output
