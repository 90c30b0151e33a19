"""FHIR R4 output: vitals and NEWS2 as Observations for electronic health records.

* :mod:`.codes` — LOINC codes, UCUM units and vital-signs profiles per measure; the local
  NEWS2 code system; unit conversion (°F to Cel, ...).
* :mod:`.resources` — Patient, Device, Observation and Bundle builders with deterministic ids.
* :mod:`.subjects` — patients named by pseudonym or identifier, as configured.
* :mod:`.export` — ``vitalstream fhir export``: the warehouse as Bulk Data NDJSON or a Bundle.
* :mod:`.stream` — the opt-in ``fhir-observations`` sink (FHIR JSON on a topic).

The output is checked with HAPI FHIR's reference validator (``scripts/fhir-validator``,
docs/fhir.md). Nothing here needs a FHIR library: resources are plain dicts.
"""
