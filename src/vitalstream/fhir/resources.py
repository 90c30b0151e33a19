"""FHIR R4 resources built from warehouse rows / processed records: Patient, Device, Observation.

Every id is deterministic (UUIDv5 under :data:`NAMESPACE`): an Observation's id comes from the
event id and the measure, a Patient's and a Device's from the identifier they are exported
under. Re-exporting the same data gives the same ids, so a receiving server that PUTs by id
upserts instead of duplicating.

A :class:`Subjects` decides how a patient or device is named (``fhir.patient_reference``):
``pseudonym`` puts a keyed HMAC (:mod:`vitalstream.privacy.pseudonym`) in ``identifier`` and
derives the resource id from it, so neither the id nor the identifier reveals the patient id;
``identifier`` exports the patient id itself under ``fhir.identifier_system``.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..privacy.pseudonym import Pseudonymiser
from . import codes as C

NAMESPACE = uuid.UUID("6d1f6c52-4f0e-5a53-9b57-76697461bd01")  # vitalstream FHIR ids
DEVICE_SYSTEM = "urn:vitalstream:device-id"
Resource = dict[str, Any]


def resource_id(*parts: str) -> str:
    """UUIDv5 over ``parts`` (joined with a unit separator)."""
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


@dataclass(frozen=True)
class Subjects:
    """How patients and devices are named: by pseudonym (``pseudonymiser`` set) or identifier."""

    pseudonymiser: Pseudonymiser | None = None
    identifier_system: str = "urn:vitalstream:patient-id"

    def identifier(self, patient_id: str, kind: str = "patient") -> dict[str, str]:
        if self.pseudonymiser is not None:
            return {"system": self.pseudonymiser.system + (":device" if kind == "device" else ""),
                    "value": self.pseudonymiser.pseudonym(patient_id, kind=kind)}
        system = DEVICE_SYSTEM if kind == "device" else self.identifier_system
        return {"system": system, "value": patient_id}

    def patient_ref(self, patient_id: str) -> str:
        ident = self.identifier(patient_id)
        return "Patient/" + resource_id("Patient", ident["system"], ident["value"])

    def device_ref(self, device_key: str) -> str:
        ident = self.identifier(device_key, "device")
        return "Device/" + resource_id("Device", ident["system"], ident["value"])


def fhir_time(t: datetime | str) -> str:
    """An aware time as FHIR ``dateTime`` in UTC (milliseconds, ``Z``)."""
    if isinstance(t, str):
        t = datetime.fromisoformat(t.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise ValueError("FHIR times must be timezone-aware")
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _narrative(text: str) -> dict[str, str]:
    # dom-6: a resource should carry a human-readable narrative
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{html.escape(text)}</div>'}


def _concept(codings: Iterable[C.Coding], text: str | None = None) -> dict[str, Any]:
    codings = list(codings)
    return {"coding": [c.json() for c in codings], "text": text or codings[0].display}


def _category(name: str) -> list[dict[str, Any]]:
    display = C.CATEGORY_DISPLAY[name]
    return [{"coding": [{"system": C.CATEGORY_SYSTEM, "code": name, "display": display}], "text": display}]


def device_key(row: Mapping[str, Any]) -> str:
    """The device a reading came from: its device id, else the source system it came through."""
    return str(row.get("device_id") or f"source:{row.get('source') or 'unknown'}")


_GENDERS = {"m": "male", "male": "male", "f": "female", "female": "female", "unknown": "unknown"}


def patient(patient_id: str, subjects: Subjects, metadata: Mapping[str, Any] | None = None) -> Resource:
    ident = subjects.identifier(patient_id)
    res: Resource = {"resourceType": "Patient", "id": subjects.patient_ref(patient_id).split("/", 1)[1],
                     "text": _narrative("Patient monitored by vitalstream"), "identifier": [ident]}
    gender = str((metadata or {}).get("gender") or "").lower()
    if gender:  # FHIR's administrative gender: anything it does not name is "other"
        res["gender"] = _GENDERS.get(gender, "other")
    return res


def device(key: str, subjects: Subjects) -> Resource:
    kind = key.split(":", 1)[1] if key.startswith("source:") else "wearable device"
    return {"resourceType": "Device", "id": subjects.device_ref(key).split("/", 1)[1],
            "text": _narrative(f"vitalstream {kind}"), "identifier": [subjects.identifier(key, "device")],
            "status": "active", "deviceName": [{"name": f"vitalstream {kind}", "type": "user-friendly-name"}]}


def _observation(oid: str, measure: C.Measure | None, code: dict[str, Any], category: str,
                 row: Mapping[str, Any], subjects: Subjects, summary: str) -> Resource:
    res: Resource = {"resourceType": "Observation", "id": oid}
    if measure is not None and measure.profile:
        res["meta"] = {"profile": [measure.profile]}
    res |= {"text": _narrative(summary), "status": "final", "category": _category(category), "code": code,
            "subject": {"reference": subjects.patient_ref(str(row["patient_id"]))},
            "effectiveDateTime": fhir_time(row["event_time"])}
    if row.get("device_id") or row.get("source"):
        res["device"] = {"reference": subjects.device_ref(device_key(row))}
    return res


def vital_observations(row: Mapping[str, Any], subjects: Subjects) -> list[Resource]:
    """The vital-sign Observations of one processed reading (one per measured value; systolic
    and diastolic together as one blood-pressure panel). Falls and unmeasured fields give none."""
    event_id = str(row["event_id"])
    out: list[Resource] = []
    for fld, name in C.FIELD_MEASURES.items():
        value = row.get(fld)
        if value is None:
            continue
        m = C.MEASURES[name]
        q = C.quantity(name, value)
        obs = _observation(resource_id("Observation", event_id, name), m, _concept(m.codings, m.text),
                           m.category, row, subjects, f"{m.text}: {q['value']} {q['unit']}")
        obs["valueQuantity"] = q
        out.append(obs)
    if row.get("systolic") is not None and row.get("diastolic") is not None:
        m = C.MEASURES["blood_pressure"]
        obs = _observation(resource_id("Observation", event_id, "blood_pressure"), m,
                           _concept(m.codings, "Blood pressure"), m.category, row, subjects,
                           f"Blood pressure: {row['systolic']}/{row['diastolic']} mmHg")
        obs["component"] = [
            {"code": _concept(C.MEASURES[part].codings), "valueQuantity": C.quantity(part, row[part])}
            for part in ("systolic", "diastolic")]
        out.append(obs)
    return out


def day_start(t: datetime) -> datetime:
    t = t.astimezone(UTC)
    return datetime(t.year, t.month, t.day, tzinfo=UTC)


def steps_observation(patient_id: str, day: date, steps: int, subjects: Subjects,
                      device: str | None = None) -> Resource:
    """One patient's steps on one UTC day (LOINC 41950-7 counts steps per 24 hours). The id
    depends on patient and day only: a later export with more of the day's events updates it."""
    m = C.MEASURES["steps"]
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    row = {"patient_id": patient_id, "event_time": start, "device_id": device}
    obs = _observation(resource_id("Observation", "steps", subjects.patient_ref(patient_id), day.isoformat()),
                       m, _concept(m.codings), m.category, row, subjects, f"{steps} steps on {day.isoformat()}")
    del obs["effectiveDateTime"]
    obs["effectivePeriod"] = {"start": fhir_time(start), "end": fhir_time(start + timedelta(days=1))}
    if device is None:
        obs.pop("device", None)
    obs["valueQuantity"] = C.quantity("steps", int(steps))
    return obs


