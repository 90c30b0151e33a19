"""Lazy ``"module:Class"`` registries: a backend's module is imported only when chosen."""

from __future__ import annotations

import importlib
from typing import Any

from .errors import MissingExtraError


def load(target: str, extra: str | None = None) -> Any:
    """Import ``module:attr``. A missing third-party module raises MissingExtraError(extra)."""
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if extra is None or (exc.name or "").startswith("vitalstream"):
            raise
        raise MissingExtraError(exc.name or module_name, extra) from exc
    return getattr(module, attr)
