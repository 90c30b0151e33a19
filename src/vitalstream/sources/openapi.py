"""The ingest server's OpenAPI description: request bodies, answers, and the event schemas.

The bodies are parsed with msgspec, not per-event pydantic models, so FastAPI cannot derive
their schemas: they are declared here from the exported msgspec structs instead.
"""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ..events import schemas as event_schemas
from .routing import WRITABLE_TOPICS

# Events routable by shape on POST /stream (for the OpenAPI request body).
STREAM_EVENTS = ("HeartRateEvent", "BloodOxygenEvent", "BloodPressureEvent", "FallDetectionEvent",
                  "HealthData", "MedicalEntry", "HeartRateReading", "SmartwatchEvent",
                  "SmartwatchEventLabelled")
ALL_EVENTS = (*STREAM_EVENTS, "PatientMetadata", "User", "Activity", "UserProfile")


def request_body(names: tuple[str, ...]) -> dict[str, Any]:
    one = {"oneOf": [{"$ref": f"#/components/schemas/{n}"} for n in names]}
    return {
        "required": True,
        "content": {
            "application/json": {"schema": {"oneOf": [one, {"type": "array", "items": one}]}},
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "one JSON event per line"}},
        },
    }


RESULT = {
    "type": "object",
    "required": ["accepted", "rejected"],
    "properties": {
        "accepted": {"type": "integer", "description": "events durably stored"},
        "rejected": {"type": "array", "items": {
            "type": "object", "required": ["index", "reason"],
            "properties": {
                "index": {"type": "integer", "description": "position in the body, from 0"},
                "reason": {"type": "string"},
                "field": {"type": "string"},
                "topic": {"type": "string"},
            }}},
    },
}
PROBLEM = {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}}


def responses() -> dict[int | str, dict[str, Any]]:
    def problem(text: str, headers: tuple[str, ...] = ()) -> dict[str, Any]:
        out: dict[str, Any] = {"description": text,
                               "content": {"application/json": {"schema": PROBLEM}}}
        if headers:
            out["headers"] = {h: {"schema": {"type": "integer" if h == "Retry-After" else "string"}}
                              for h in headers}
        return out

    return {
        200: {"description": "every event stored",
              "content": {"application/json": {"schema": RESULT}}},
        422: {"description": "some events rejected (and dead-lettered); the others were stored",
              "content": {"application/json": {"schema": RESULT}}},
        400: problem("unreadable request"),
        401: problem("missing credentials", ("WWW-Authenticate",)),
        403: problem("unknown API key, a device key naming another device, or a reference "
                     "topic without the admin scope"),
        408: problem("body not received within http.body_timeout_s"),
        413: problem("body larger than http.max_body_bytes, or more events than the key's burst"),
        429: problem("the API key exceeded its rate (http.rate_per_device / rate_per_gateway)",
                     ("Retry-After",)),
        503: problem("the log is unavailable", ("Retry-After",)),
    }


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document for ``app``, with the msgspec event schemas as components and the
    ``topic`` parameter limited to the writable topics."""
    doc = get_openapi(title=app.title, version=app.version, description=app.description,
                      routes=app.routes)
    _, components = msgspec.json.schema_components(
        [event_schemas.SCHEMAS[n] for n in ALL_EVENTS],
        ref_template="#/components/schemas/{name}")
    renamed = {type_.__name__: name for name, type_ in event_schemas.SCHEMAS.items()}
    doc.setdefault("components", {}).setdefault("schemas", {}).update(
        {renamed.get(k, k): v for k, v in components.items()})
    for path in doc["paths"].values():
        for op in path.values():
            for p in op.get("parameters", []):
                if p.get("name") == "topic":
                    p["schema"] = {"type": "string", "enum": list(WRITABLE_TOPICS)}
    return doc