def news2_observation(score: Mapping[str, Any], subjects: Subjects) -> Resource:
    """A NEWS2 score: the total as ``valueInteger``; each parameter's subscore as a component,
    an unmeasured parameter as a component with ``dataAbsentReason`` (the score is partial,
    not a 0); the SpO2 scale and the clinical risk band as two more components."""
    subscores: Mapping[str, int] = score.get("subscores") or {}
    missing = set(score.get("missing") or ())
    components: list[dict[str, Any]] = []
    for param, coding in C.NEWS2_SUBSCORES.items():
        comp: dict[str, Any] = {"code": _concept([coding])}
        if param in subscores:
            comp["valueInteger"] = int(subscores[param])
        elif param in missing or param not in subscores:
            comp["dataAbsentReason"] = _concept([C.NOT_MEASURED])
        components.append(comp)
    components.append({"code": _concept([C.NEWS2_SCALE]), "valueInteger": int(score.get("scale") or 1)})
    components.append({"code": _concept([C.NEWS2_BAND]), "valueString": str(score["band"])})
    partial = " (partial)" if score.get("partial") else ""
    obs = _observation(resource_id("Observation", "news2", str(score["score_id"])), None,
                       _concept([C.NEWS2_TOTAL]), "survey", {**score, "device_id": None, "source": None},
                       subjects, f"NEWS2 {score['total']} {score['band']}{partial}")
    obs["valueInteger"] = int(score["total"])
    obs["component"] = components
    return obs


def bundle(resources: Iterable[Resource], kind: str, base_url: str) -> Resource:
    """A ``collection`` or ``transaction`` Bundle (transaction entries PUT by id: an upsert)."""
    if kind not in ("collection", "transaction"):
        raise ValueError(f"bundle type {kind!r}: choose collection or transaction")
    entries = []
    base = base_url.rstrip("/")
    for r in resources:
        entry: dict[str, Any] = {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r}
        if kind == "transaction":
            entry["request"] = {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}
        entries.append(entry)
    ids = sorted(e["fullUrl"] for e in entries)
    return {"resourceType": "Bundle", "id": resource_id("Bundle", kind, *ids), "type": kind,
            "timestamp": fhir_time(datetime.now(UTC)), "entry": entries}


__all__ = ["NAMESPACE", "Subjects", "bundle", "device", "news2_observation", "patient", "resource_id",
           "steps_observation", "vital_observations"]
