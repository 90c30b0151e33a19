"""The data directory holds PHI: it and everything vitalstream creates are owner-only.

Two measures at the root rather than a ``chmod`` per file:

* :func:`make_private` sets the process umask to ``077`` (the CLI does it first thing), so every
  file and directory created afterwards — the SQLite log and its WAL, the DuckDB warehouse,
  lake files, checkpoints, by whichever library — is ``0600`` / ``0700``. Child processes
  (``up`` runs each component as one) inherit the umask.
* :func:`ensure_home` creates the home ``0700``. A home that already exists with wider
  permissions is not changed (an operator may share it with a group on purpose): it gets a
  warning naming the ``chmod`` that closes it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

PRIVATE_UMASK = 0o077
HOME_MODE = 0o700


def make_private() -> Callable[[], None]:
    """Files and directories this process (and its children) create are owner-only.

    Returns a function that puts the previous umask back."""
    old = os.umask(PRIVATE_UMASK)

    def restore() -> None:
        os.umask(old)

    return restore


def ensure_home(home: Path) -> str | None:
    """Create ``home`` owner-only if missing; return a warning if it is open to others."""
    if not home.exists():
        home.mkdir(mode=HOME_MODE, parents=True, exist_ok=True)
        home.chmod(HOME_MODE)  # mkdir's mode passes through the umask; be explicit
        return None
    mode = stat.S_IMODE(home.stat().st_mode)
    if home.is_dir() and mode & 0o077:
        return (f"{home} is open to other users (mode {mode:04o}) and holds PHI: "
                f"run `chmod 700 {home}` (see docs/security.md)")
    return None


__all__ = ["HOME_MODE", "PRIVATE_UMASK", "ensure_home", "make_private"]
