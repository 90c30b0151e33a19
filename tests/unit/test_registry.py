"""The backend registry: one table of URL schemes that opening and configuration both read."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vitalstream import registry
from vitalstream.config import load
from vitalstream.errors import ConfigError, MissingExtraError
from vitalstream.registry import BACKENDS, Backend, open_url, schemes
from vitalstream.registry import load as load_target

HEAVY = ("confluent_kafka", "psycopg", "duckdb", "boto3", "botocore", "s3fs", "pyarrow", "fastapi",
         "paho")


@pytest.mark.parametrize(("kind", "scheme"), [(k, s) for k, table in BACKENDS.items() for s in table])
def test_every_registered_backend_resolves(kind: str, scheme: str) -> None:
    target, extra = BACKENDS[kind][scheme]
    assert callable(load_target(target, extra)), f"{kind} {scheme}:// -> {target}"


def test_unknown_scheme_lists_the_allowed_ones_without_the_url() -> None:
    with pytest.raises(ConfigError) as info:
        open_url("warehouse", "mysql://admin:s3cret@db:3306/x")
    msg = str(info.value)
    assert "'mysql'" in msg and "duckdb://" in msg and "postgresql://" in msg
    assert "s3cret" not in msg


def test_config_validation_reads_the_registry(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"VITALSTREAM_LOG_URL.*sqlite://, embedded://, kafka://"):
        load(environ={"VITALSTREAM_LOG_URL": "redpanda://x:9092"}, overrides={"home": str(tmp_path)})
    # adding a backend is one entry in the table: configuration accepts it at once
    monkeypatch.setitem(BACKENDS["log"], "redpanda", Backend("vitalstream.log.kafka:KafkaLog", "kafka"))
    s = load(environ={"VITALSTREAM_LOG_URL": "redpanda://x:9092"}, overrides={"home": str(tmp_path)})
    assert s.log_url == "redpanda://x:9092" and "redpanda" in schemes("log")


def test_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BACKENDS["log"], "fake", Backend("no_such_kafka_client:Log", "kafka"))
    with pytest.raises(MissingExtraError, match=r"pip install 'vitalstream\[kafka\]'"):
        open_url("log", "fake://x")


def test_opens_the_backend_with_the_url_and_arguments(tmp_path) -> None:
    with open_url("log", f"sqlite:///{tmp_path}/log.db") as log:
        assert type(log).__name__ == "EmbeddedLog" and log.list_topics() == []
    assert registry.scheme_of("KAFKA://h:1") == "kafka" and registry.scheme_of("no-scheme") == ""


def test_importing_vitalstream_loads_no_heavy_backend() -> None:
    code = ("import sys, vitalstream, vitalstream.config, vitalstream.registry, vitalstream.log, "
            "vitalstream.sinks, vitalstream.sinks.warehouse, vitalstream.sources.targets, "
            "vitalstream.supervise; "
            f"print(','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "", f"imported at start-up: {out.stdout.strip()}"
