"""Planted secrets never reach CLI output: status, banners, errors, logs, --help (issue 11.3).

Every command runs as the installed console script with secrets planted in URLs (user-info
and query parameters) and in the environment, at DEBUG log level; all of stdout and stderr is
searched for every planted value.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from ops_cli import EXE, vs

from vitalstream.redact import is_secret_name, redact_settings, redact_text, redact_url

PLANTED = [f"Pl4nted{n}Secret" for n in range(12)]
ENV = {
    "VITALSTREAM_KAFKA_SASL_PASSWORD": PLANTED[0],
    "VITALSTREAM_KAFKA_SSL_KEY_PASSWORD": PLANTED[1],
    "VITALSTREAM_HTTP_API_KEYS": f"dev1:{PLANTED[2]},{PLANTED[3]}",
    "VITALSTREAM_LOG_LEVEL": "DEBUG",
}


def _leaks(*outputs: bytes) -> list[str]:
    text = b"\n".join(outputs).decode("utf-8", "replace")
    return [p for p in PLANTED if p in text]


def _log_url(home: Path) -> str:
    return f"sqlite:///{home}/log.db?password={PLANTED[4]}&api_key={PLANTED[5]}"


def test_status_and_status_json_hide_query_secrets(tmp_path) -> None:
    home = tmp_path / "h"
    for args in (("status",), ("status", "--json"), ("topics", "list")):
        r = vs(home, "--log-url", _log_url(home), *args, env=ENV)
        assert r.returncode == 0, r.stderr
        assert not _leaks(r.stdout, r.stderr), args
    r = vs(home, "--log-url", _log_url(home), "status", "--json", env=ENV)
    assert b"password=***" in r.stdout and b"api_key=***" in r.stdout


def test_unreachable_kafka_with_sasl_password_in_url(tmp_path) -> None:
    url = f"kafka://127.0.0.1:1?sasl.password={PLANTED[6]}&sasl_password={PLANTED[7]}&connect_timeout=1"
    for args in (("status",), ("status", "--json"), ("dlq", "list"), ("consume", "heart-rate-data")):
        r = vs(tmp_path, "--log-url", url, *args, env=ENV)
        assert r.returncode == 2 and b"error:" in r.stderr, r.stderr
        assert not _leaks(r.stdout, r.stderr), (args, r.stderr)


def test_postgresql_warehouse_url_with_password(tmp_path) -> None:
    url = f"postgresql://vs:{PLANTED[8]}@127.0.0.1:1/vs?password={PLANTED[9]}&sslpassword={PLANTED[10]}"
    for args in (("query", "SELECT 1"), ("warehouse", "status"), ("report", "alerts")):
        r = vs(tmp_path, "--warehouse-url", url, *args, env=ENV)
        assert r.returncode == 2, r.stderr
        assert not _leaks(r.stdout, r.stderr), (args, r.stderr)
        assert b"Traceback" not in r.stderr


def test_config_errors_and_debug_tracebacks_are_redacted(tmp_path) -> None:
    bad = f"bogus://u:{PLANTED[11]}@h/x?token={PLANTED[0]}"
    r = vs(tmp_path, "--log-url", bad, "status", env=ENV)
    assert r.returncode == 2 and not _leaks(r.stdout, r.stderr)
    url = f"kafka://127.0.0.1:1?sasl.password={PLANTED[6]}&connect_timeout=1"
    r = vs(tmp_path, "--debug", "--log-url", url, "status", env=ENV)
    assert r.returncode == 2 and b"Traceback" in r.stderr  # --debug shows it ...
    assert not _leaks(r.stdout, r.stderr)  # ... still redacted


def test_help_shows_no_secret(tmp_path) -> None:
    env = dict(ENV, VITALSTREAM_LOG_URL=f"kafka://b:9092?sasl.password={PLANTED[6]}",
               VITALSTREAM_WAREHOUSE_URL=f"postgresql://u:{PLANTED[8]}@h/db")
    for args in (("--help",), ("status", "--help"), ("serve", "--help"), ("up", "--help"),
                 ("dlq", "replay", "--help"), ("replay-client", "--help"), ("sink", "--help")):
        r = vs(None, *args, env=env)
        assert r.returncode == 0, (args, r.stderr)
        assert not _leaks(r.stdout, r.stderr), args


def test_pipeline_banners_and_logs(tmp_path) -> None:
    home = tmp_path / "h"
    url = _log_url(home)
    runs = [vs(home, "--log-url", url, "up", "--for", "2s", "--no-simulate", "--quiet", env=ENV),
            vs(home, "--log-url", url, "process", "--until-idle", env=ENV),
            vs(home, "--log-url", url, "sink", "lake", "--until-idle", env=ENV)]
    for r in runs:
        assert r.returncode == 0, r.stderr
        assert not _leaks(r.stdout, r.stderr), r.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_banner(tmp_path) -> None:
    home = tmp_path / "h"
    env = {k: v for k, v in ENV.items()}
    proc = subprocess.Popen([EXE, "--home", str(home), "--log-url", _log_url(home), "serve",
                             "--port", str(_free_port())], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**_clean_env(), **env})
    try:
        time.sleep(4)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    assert b"vitalstream ingest on" in err and b"password=***" in err
    assert not _leaks(out, err)


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("VITALSTREAM_")}


# -- the one redaction function, directly ------------------------------------------------------
@pytest.mark.parametrize("name", ["password", "sasl.password", "sasl_password", "ssl.key.password",
                                  "secret", "token", "key", "api_key", "apikey", "sslpassword",
                                  "PASSWORD", "Sasl.Password", "aws_secret_access_key", "api_keys"])
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)
    assert redact_url(f"x://h/p?a=1&{name}=s3cr3tvalue&b=2") == f"x://h/p?a=1&{name}=***&b=2"


@pytest.mark.parametrize("name", ["ssl.key.location", "key_file", "auth", "partitions",
                                  "session.timeout.ms", "security.protocol", "hold", "format"])
def test_not_secret_names(name: str) -> None:
    assert not is_secret_name(name)


def test_user_info_and_text() -> None:
    assert redact_url("postgresql://vs:pw@db:5432/vs") == "postgresql://vs:***@db:5432/vs"
    assert redact_url("https://ghp_token@example.org/x") == "https://***@example.org/x"
    assert redact_url("sqlite:////abs/log.db?sync=full") == "sqlite:////abs/log.db?sync=full"
    text = 'cannot connect to mqtt://u:pw1234@h:1883 (dsn "host=h password=pw5678 user=u")'
    assert "pw1234" not in redact_text(text) and "pw5678" not in redact_text(text)
    shown = redact_settings({"log_url": "kafka://b?sasl.password=zz", "http": {"api_keys": ["d:k"]}})
    assert shown == {"log_url": "kafka://b?sasl.password=***", "http": {"api_keys": ["***"]}}
