"""Who a patient is in an extract, and how their dates move.

* :class:`SurrogateKey` (``extract --deidentify``): a *random* surrogate id and a random date
  shift per patient, both drawn from ``secrets`` and kept only in a separate key file (JSON,
  owner-only), never in the extract. Nothing about the surrogate is derived from the patient
  id, as HIPAA Safe Harbor (§164.514(c)) requires. Reusing the key file for a later extract
  keeps a study's surrogates and shifts stable; losing it makes re-identification impossible.
* :class:`PseudonymKey` (``extract --pseudonymise``): the keyed-HMAC pseudonym of
  :mod:`.pseudonym` and a shift derived from it: stable without a key file, for internal joins;
  not Safe Harbor.

A shift is whole days (time of day and weekday pattern shift with it), the same for every date
of a patient, so intervals within a patient are preserved.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from ..errors import ConfigError
from .pseudonym import Pseudonymiser

MAX_SHIFT_DAYS = 365  # shifts are drawn from [-365, +365] days, never 0


class PatientKey(Protocol):
    """How an extract names a patient and shifts their dates."""

    @property
    def kind(self) -> str: ...

    def surrogate(self, patient_id: str) -> str: ...

    def shift(self, patient_id: str) -> timedelta: ...


@dataclass
class SurrogateKey:
    """Random surrogates and shifts, remembered in :attr:`patients` (saved with :meth:`save`)."""

    patients: dict[str, dict[str, int | str]] = field(default_factory=dict)
    kind: str = "surrogate"

    def _entry(self, patient_id: str) -> dict[str, int | str]:
        entry = self.patients.get(patient_id)
        if entry is None:
            taken = {e["surrogate"] for e in self.patients.values()}
            while (sid := "S" + secrets.token_hex(8)) in taken:  # 64 random bits; a clash is retried
                pass
            days = secrets.randbelow(MAX_SHIFT_DAYS) + 1
            entry = self.patients[patient_id] = {"surrogate": sid,
                                                 "shift_days": days if secrets.randbelow(2) else -days}
        return entry

    def surrogate(self, patient_id: str) -> str:
        return str(self._entry(patient_id)["surrogate"])

    def shift(self, patient_id: str) -> timedelta:
        return timedelta(days=int(self._entry(patient_id)["shift_days"]))

    @classmethod
    def load(cls, path: Path) -> SurrogateKey:
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text())
            return cls(patients={str(k): dict(v) for k, v in data["patients"].items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"key file {path} is not a vitalstream surrogate key file ({exc})") from None

    def save(self, path: Path) -> None:
        """Write the mapping owner-only (0600), atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"kind": "vitalstream-surrogate-key", "saved_at": datetime.now(UTC).isoformat(),
                       "warning": "re-identifies the extract: keep it apart from the data",
                       "patients": self.patients}, f, indent=1, sort_keys=True)
        os.replace(tmp, path)


@dataclass(frozen=True)
class PseudonymKey:
    """Keyed-HMAC pseudonyms; the shift is derived from the pseudonym (stable, no key file)."""

    pseudonymiser: Pseudonymiser
    kind: str = "pseudonym"

    def surrogate(self, patient_id: str) -> str:
        return self.pseudonymiser.pseudonym(patient_id)

    def shift(self, patient_id: str) -> timedelta:
        h = int(self.pseudonymiser.pseudonym(patient_id, kind="date-shift").split(".", 1)[1][:8], 16)
        days = h % MAX_SHIFT_DAYS + 1
        return timedelta(days=days if h & 1 << 31 else -days)


__all__ = ["MAX_SHIFT_DAYS", "PatientKey", "PseudonymKey", "SurrogateKey"]
