from __future__ import annotations

import pytest

from vitalstream.config import load, redact_url
from vitalstream.errors import ConfigError


def test_defaults_live_under_home(tmp_path) -> None:
    s = load(environ={}, overrides={"home": str(tmp_path / "h")})
    assert s.log_url == f"sqlite:///{tmp_path}/h/log.db"
    assert s.warehouse_url == f"duckdb:///{tmp_path}/h/warehouse.duckdb"
    assert s.lake_url == f"file://{tmp_path}/h/lake"
    assert s.http.port == 62333 and s.partitions == 6


def test_precedence_file_env_flags(tmp_path) -> None:
    cfg = tmp_path / "v.toml"
    cfg.write_text('partitions = 3\nlog_level = "DEBUG"\n[http]\nport = 1000\napi_keys = ["a:b"]\n')
    s = load(cfg, environ={})
    assert (s.partitions, s.http.port, s.http.api_keys, s.log_level) == (3, 1000, ("a:b",), "DEBUG")
    env = {"VITALSTREAM_HTTP_PORT": "2000", "VITALSTREAM_PARTITIONS": "4",
           "VITALSTREAM_HTTP_API_KEYS": "x:1, y:2", "VITALSTREAM_TEST_KAFKA": "ignored"}
    s = load(cfg, environ=env)
    assert (s.partitions, s.http.port, s.http.api_keys) == (4, 2000, ("x:1", "y:2"))
    s = load(cfg, environ=env, overrides={"http": {"port": 3000}})
    assert s.http.port == 3000 and s.partitions == 4


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"VITALSTREAM_HTTP_PORT": "eighty"}, "http.port"),
        ({"VITALSTREAM_HTTP_PORT": "70000"}, "HTTP_PORT"),
        ({"VITALSTREAM_LOG_URL": "redis://x"}, "VITALSTREAM_LOG_URL"),
        ({"VITALSTREAM_WAREHOUSE_URL": "mysql://x"}, "warehouse_url"),
        ({"VITALSTREAM_PARTITIONS": "0"}, "PARTITIONS"),
        ({"VITALSTREAM_NOPE": "1"}, "nope"),
    ],
)
def test_bad_values_name_the_setting(env, needle) -> None:
    with pytest.raises(ConfigError, match=needle):
        load(environ=env)


def test_missing_or_broken_file(tmp_path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load(tmp_path / "absent.toml", environ={})
    bad = tmp_path / "bad.toml"
    bad.write_text("partitions = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(bad, environ={})


def test_redact_url() -> None:
    assert redact_url("postgresql://u:secret@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert "secret" not in redact_url("mqtt://vitalstream:secret@127.0.0.1:1883")
    assert redact_url("sqlite:///x.db") == "sqlite:///x.db"


def test_non_setting_variables_are_ignored() -> None:
    env = {"VITALSTREAM_SERVICES_KAFKA_PORT": "1", "VITALSTREAM_TEST_KAFKA": "x", "VITALSTREAM_BENCH_KAFKA": "x",
           "VITALSTREAM_KAFKA_SASL_PASSWORD": "secret", "VITALSTREAM_API_KEY": "k", "VITALSTREAM__SERVE_SETTINGS": "{}"}
    assert load(environ=env).partitions == 6
