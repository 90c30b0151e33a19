"""Stable pseudonyms: keyed HMAC-SHA256 of an identifier, tagged with the key's id.

For *internal* joins across exports (``fhir export`` by default, ``extract --pseudonymise``):
the same key gives the same pseudonym every time, and whoever holds the key can recompute
(not invert) it. That makes it a code derived from the identifier, which HIPAA Safe Harbor
(§164.514(c)) does not allow in a de-identified set: ``extract --deidentify`` uses random
surrogates instead (:mod:`.surrogates`).

The key comes from the setting ``privacy.pseudonym_key`` (env ``VITALSTREAM_PRIVACY_PSEUDONYM_KEY``)
or the file ``privacy.pseudonym_key_file``; it is a secret (redacted wherever settings are
shown) and is never logged. ``privacy.pseudonym_key_id`` names it, so a rotated key gives
pseudonyms that visibly belong to another key (``k2.…``) instead of silently different ones.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..config import Settings

MIN_KEY_BYTES = 16  # a shorter key can be brute-forced together with a small id space
SYSTEM_PREFIX = "urn:vitalstream:pseudonym:"


@dataclass(frozen=True)
class Pseudonymiser:
    """``pseudonym("P001")`` -> ``"k1.3f9c…"`` (key id, dot, 32 hex digits of the HMAC)."""

    key: bytes = field(repr=False)
    key_id: str

    def __post_init__(self) -> None:
        if len(self.key) < MIN_KEY_BYTES:
            raise ConfigError(f"pseudonym key {self.key_id!r} is too short: use at least "
                              f"{MIN_KEY_BYTES} bytes (e.g. `openssl rand -hex 32`)")
        if not self.key_id or "." in self.key_id or not self.key_id.isprintable():
            raise ConfigError("privacy.pseudonym_key_id must be a short printable name without '.'")

    def pseudonym(self, identifier: str, *, kind: str = "patient") -> str:
        # ``kind`` separates name spaces: a device and a patient with the same id (the device gateway
        # uses the device id as the patient id) still get unrelated pseudonyms.
        mac = hmac.new(self.key, f"{kind}\x1f{identifier}".encode(), hashlib.sha256).hexdigest()
        return f"{self.key_id}.{mac[:32]}"

    @property
    def system(self) -> str:
        """The identifier system of this key's pseudonyms (FHIR ``Identifier.system``)."""
        return SYSTEM_PREFIX + self.key_id


def pseudonymiser_from(settings: Settings) -> Pseudonymiser:
    """The configured key, or a :class:`ConfigError` that says how to configure one."""
    p = settings.privacy
    if p.pseudonym_key and p.pseudonym_key_file:
        raise ConfigError("set privacy.pseudonym_key or privacy.pseudonym_key_file, not both")
    if p.pseudonym_key:
        key = p.pseudonym_key.encode()
    elif p.pseudonym_key_file:
        path = Path(p.pseudonym_key_file).expanduser()
        try:
            key = path.read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"privacy.pseudonym_key_file {path}: {exc.strerror}") from None
    else:
        raise ConfigError(
            "no pseudonym key: set VITALSTREAM_PRIVACY_PSEUDONYM_KEY (e.g. `openssl rand -hex 32`) or "
            "privacy.pseudonym_key_file, or export real identifiers with fhir.patient_reference = \"identifier\"")
    return Pseudonymiser(key, p.pseudonym_key_id)


__all__ = ["Pseudonymiser", "pseudonymiser_from"]
