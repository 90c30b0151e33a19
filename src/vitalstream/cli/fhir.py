"""``vitalstream fhir export | codesystem``: the warehouse as FHIR R4 (docs/fhir.md).

    vitalstream fhir export [--patient ID] [--since T] [--until T] [--out DIR] [--bundle FILE] [--bundle-type transaction]
    vitalstream fhir codesystem > news2-codesystem.json
"""

from __future__ import annotations

import getpass
import json
from enum import StrEnum
from pathlib import Path

import typer

from .common import open_configured_log, settings_from

fhir_app = typer.Typer(help="FHIR R4 output for electronic health records.", no_args_is_help=True)


class BundleType(StrEnum):
    collection = "collection"
    transaction = "transaction"


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "unknown"


@fhir_app.command("export")
def export_cmd(
    ctx: typer.Context,
    patient: str = typer.Option(None, "--patient", help="only this patient id"),
    since: str = typer.Option(None, help="events at or after (2h, 7d, 2024-04-01T08:00Z)"),
    until: str = typer.Option(None, help="events before this time"),
    out: Path = typer.Option(None, "--out", help="directory for Patient/Device/Observation.ndjson "
                             "(default ./fhir-export unless --bundle is given)"),
    bundle: Path = typer.Option(None, "--bundle", help="also (or only) write one Bundle to this file"),
    bundle_type: BundleType = typer.Option(BundleType.collection, "--bundle-type"),
    actor: str = typer.Option(None, "--actor", help="who exports, for the audit trail (default: the OS user)"),
) -> None:
    """Export vitals and NEWS2 as FHIR R4 Bulk Data NDJSON and/or a Bundle (recorded in the audit trail)."""
    from ..audit import record
    from ..fhir.export import Selection, export
    from ..fhir.subjects import subjects_from
    from ..sinks.warehouse import open_warehouse
    from .sinks import parse_time

    s = settings_from(ctx)
    subjects = subjects_from(s)  # fails early without a pseudonym key
    selection = Selection(patient=patient, since=parse_time(since), until=parse_time(until))
    if out is None and bundle is None:
        out = Path("fhir-export")
    who = actor or current_user()

    with open_configured_log(ctx) as log, open_warehouse(s.warehouse_url, read_only=True) as wh:
        def audit(result):  # type: ignore[no-untyped-def]
            record(log, actor=who, role="cli", action="export",
                   subject=f"patient:{patient}" if patient else "export:fhir",
                   detail={**result.counts(), **selection.describe(), "format": "fhir-r4",
                           "patient_reference": s.fhir.patient_reference})

        result = export(wh, subjects, selection, out_dir=out, bundle_file=bundle,
                        bundle_type=bundle_type.value, base_url=s.fhir.base_url, audit=audit)
    typer.echo(f"exported {result.patients} patients, {result.devices} devices, "
               f"{result.observations} observations: " + ", ".join(str(f) for f in result.files))


@fhir_app.command("codesystem")
def codesystem_cmd() -> None:
    """Print the CodeSystem resource of vitalstream's NEWS2 codes (load it into your FHIR server)."""
    from ..fhir.codes import news2_code_system

    typer.echo(json.dumps(news2_code_system(), indent=2))


def register(app: typer.Typer) -> None:
    app.add_typer(fhir_app, name="fhir")
