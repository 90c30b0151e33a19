"""The warehouse file encrypted at rest with DuckDB's ENCRYPTION_KEY (issue 11.6).

DuckDB writes encrypted files only with its httpfs extension (OpenSSL), which cannot be
installed offline here; so a file is made the way a DuckDB with httpfs would make it (here with
DuckDB's own mbedtls writer, test-only) and the warehouse must read it with the key, refuse it
without, and say clearly why it cannot write one. Where httpfs is installed, the full
write-and-read round trip runs too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from ops_cli import assert_one_line_error, vs

from vitalstream.errors import ConfigError
from vitalstream.sinks.warehouse import open_warehouse

duckdb = pytest.importorskip("duckdb")
KEY = "k3y-Only-The-Operator-Knows"
PHI = "PHI-Jane-Doe-1970"


def _encrypted_file(path: Path) -> None:
    conn = duckdb.connect()
    conn.execute("SET force_mbedtls_unsafe = 'true'")  # stands in for httpfs in this test only
    conn.execute(f"ATTACH '{path}' AS w (ENCRYPTION_KEY '{KEY}')")
    conn.execute("CREATE TABLE w.notes (patient text, note text)")
    conn.execute(f"INSERT INTO w.notes VALUES ('{PHI}', 'x')")
    conn.execute("DETACH w")
    conn.close()


def _has_httpfs() -> bool:
    try:
        duckdb.connect().execute("LOAD httpfs")
        return True
    except duckdb.Error:
        return False


def test_reads_with_the_key_from_env_or_file(tmp_path, monkeypatch) -> None:
    path = tmp_path / "wh.duckdb"
    _encrypted_file(path)
    assert PHI.encode() not in path.read_bytes()  # encrypted at rest
    monkeypatch.setenv("OPS_TEST_WH_KEY", KEY)
    keyfile = tmp_path / "wh.key"
    keyfile.write_text(KEY + "\n")
    for opt in ("encryption_key_env=OPS_TEST_WH_KEY", f"encryption_key_file={keyfile}"):
        with open_warehouse(f"duckdb:///{path}?{opt}", read_only=True) as wh:
            assert wh.query("SELECT patient FROM notes")[1] == [(PHI,)]


def test_wrong_or_missing_key_is_a_clear_error_without_the_key(tmp_path, monkeypatch) -> None:
    path = tmp_path / "wh.duckdb"
    _encrypted_file(path)
    monkeypatch.setenv("OPS_TEST_WH_KEY", "not-the-key")
    with (pytest.raises(ConfigError, match="wrong key") as err,
          open_warehouse(f"duckdb:///{path}?encryption_key_env=OPS_TEST_WH_KEY", read_only=True) as wh):
        wh.query("SELECT 1")
    assert "not-the-key" not in str(err.value)
    monkeypatch.delenv("OPS_TEST_WH_KEY")
    with pytest.raises(ConfigError, match="empty or unset"):
        open_warehouse(f"duckdb:///{path}?encryption_key_env=OPS_TEST_WH_KEY")
    r = vs(tmp_path, "--warehouse-url", f"duckdb:///{path}", "query", "SELECT * FROM notes")
    assert "without a key" in assert_one_line_error(r)


def test_writing_says_what_is_needed_or_round_trips(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("OPS_TEST_WH_KEY", KEY)
    url = f"duckdb:///{tmp_path / 'new.duckdb'}?encryption_key_env=OPS_TEST_WH_KEY"
    if not _has_httpfs():
        with pytest.raises(ConfigError, match="httpfs") as err, open_warehouse(url) as wh:
            wh.migrate()
        assert KEY not in str(err.value)
        r = vs(tmp_path, "--warehouse-url", url, "warehouse", "migrate",
               env={"OPS_TEST_WH_KEY": KEY})
        line = assert_one_line_error(r)
        assert "httpfs" in line and KEY not in line
        return
    with open_warehouse(url) as wh:  # pragma: no cover - only where httpfs is installed
        wh.migrate()
        assert wh.version() > 0
    assert b"schema_migrations" not in (tmp_path / "new.duckdb").read_bytes()
