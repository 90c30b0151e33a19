"""How the HTTP ingest server may be exposed: TLS, and the refusals that keep it safe.

The server refuses to start (:class:`~vitalstream.errors.ConfigError`, one line) when it would
listen on a non-loopback address without TLS, or run with authentication off, unless
``http.insecure`` (``--insecure``) is set; then it starts with a loud warning. TLS comes from
``http.tls_cert`` / ``http.tls_key`` (PEM files), checked here so a bad file is one clear
error rather than a traceback from inside uvicorn.
"""

from __future__ import annotations

import ipaddress
import ssl
from typing import Any

from ..config import HttpSettings
from ..errors import ConfigError


def is_loopback(host: str) -> bool:
    """``127.0.0.0/8``, ``::1`` and ``localhost``; any other name or address is exposed."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warnings(http: HttpSettings, host: str) -> list[str]:
    """Refuse an unsafe exposure (ConfigError) unless ``http.insecure``; return the warnings
    to show when it is allowed anyway."""
    problems = []
    if not http.auth:
        problems.append("authentication is off (http.auth=false, VITALSTREAM_HTTP_AUTH): "
                        "anyone who reaches the port may write any patient's data")
    if not http.tls_cert and not is_loopback(host):
        problems.append(f"listening on {host} without TLS: keys and PHI would cross the "
                        "network in clear (set --tls-cert/--tls-key, or bind 127.0.0.1)")
    if problems and not http.insecure:
        raise ConfigError("refusing to start: " + "; ".join(problems)
                          + "; pass --insecure (VITALSTREAM_HTTP_INSECURE=true) to start anyway")
    return [f"INSECURE: {p}" for p in problems]


def tls_options(http: HttpSettings) -> dict[str, Any]:
    """uvicorn's TLS options for ``http.tls_cert``/``http.tls_key`` (empty: plain HTTP)."""
    if not http.tls_cert and not http.tls_key:
        return {}
    if not (http.tls_cert and http.tls_key):
        raise ConfigError("http.tls_cert and http.tls_key (--tls-cert/--tls-key) go together")
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(http.tls_cert, http.tls_key)
    except FileNotFoundError as exc:
        raise ConfigError(f"TLS: {exc.filename} does not exist (http.tls_cert/http.tls_key)") from None
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"TLS: cannot load certificate {http.tls_cert} with key {http.tls_key} "
                          f"({getattr(exc, 'reason', None) or type(exc).__name__})") from None
    return {"ssl_certfile": http.tls_cert, "ssl_keyfile": http.tls_key}
