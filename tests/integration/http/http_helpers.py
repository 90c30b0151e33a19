"""Shared by the HTTP integration tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

from typing import Any

from vitalstream.config import Settings, load

GATEWAY_KEY = "gateway-key-0123456789"
DEVICE_KEY = "device-key-sw-0001"
ADMIN_KEY = "admin-key:with=colon"
KEYS = {"gateway_keys": [f"gw={GATEWAY_KEY}"], "device_keys": [f"sw-0001={DEVICE_KEY}"],
        "admin_keys": [f"ops={ADMIN_KEY}"]}


def make_settings(tmp_path, **http: Any) -> Settings:
    http = {**KEYS, "rate_per_device": 1e6, "rate_per_gateway": 1e6, **http}
    return load(environ={}, overrides={"home": str(tmp_path), "partitions": 2, "http": http})
