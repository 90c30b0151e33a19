"""Dashboard accounts: Argon2 hashes in an owner-only file, roles, bearer credentials, the
demo clinician."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from vitalstream.config import load
from vitalstream.dashboard.accounts import Accounts, add_account, ensure_demo_account, users_path
from vitalstream.errors import ConfigError


def test_accounts_file_is_owner_only_and_holds_no_password(tmp_path: Path) -> None:
    s = load(environ={}, overrides={"home": str(tmp_path)})
    add_account(s, "cleo", "clinician", "secret password")
    path = users_path(s)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "secret password" not in text and "$argon2id$" in text
    accounts = Accounts.from_settings(s)
    assert accounts.verify("cleo", "secret password").role == "clinician"  # type: ignore[union-attr]
    assert accounts.verify("cleo", "wrong") is None and accounts.verify("nobody", "secret password") is None
    assert accounts.verify_bearer("cleo:secret password") is not None
    assert accounts.verify_bearer("cleo:wrong") is None and accounts.verify_bearer("no-colon") is None


def test_bad_accounts_are_refused(tmp_path: Path) -> None:
    s = load(environ={}, overrides={"home": str(tmp_path)})
    with pytest.raises(ConfigError, match="role"):
        add_account(s, "x", "nurse", "long enough")
    with pytest.raises(ConfigError, match="8 characters"):
        add_account(s, "x", "admin", "short")
    plain = load(environ={}, overrides={"home": str(tmp_path), "dashboard": {"users": ["admin root hunter22"]}})
    with pytest.raises(ConfigError, match="argon2"):
        Accounts.from_settings(plain)


def test_demo_clinician_is_created_once(tmp_path: Path) -> None:
    s = load(environ={}, overrides={"home": str(tmp_path)})
    name, password = ensure_demo_account(s)
    assert ensure_demo_account(s) == (name, password)
    assert stat.S_IMODE((tmp_path / "dashboard-demo-login").stat().st_mode) == 0o600
    assert Accounts.from_settings(s).verify(name, password).role == "clinician"  # type: ignore[union-attr]
