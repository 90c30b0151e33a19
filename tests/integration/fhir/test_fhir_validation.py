"""The FHIR export of demo data, checked by the reference implementation (HAPI FHIR 8.8.0's
FhirInstanceValidator, built by scripts/services/fhir-validator.sh): zero errors.

A short embedded pipeline (simulators -> processor -> warehouse, plus the opt-in
fhir-observations sink) makes the data; the NDJSON export, a transaction Bundle of one patient
and the streamed Observations are validated in one JVM run (its start costs ~10 s). Warnings
are printed; only the kinds an offline validator cannot avoid are allowed (LOINC is not
available offline, so its codes, displays and the LOINC-based vital-signs value set cannot be
checked; no Observation has a performer, wearables measure on their own).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from vitalstream import topics as T
from vitalstream.fhir.codes import news2_code_system
from vitalstream.log import open_log, read_all

KEY = "integration-test-pseudonym-key-0123456789"
ALLOWED_WARNINGS = {
    "Terminology_PassThrough_TX_Message",  # "CodeSystem is unknown and can't be validated: http://loinc.org"
    "Terminology_TX_NoValid_2_CC",  # the LOINC-filtered Vital Signs value set cannot be expanded offline
    "All_observations_should_have_a_performer",  # best practice; a wearable has no performer
}


def vitalstream(home: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VITALSTREAM_SIMULATE_PATIENTS": "3", "VITALSTREAM_FHIR_STREAM": "true",
           "VITALSTREAM_PRIVACY_PSEUDONYM_KEY": KEY, "VITALSTREAM_LOG_LEVEL": "WARNING"}
    for name in ("VITALSTREAM_LOG_URL", "VITALSTREAM_WAREHOUSE_URL", "VITALSTREAM_LAKE_URL", "VITALSTREAM_CONFIG"):
        env.pop(name, None)  # the embedded log and warehouse under `home`
    return subprocess.run([str(Path(sys.executable).parent / "vitalstream"), "--home", str(home), *args], env=env,
                          capture_output=True, text=True, timeout=timeout, check=True)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("fhir-demo")
    vitalstream(home, "up", "--until-idle", "--count", "12", "--quiet")
    return home


def validate(classpath: str, files: list[Path], support: Path) -> list[dict]:
    args = ["java", "-Xmx768m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", classpath,
            "io.vitalstream.fhirvalidator.Validate", "--support", str(support), *map(str, files)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=240)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def test_export_of_demo_data_has_zero_validation_errors(demo: Path, fhir_validator_classpath: str,
                                                        tmp_path: Path) -> None:
    out = tmp_path / "ndjson"
    vitalstream(demo, "fhir", "export", "--out", str(out))
    again = tmp_path / "again"
    vitalstream(demo, "fhir", "export", "--out", str(again))
    for name in ("Patient.ndjson", "Device.ndjson", "Observation.ndjson"):
        assert (out / name).read_text() == (again / name).read_text(), f"{name}: re-export changed ids/content"
    observations = [json.loads(x) for x in (out / "Observation.ndjson").read_text().splitlines()]
    codes = {c["code"] for o in observations for c in o["code"]["coding"]}
    assert {"8867-4", "2708-6", "85354-9", "8310-5", "41950-7", "news2-total"} <= codes

    bundle = tmp_path / "bundle.json"
    vitalstream(demo, "fhir", "export", "--patient", "patient-0001", "--bundle", str(bundle),
                "--bundle-type", "transaction")
    streamed = tmp_path / "stream.ndjson"
    with open_log(f"sqlite:///{demo}/log.db") as log:
        records = list(read_all(log, [T.FHIR_OBSERVATIONS], purpose="test"))[:60]
    assert records, "the fhir-observations sink wrote nothing"
    streamed.write_text("".join(r.value.decode() + "\n" for r in records))
    support = tmp_path / "news2-codesystem.json"
    support.write_text(json.dumps(news2_code_system()))

    messages = validate(fhir_validator_classpath,
                        [out / "Patient.ndjson", out / "Device.ndjson", out / "Observation.ndjson", bundle, streamed],
                        support)
    summary = messages.pop()["summary"]
    errors = [m for m in messages if m["severity"] in ("error", "fatal")]
    warnings = Counter((m["message_id"], m["message"][:120]) for m in messages if m["severity"] == "warning")
    print(f"\nHAPI FHIR validator: {summary}")
    for (mid, text), n in warnings.most_common():
        print(f"  warning x{n} {mid}: {text}")
    assert summary["resources"] >= len(observations) + 2
    assert errors == [], "\n".join(f"{e['file']}#{e['item']} {e['location']}: {e['message']}" for e in errors[:20])
    unexpected = {mid for mid, _ in warnings} - ALLOWED_WARNINGS
    assert not unexpected, f"unexpected warning kinds: {unexpected}"
    assert all("loinc.org" in text for mid, text in warnings if mid == "Terminology_PassThrough_TX_Message")
