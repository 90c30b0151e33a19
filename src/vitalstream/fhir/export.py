"""``vitalstream fhir export``: the warehouse as FHIR R4, Bulk Data NDJSON or one Bundle.

Reads every processed vital table, the NEWS2 scores and the patient metadata (read-only; DuckDB
or PostgreSQL), optionally for one patient and an event-time window ``[since, until)``, and
writes ``Patient.ndjson``, ``Device.ndjson``, ``Observation.ndjson`` (one resource per line, the
FHIR Bulk Data format) and/or one ``collection`` / ``transaction`` Bundle.

Files appear only once the export is in the audit trail (:mod:`vitalstream.audit`): they are
written under temporary names, the entry is recorded, then they are renamed. A failed audit
leaves no export behind.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..sinks.warehouse.base import Warehouse
from ..sinks.warehouse.schema import VITAL_TABLES
from . import resources as R

logger = logging.getLogger(__name__)

RESOURCE_TYPES = ("Patient", "Device", "Observation")


@dataclass(frozen=True)
class Selection:
    """Which data: one patient (or all), events at or after ``since`` and before ``until``."""

    patient: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self, time_column: str = "event_time") -> tuple[str, list[Any]]:
        clauses: list[str] = ["TRUE"]
        params: list[Any] = []
        if self.patient is not None:
            clauses.append("patient_id = ?")
            params.append(self.patient)
        if self.since is not None:
            clauses.append(f"{time_column} >= ?")
            params.append(self.since)
        if self.until is not None:
            clauses.append(f"{time_column} < ?")
            params.append(self.until)
        return " AND ".join(clauses), params

    def describe(self) -> dict[str, str]:
        return {k: str(v) for k, v in (("since", self.since), ("until", self.until)) if v is not None}


@dataclass
class ExportResult:
    patients: int = 0
    devices: int = 0
    observations: int = 0
    files: list[Path] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"patients": self.patients, "devices": self.devices, "observations": self.observations}


def _tables(warehouse: Warehouse) -> set[str]:
    rows = warehouse.rows("SELECT table_name FROM information_schema.tables")
    return {str(r["table_name"]) for r in rows}


def observations(warehouse: Warehouse, subjects: R.Subjects, selection: Selection,
                 seen: dict[str, Mapping[str, Any]], devices: set[str]) -> Iterator[R.Resource]:
    """Every Observation of the selection, table by table. Fills ``seen`` (patient id -> a row
    of theirs, for gender) and ``devices`` (device keys referenced) as it goes."""
    tables = _tables(warehouse)
    where, params = selection.where()
    steps: dict[tuple[str, date], list[Any]] = {}  # (patient, UTC day) -> [total, device key]
    for table in VITAL_TABLES:
        if table not in tables:
            continue
        for row in warehouse.rows(f'SELECT * FROM "{table}" WHERE {where} ORDER BY event_time, event_id', params):
            pid = str(row["patient_id"])
            seen.setdefault(pid, row)
            found = R.vital_observations(row, subjects)
            if found:
                devices.add(R.device_key(row))
            yield from found
            if row.get("steps") is not None:
                key = (pid, R.day_start(row["event_time"]).date())
                total = steps.setdefault(key, [0, R.device_key(row)])
                total[0] += int(row["steps"])
    for (pid, day), (total, dev) in sorted(steps.items()):
        devices.add(dev)
        yield R.steps_observation(pid, day, total, subjects, device=dev)
    if "news2_scores" in tables:
        for score in warehouse.rows(f"SELECT * FROM news2_scores WHERE {where} ORDER BY event_time, score_id",
                                    params):
            seen.setdefault(str(score["patient_id"]), {})
            yield R.news2_observation(_decoded(score), subjects)


def _decoded(score: Mapping[str, Any]) -> dict[str, Any]:
    # JSON columns come back as text from DuckDB and as objects from PostgreSQL
    out = dict(score)
    for k in ("subscores", "missing"):
        if isinstance(out.get(k), str):
            out[k] = json.loads(out[k])
    return out


def patients(warehouse: Warehouse, subjects: R.Subjects, seen: Mapping[str, Mapping[str, Any]]) -> list[R.Resource]:
    meta: dict[str, Mapping[str, Any]] = {}
    if seen and "patient_metadata" in _tables(warehouse):
        meta = {str(r["patient_id"]): r for r in warehouse.rows("SELECT patient_id, gender FROM patient_metadata")}
    return [R.patient(pid, subjects, meta.get(pid) or seen[pid]) for pid in sorted(seen)]


class _Files:
    """Output files written under temporary names, renamed by :meth:`commit`."""

    def __init__(self) -> None:
        self.pending: list[tuple[Path, Path]] = []

    def open(self, path: Path):  # type: ignore[no-untyped-def]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        self.pending.append((tmp, path))
        return tmp.open("w", encoding="utf-8")

    def commit(self) -> list[Path]:
        for tmp, final in self.pending:
            os.replace(tmp, final)
        return [final for _, final in self.pending]

    def discard(self) -> None:
        for tmp, _ in self.pending:
            tmp.unlink(missing_ok=True)


def _line(resource: Mapping[str, Any]) -> str:
    return json.dumps(resource, separators=(",", ":"), ensure_ascii=False) + "\n"


def export(warehouse: Warehouse, subjects: R.Subjects, selection: Selection, *, out_dir: Path | None = None,
           bundle_file: Path | None = None, bundle_type: str = "collection", base_url: str = "",
           audit: Any = None) -> ExportResult:
    """Write the selection as NDJSON into ``out_dir`` and/or one Bundle to ``bundle_file``.

    ``audit(result)`` is called once everything is written and before the files appear;
    if it raises, nothing is left behind."""
    if out_dir is None and bundle_file is None:
        raise ValueError("give out_dir, bundle_file or both")
    result = ExportResult()
    files = _Files()
    try:
        seen: dict[str, Mapping[str, Any]] = {}
        devices: set[str] = set()
        obs_out = files.open(out_dir / "Observation.ndjson") if out_dir else None
        kept: list[R.Resource] = []
        with obs_out or nullcontext():
            for obs in observations(warehouse, subjects, selection, seen, devices):
                result.observations += 1
                if obs_out:
                    obs_out.write(_line(obs))
                if bundle_file:
                    kept.append(obs)
        pats = patients(warehouse, subjects, seen)
        devs = [R.device(k, subjects) for k in sorted(devices)]
        result.patients, result.devices = len(pats), len(devs)
        if out_dir:
            for name, items in (("Patient", pats), ("Device", devs)):
                with files.open(out_dir / f"{name}.ndjson") as f:
                    f.writelines(_line(r) for r in items)
        if bundle_file:
            with files.open(bundle_file) as f:
                json.dump(R.bundle([*pats, *devs, *kept], bundle_type, base_url), f, ensure_ascii=False)
        if audit is not None:
            audit(result)
        result.files = files.commit()
    except BaseException:
        files.discard()
        raise
    logger.info("fhir export: %d patients, %d devices, %d observations", result.patients, result.devices,
                result.observations)
    return result


def write_ndjson(path: Path, items: Iterable[Mapping[str, Any]]) -> None:
    """One resource per line (used for the NEWS2 CodeSystem the validator loads)."""
    with path.open("w", encoding="utf-8") as f:
        f.writelines(_line(r) for r in items)


__all__ = ["RESOURCE_TYPES", "ExportResult", "Selection", "export", "observations", "write_ndjson"]
