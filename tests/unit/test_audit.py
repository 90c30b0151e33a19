"""The audit trail: durable, append-only entries on the log, filtered on read, shown by the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from vitalstream import topics as T
from vitalstream.audit import entries, record
from vitalstream.cli import app
from vitalstream.errors import ConfigError
from vitalstream.log import open_log


def test_entries_are_durable_ordered_and_filtered(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/log.db"
    t0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    with open_log(url) as log:
        record(log, actor="alice", role="clinician", action="read", subject="patient:P1", at=t0)
        record(log, actor="bob", role="analyst", action="export", subject="export:fhir",
               detail={"patients": 12}, at=t0 + timedelta(minutes=5))
        record(log, actor="alice", role="clinician", action="read", subject="patient:P2",
               at=t0 + timedelta(minutes=10))
    with open_log(url) as log:  # a new handle: the entries were flushed, not buffered
        assert [e.subject for e in entries(log)] == ["patient:P1", "export:fhir", "patient:P2"]
        assert [e.subject for e in entries(log, actor="alice")] == ["patient:P1", "patient:P2"]
        assert [e.actor for e in entries(log, subject="export:fhir")] == ["bob"]
        assert [e.detail for e in entries(log, action="export")] == [{"patients": "12"}]
        assert [e.subject for e in entries(log, since=t0 + timedelta(minutes=6))] == ["patient:P2"]
        spec = log.describe_topic(T.AUDIT).spec
        assert spec.retention_ms is None and not spec.compacted  # never expires, never compacted


def test_unknown_action_is_refused(tmp_path) -> None:
    with open_log(f"sqlite:///{tmp_path}/log.db") as log, pytest.raises(ConfigError):
        record(log, actor="alice", action="delete", subject="patient:P1")


def test_cli_lists_the_trail(tmp_path) -> None:
    with open_log(f"sqlite:///{tmp_path}/log.db") as log:
        record(log, actor="alice", role="clinician", action="read", subject="patient:P1")
        record(log, actor="carol", role="admin", action="admin", subject="users")
    result = CliRunner().invoke(app, ["--home", str(tmp_path), "audit", "list", "--json", "--actor", "alice"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["actor"], r["action"], r["subject"]) for r in rows] == [("alice", "read", "patient:P1")]


def test_queries_are_audited_without_their_sql(tmp_path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--home", str(tmp_path), "query", "select 'P001' as patient_id", "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["--home", str(tmp_path), "audit", "list", "--json"])
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["role"], r["action"], r["subject"], r["detail"]) for r in rows] == [
        ("cli", "read", "query", {"rows": "1"})]
    assert "P001" not in listed.stdout
