"""``vitalstream audit list``: the append-only trail of who read or exported patient data."""

from __future__ import annotations

import msgspec
import typer

from .common import open_configured_log, print_table
from .tables import Column

audit_app = typer.Typer(help="The audit trail of reads and exports of patient data.", no_args_is_help=True)

_NARROW = (Column("at", "time"), Column("actor"), Column("action"), Column("subject"), Column("detail"))
_WIDE = ("at", "actor", "role", "action", "subject", "detail", "entry_id")


@audit_app.command("list")
def audit_list(
    ctx: typer.Context,
    actor: str = typer.Option(None, help="only this user or service"),
    subject: str = typer.Option(None, help="only this subject, e.g. patient:P001 or report:news2"),
    action: str = typer.Option(None, help="read, export, acknowledge, login, login-failed, admin"),
    since: str = typer.Option(None, help="only entries at or after this time (2h, 2026-11-30T08:00Z)"),
    limit: int = typer.Option(100, help="the newest N"),
    json_out: bool = typer.Option(False, "--json", help="JSON lines"),
    wide: bool = typer.Option(False, "--wide", help="also the role and the entry id; nothing cut"),
) -> None:
    """Audit entries, oldest first: the newest --limit of them."""
    from ..audit import entries
    from .sinks import parse_time

    with open_configured_log(ctx) as log:
        found = list(entries(log, actor=actor, subject=subject, action=action,
                             since=parse_time(since)))[-limit:]
    if json_out:
        for e in found:
            typer.echo(msgspec.json.encode(e).decode())
        return
    rows = [{"at": e.at, "actor": e.actor, "role": e.role, "action": e.action, "subject": e.subject,
             "detail": " ".join(f"{k}={v}" for k, v in sorted(e.detail.items())), "entry_id": e.entry_id}
            for e in found]
    print_table(rows, _WIDE if wide else _NARROW, title="audit entries", wide=wide, empty="none")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
