"""Fixtures that find the real services the integration tests talk to.

Each service is named by an environment variable, set by hand or by ``make services-up``
(``scripts/services/up.sh``), which also writes them to ``.services/env``; that file is read
when the variable is not set:

    VITALSTREAM_TEST_KAFKA=127.0.0.1:59092
    VITALSTREAM_TEST_POSTGRES=postgresql://vitalstream:vitalstream@127.0.0.1:55432/vitalstream
    VITALSTREAM_TEST_MQTT=mqtt://vitalstream:vitalstream-test@127.0.0.1:51883
    VITALSTREAM_TEST_S3=http://127.0.0.1:55000
    VITALSTREAM_TEST_FHIR_VALIDATOR=<classes>:<jars>/*   (a build: the HAPI FHIR validator)
    VITALSTREAM_TEST_MONGODB=mongodb://127.0.0.1:57017/

A service that is not configured or not reachable skips its tests with a message saying how to
enable them, except under ``CI=true``, where it fails them: CI must never go green by skipping.
Tests in ``tests/integration/<service>/`` get the ``<service>`` marker (``pytest -m kafka``).
"""

from __future__ import annotations

import os
import re
import socket
import uuid
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from preconditions import missing

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV_FILE = REPO_ROOT / ".services" / "env"

# service -> (environment variable, example value for the skip message)
SERVICES: dict[str, tuple[str, str]] = {
    "kafka": ("VITALSTREAM_TEST_KAFKA", "host:port"),
    "postgres": ("VITALSTREAM_TEST_POSTGRES", "postgresql://user:password@host:port/db"),
    "mqtt": ("VITALSTREAM_TEST_MQTT", "mqtt://user:password@host:port"),
    "s3": ("VITALSTREAM_TEST_S3", "http://host:port"),
    "mongodb": ("VITALSTREAM_TEST_MONGODB", "mongodb://host:port/"),
}


@cache
def _env_file() -> dict[str, str]:
    values: dict[str, str] = {}
    try:
        text = ENV_FILE.read_text()
    except OSError:
        return values
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.removeprefix("export ").partition("=")
            values[name.strip()] = value.strip().strip("'\"")
    return values


def _host_ports(service: str, value: str) -> list[tuple[str, int]]:
    """The addresses to probe: every bootstrap server for Kafka, the URL's host for the rest."""
    if service == "kafka":
        out = []
        for server in value.removeprefix("kafka://").split("?", 1)[0].split(","):
            host, _, port = server.strip().rpartition(":")
            out.append((host.strip("[]") or "127.0.0.1", int(port or 9092)))
        return out
    u = urlsplit(value)
    default = {"postgres": 5432, "mqtt": 1883, "s3": 443 if u.scheme == "https" else 80, "mongodb": 27017}[service]
    return [(u.hostname or "127.0.0.1", u.port or default)]


def _reachable(addresses: list[tuple[str, int]]) -> bool:
    for host, port in addresses:
        try:
            with socket.create_connection((host, port), timeout=2):
                return True
        except OSError:
            continue
    return False


@cache
def _service(service: str) -> tuple[str | None, str]:
    """(value, problem): the configured address when reachable, else None and why not."""
    var, example = SERVICES[service]
    value = os.environ.get(var) or _env_file().get(var)
    how = f"run `make services-up` or set {var}={example}"
    if not value:
        return None, f"{service} is not configured: {how}"
    try:
        addresses = _host_ports(service, value)
    except ValueError:
        return None, f"{var}={value!r} is not a valid address ({example})"
    if not _reachable(addresses):
        return None, f"{service} at {value} is not reachable: {how}"
    return value, ""


def _require(service: str) -> str:
    value, problem = _service(service)
    if value is None:
        missing(problem)
    return value


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """Bootstrap servers of a real Kafka broker, ``host:port[,host:port]``."""
    return _require("kafka")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """``postgresql://`` URL of a database the tests may create tables in."""
    return _require("postgres")


@pytest.fixture(scope="session")
def mqtt_url() -> str:
    """``mqtt://user:password@host:port`` of a real Mosquitto broker."""
    return _require("mqtt")


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    """``http://host:port`` of an S3-compatible server (any credentials are accepted)."""
    return _require("s3")


@pytest.fixture(scope="session")
def fhir_validator_classpath() -> str:
    """Java classpath of the HAPI FHIR validator that ``scripts/services/fhir-validator.sh``
    builds (a build, not a server: "reachable" means its classes exist)."""
    var = "VITALSTREAM_TEST_FHIR_VALIDATOR"
    value = os.environ.get(var) or _env_file().get(var)
    problem = ""
    if not value:
        problem = "the FHIR validator is not built: run `make services-up` or scripts/services/fhir-validator.sh start"
    elif not Path(value.split(":", 1)[0]).is_dir():
        problem = f"{var}={value} does not exist: run scripts/services/fhir-validator.sh start"
    if problem:
        missing(problem)
    return value


@pytest.fixture(scope="session")
def mongodb_url() -> str:
    """``mongodb://host:port/`` of a MongoDB-wire server (FerretDB in the test services)."""
    return _require("mongodb")


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A name only this test uses, valid as a Kafka topic, consumer group, MQTT topic level,
    S3 bucket prefix and unquoted PostgreSQL identifier: ``t_<test name>_<random>``.
    """
    stem = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")[:32]
    return f"t_{stem}_{uuid.uuid4().hex[:8]}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        try:
            rel = Path(str(item.path)).resolve().relative_to(here)
        except ValueError:
            continue
        if len(rel.parts) > 1 and (rel.parts[0] in SERVICES or rel.parts[0] == "fhir"):
            item.add_marker(getattr(pytest.mark, rel.parts[0]))
