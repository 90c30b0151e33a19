"""Keyed-HMAC pseudonyms: stable, key-tagged, never the id; the key comes from the settings."""

from __future__ import annotations

import pytest

from vitalstream.config import load
from vitalstream.errors import ConfigError
from vitalstream.privacy.pseudonym import Pseudonymiser, pseudonymiser_from
from vitalstream.redact import redact_settings


def test_stable_and_tagged_with_the_key_id() -> None:
    p = Pseudonymiser(b"0123456789abcdef-key", "k7")
    assert p.pseudonym("patient-0001") == p.pseudonym("patient-0001")
    assert p.pseudonym("patient-0001").startswith("k7.") and len(p.pseudonym("x")) == 3 + 32
    assert p.pseudonym("patient-0001") != Pseudonymiser(b"another-key-0123456789", "k7").pseudonym("patient-0001")
    assert p.pseudonym("DEV-1") != p.pseudonym("DEV-1", kind="device")


def test_short_keys_are_refused() -> None:
    with pytest.raises(ConfigError, match="too short"):
        Pseudonymiser(b"short", "k1")


def test_key_from_env_or_file_never_shown(tmp_path) -> None:
    s = load(environ={"VITALSTREAM_PRIVACY_PSEUDONYM_KEY": "env-secret-key-0123456789"})
    assert pseudonymiser_from(s).pseudonym("a").startswith("k1.")
    assert "env-secret-key" not in str(redact_settings(s))
    (tmp_path / "key").write_text("file-secret-key-0123456789\n")
    f = load(environ={"VITALSTREAM_PRIVACY_PSEUDONYM_KEY_FILE": str(tmp_path / "key"),
                      "VITALSTREAM_PRIVACY_PSEUDONYM_KEY_ID": "k2"})
    assert pseudonymiser_from(f).pseudonym("a") == Pseudonymiser(b"file-secret-key-0123456789", "k2").pseudonym("a")
    with pytest.raises(ConfigError, match="no pseudonym key"):
        pseudonymiser_from(load(environ={}))
