"""DuckDB's encrypted database file for the warehouse (AES-GCM, DuckDB >= 1.4).

    duckdb:///PATH/warehouse.duckdb?encryption_key_env=NAME    key in environment variable NAME
    duckdb:///PATH/warehouse.duckdb?encryption_key_file=FILE   key in FILE (first line; keep it 0600)

The key never appears in the URL, in a log line or in an error (it is handed to
:func:`vitalstream.redact.remember`). The file is opened by attaching it to an in-memory
database with ``ENCRYPTION_KEY`` and making it the default catalog, so every statement of the
warehouse works unchanged.

DuckDB writes encrypted files only with OpenSSL, which comes with its ``httpfs`` extension;
without it DuckDB can *read* an encrypted file but refuses to write one. The extension is
downloaded by ``INSTALL httpfs`` from DuckDB's extension repository (or copied into
``~/.duckdb/extensions/v<duckdb version>/<platform>/``): where that cannot be done, the sink
cannot write an encrypted warehouse and says so at start-up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...redact import remember

KEY_ENV = "encryption_key_env"
KEY_FILE = "encryption_key_file"


def key_from(query: Mapping[str, str], environ: Mapping[str, str] | None = None) -> str | None:
    """The encryption key a warehouse URL's options point at, or None (not encrypted)."""
    env_name, file_name = query.get(KEY_ENV), query.get(KEY_FILE)
    if env_name and file_name:
        raise ConfigError(f"warehouse url: give {KEY_ENV} or {KEY_FILE}, not both")
    if env_name:
        key = (os.environ if environ is None else environ).get(env_name, "")
        if not key:
            raise ConfigError(f"warehouse url: {KEY_ENV}={env_name} but that environment variable is empty or unset")
    elif file_name:
        try:
            lines = Path(file_name).expanduser().read_text().splitlines()
        except OSError as exc:
            raise ConfigError(f"warehouse url: cannot read {KEY_FILE} {file_name}: {exc.strerror}") from None
        key = lines[0].strip() if lines else ""
        if not key:
            raise ConfigError(f"warehouse url: {KEY_FILE} {file_name} is empty")
    else:
        return None
    remember([key])
    return key


def connect(duckdb: Any, path: str, key: str, read_only: bool) -> Any:
    """A connection whose default catalog is the encrypted file at ``path``."""
    if path == ":memory:":
        raise ConfigError("warehouse url: an in-memory DuckDB cannot be encrypted")
    conn = duckdb.connect(":memory:")
    try:
        if not read_only:
            try:
                conn.execute("LOAD httpfs")  # OpenSSL: DuckDB's only way to write encrypted files
            except duckdb.Error:
                raise ConfigError(
                    "writing an encrypted DuckDB warehouse needs DuckDB's httpfs extension "
                    "(OpenSSL), which is not installed: run `INSTALL httpfs` in DuckDB where its "
                    "extension repository is reachable, or use an unencrypted file on an "
                    "encrypted disk (see docs/security.md)") from None
        literal = "'" + key.replace("'", "''") + "'"
        options = f"ENCRYPTION_KEY {literal}" + (", READ_ONLY" if read_only else "")
        try:
            conn.execute(f"ATTACH '{path.replace(chr(39), chr(39) * 2)}' AS warehouse ({options})")
        except (duckdb.InvalidInputException, duckdb.CatalogException) as exc:
            raise ConfigError(f"duckdb warehouse {path}: cannot open it with the configured "
                              f"encryption key ({type(exc).__name__}: wrong key, or not an "
                              "encrypted file)") from None
        conn.execute("USE warehouse")
    except BaseException:
        conn.close()
        raise
    return conn


__all__ = ["KEY_ENV", "KEY_FILE", "connect", "key_from"]
