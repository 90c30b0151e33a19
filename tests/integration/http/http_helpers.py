"""Shared by the HTTP integration tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

from typing import Any

from vitalstream.config import Settings, load

GATEWAY_KEY = "gateway-key-0123456789"
DEVICE_KEY = "device-key-sw-0001"
KEYS = [GATEWAY_KEY, f"sw-0001:{DEVICE_KEY}"]


def make_settings(tmp_path, **http: Any) -> Settings:
    http = {"api_keys": KEYS, "rate_per_device": 1e6, **http}
    return load(environ={}, overrides={"home": str(tmp_path), "partitions": 2, "http": http})
