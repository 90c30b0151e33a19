"""``vitalstream extract``: de-identified (or pseudonymised) research extracts (docs/privacy.md).

    vitalstream extract --deidentify --out DIR [--key-file PATH] [--dates shift|year] [--since T] [--until T]
    vitalstream extract --pseudonymise --out DIR
    vitalstream extract evaluate [--items 600]
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from .common import fail, open_configured_log, settings_from

extract_app = typer.Typer(help="Research extracts: Safe Harbor de-identification or pseudonyms.",
                          invoke_without_command=True)


class Dates(StrEnum):
    shift = "shift"
    year = "year"


@extract_app.callback()
def extract_cmd(
    ctx: typer.Context,
    deidentify: bool = typer.Option(False, "--deidentify", help="random surrogate ids (Safe Harbor); mapping in --key-file"),
    pseudonymise: bool = typer.Option(False, "--pseudonymise", help="stable keyed-HMAC ids with a key id (internal joins)"),
    out: Path = typer.Option(None, "--out", help="directory for the Parquet files"),
    key_file: Path = typer.Option(None, "--key-file", help="surrogate mapping, kept apart from the extract "
                                  "(default <home>/extract-keys.json; reused so surrogates stay stable)"),
    dates: Dates = typer.Option(Dates.shift, "--dates", help="shift: per-patient random offset (intervals kept); year: year only"),
    since: str = typer.Option(None, help="events at or after (7d, 2024-04-01T00:00Z)"),
    until: str = typer.Option(None, help="events before this time"),
    actor: str = typer.Option(None, "--actor", help="who extracts, for the audit trail (default: the OS user)"),
) -> None:
    """Write vitals, aggregates and notes as Parquet with patient identifiers removed (recorded in the audit trail)."""
    if ctx.invoked_subcommand is not None:
        return
    if deidentify == pseudonymise:
        raise fail("choose one of --deidentify (research, Safe Harbor) or --pseudonymise (internal joins)")
    if out is None:
        raise fail("--out DIR is required")
    from ..audit import record
    from ..privacy.extract import ExtractOptions, extract
    from ..privacy.pseudonym import pseudonymiser_from
    from ..privacy.surrogates import PatientKey, PseudonymKey, SurrogateKey
    from ..sinks.warehouse import open_warehouse
    from .fhir import current_user
    from .sinks import parse_time

    s = settings_from(ctx)
    out = out.resolve()
    key: PatientKey
    if deidentify:
        key_file = (key_file or s.home_path / "extract-keys.json").resolve()
        if key_file.is_relative_to(out):
            raise fail(f"--key-file {key_file} is inside the extract {out}: keep the mapping apart from the data")
        key = SurrogateKey.load(key_file)
    else:
        key = PseudonymKey(pseudonymiser_from(s))
    options = ExtractOptions(dates=dates.value, since=parse_time(since), until=parse_time(until))
    who = actor or current_user()
    with open_configured_log(ctx) as log, open_warehouse(s.warehouse_url, read_only=True) as wh:
        def audit(result):  # type: ignore[no-untyped-def]
            if isinstance(key, SurrogateKey):  # the mapping is durable before anyone sees the extract
                key.save(key_file)
            record(log, actor=who, role="cli", action="export", subject="export:extract",
                   detail={"patients": len(result.patients), "mode": key.kind, "dates": options.dates,
                           "tables": len(result.tables), "rows": sum(result.tables.values()),
                           **{k: str(v) for k, v in (("since", options.since), ("until", options.until)) if v}})

        result = extract(wh, out, key, options, audit=audit)
    typer.echo(f"extracted {len(result.patients)} patients, {sum(result.tables.values())} rows in "
               f"{len(result.tables)} tables to {out}" + (f"; surrogate key file: {key_file}" if deidentify else ""))


@extract_app.command("evaluate")
def evaluate_cmd(
    items: int = typer.Option(600, help="synthetic notes and records (at least 500)"),
    seed: int = typer.Option(0, help="Faker seed"),
    residuals: int = typer.Option(30, help="show at most this many PHI values that survived"),
) -> None:
    """Measure the recall of PHI removal on a synthetic (Faker) set; print the residual PHI."""
    from ..privacy.evaluate import evaluate

    report = evaluate(items=items, seed=seed)
    typer.echo(report.table())
    for kind, value, text in report.residual[:residuals]:
        typer.echo(f"residual {kind}: {value!r} in {text!r}")
    if len(report.residual) > residuals:
        typer.echo(f"... {len(report.residual) - residuals} more")


def register(app: typer.Typer) -> None:
    app.add_typer(extract_app, name="extract")
