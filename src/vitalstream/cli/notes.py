"""Clinical notes commands.

    vitalstream notes evaluate [FILE] [--format table|json]
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .common import fail, print_table

notes_app = typer.Typer(help="Clinical notes: problems and medications with their assertion.",
                        no_args_is_help=True)
DEFAULT_SET = Path("tests/fixtures/notes/clinical.jsonl")  # the clinical set of a source checkout


@notes_app.command("evaluate")
def evaluate(
    file: Path = typer.Argument(DEFAULT_SET, help="labelled notes, JSON lines (see docs/notes.md)"),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Score the extractor on a labelled set: P/R/F1 per label (exact and overlapping spans),
    assertion accuracy, medication name/dose/frequency accuracy, notes per CPU-second."""
    from ..notes.evaluate import evaluate as run
    from ..notes.evaluate import load
    from ..notes.extractor import shared_extractor

    if not file.is_file():
        raise fail(f"no labelled set at {file}: pass FILE (JSON lines, see docs/notes.md)")
    try:
        notes = load(file)
    except ValueError as exc:
        raise fail(str(exc)) from None
    result = run(notes, shared_extractor())
    rows = result.table()
    if fmt == "json":
        typer.echo(json.dumps({"file": file.name, "notes": result.notes,
                               "notes_per_cpu_second": round(result.notes_per_second), "labels": rows}))
        return
    def cell(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else "-" if v is None else str(v)

    # one row per measure, one column per label: narrow enough for a terminal
    measures = [k for k in rows[-1] if k != "label"]
    shown = [{"measure": m, **{r["label"]: cell(r.get(m)) for r in rows}} for m in measures]
    print_table(shown, title=f"{file.name}: {result.notes} notes, "
                             f"{result.notes_per_second:,.0f} notes per CPU-second")


def register(app: typer.Typer) -> None:
    app.add_typer(notes_app, name="notes")
