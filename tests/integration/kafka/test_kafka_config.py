"""Kafka URL settings, secret redaction and the start-up error: no broker needed."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from vitalstream.errors import ConfigError, LogUnavailable
from vitalstream.log import open_log
from vitalstream.log.kafka import parse_url, redact


def test_url_query_and_environment_pass_through_to_librdkafka() -> None:
    env = {
        "VITALSTREAM_KAFKA_SASL_PASSWORD": "from-env",
        "VITALSTREAM_KAFKA_SASL_USERNAME": "svc",
        "VITALSTREAM_KAFKA_SECURITY_PROTOCOL": "SSL",
        "VITALSTREAM_LOG_URL": "not ours",
    }
    conf, timeout = parse_url(
        "kafka://b1:9093,b2:9094?security.protocol=SASL_SSL&sasl.mechanism=SCRAM-SHA-512"
        "&connect_timeout=2.5",
        env,
    )
    assert conf == {
        "bootstrap.servers": "b1:9093,b2:9094",
        "security.protocol": "SASL_SSL",  # the URL wins over the environment
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "svc",
        "sasl.password": "from-env",
    }
    assert timeout == 2.5


def test_default_port_and_bad_urls() -> None:
    conf, _ = parse_url("kafka://broker", {})
    assert conf["bootstrap.servers"] == "broker:9092"
    with pytest.raises(ConfigError):
        parse_url("kafka://", {})
    with pytest.raises(ConfigError):
        parse_url("kafka://h:1?connect_timeout=soon", {})


def test_secrets_are_redacted() -> None:
    conf = {"sasl.password": "p", "ssl.key.password": "k", "sasl.oauthbearer.client.secret": "s",
            "ssl.key.pem": "pem", "sasl.username": "u", "ssl.ca.location": "/ca.pem"}
    assert redact(conf) == {"sasl.password": "***", "ssl.key.password": "***",
                            "sasl.oauthbearer.client.secret": "***", "ssl.key.pem": "***",
                            "sasl.username": "u", "ssl.ca.location": "/ca.pem"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_broker_is_a_clear_error_within_seconds(caplog: pytest.LogCaptureFixture) -> None:
    port = _closed_port()
    t0 = time.monotonic()
    with caplog.at_level(logging.DEBUG), pytest.raises(LogUnavailable) as info:
        open_log(f"kafka://127.0.0.1:{port}?connect_timeout=2&sasl.password=hunter2")
    assert time.monotonic() - t0 < 10
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message and "not reachable" in message
    assert "hunter2" not in message and "hunter2" not in caplog.text
