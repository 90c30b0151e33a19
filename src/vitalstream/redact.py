"""One place that decides what a secret looks like and hides it: ``***``.

Everything vitalstream shows — ``status``, banners, error lines, log lines, ``--help`` —
passes URLs and settings through here:

* :func:`redact_url`: the password of the user-info (``user:***@host``; a lone user-info,
  which may be a token, becomes ``***@host``) and the value of every query parameter whose
  name looks secret (``password``, ``sasl.password``, ``sasl_password``, ``ssl.key.password``,
  ``sslpassword``, ``secret``, ``token``, ``key``, ``api_key``, ...; case-insensitive).
* :func:`redact_text`: every URL inside free text, every ``name=value`` pair with a secret
  name, and every secret value :func:`remember` was told about (passwords and API keys from the
  configuration), wherever they appear.
* :func:`redact_settings`: a settings object as a dict safe to print.
* :class:`RedactingFilter`: applies :func:`redact_text` to every log record (message, args and
  traceback); :func:`protect_logs` installs it on the root logger's handlers.

>>> redact_url("kafka://b:9092?security.protocol=SASL_SSL&sasl.password=hunter2")
'kafka://b:9092?security.protocol=SASL_SSL&sasl.password=***'
>>> redact_url("postgresql://vs:hunter2@db/vs?sslpassword=x")
'postgresql://vs:***@db/vs?sslpassword=***'
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote_plus, urlsplit

MASK = "***"

# A name is secret when one of its words (split at . _ - and case changes) is, or it ends in
# one of these (``sslpassword``, ``apikey``). Paths to key material (``ssl.key.location``,
# ``key_file``) are not secret: showing them helps and hides nothing.
_SECRET_WORDS = ("password", "passwd", "pwd", "pass", "secret", "token", "key", "keys",
                 "apikey", "credential", "credentials", "jaas", "pem", "signature", "sig",
                 "private", "auth", "authorization")
_NOT_SECRET_ENDINGS = ("location", "file", "path", "dir", "field", "id", "size", "bytes", "env")
_NOT_SECRET_NAMES = {"auth", "http_auth", "api_keys_file"}  # booleans and paths
_WORD = re.compile(r"[a-z0-9]+")
_MIN_REMEMBERED = 4  # shorter values would blank out ordinary words
_NEVER_REMEMBERED = {"true", "false", "none", "null", "yes", "no", MASK}

_lock = threading.Lock()
_remembered: set[str] = set()


def is_secret_name(name: str) -> bool:
    """Does a setting / query parameter / environment variable with this name hold a secret?"""
    low = name.lower()
    if low in _NOT_SECRET_NAMES:
        return False
    words = _WORD.findall(low)
    if not words or words[-1] in _NOT_SECRET_ENDINGS:
        return False
    return any(w in _SECRET_WORDS for w in words) or any(
        low.endswith(s) for s in ("password", "passwd", "secret", "token", "apikey", "api_key"))


def _redact_query(query: str) -> str:
    parts = []
    for item in query.split("&"):
        name, eq, value = item.partition("=")
        if eq and value and is_secret_name(unquote_plus(name)):
            value = MASK
        parts.append(name + eq + value)
    return "&".join(parts)


def redact_url(url: str) -> str:
    """``url`` with its user-info password and secret query values replaced by ``***``.

    Works on the text itself (no parse and rebuild), so everything else stays as written:
    ``sqlite:////abs/path`` keeps its four slashes.
    """
    if not url or "://" not in url:
        return _redact_known(url)
    scheme, rest = url.split("://", 1)
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    if "@" in authority:
        info, _, host = authority.rpartition("@")
        user, colon, _pw = info.partition(":")
        authority = f"{user}:{MASK}@{host}" if colon else f"{MASK}@{host}"
    path, q, query = tail.partition("?")
    query, h, fragment = query.partition("#")
    if not q:
        path, h, fragment = tail.partition("#")
    if "=" in fragment:
        fragment = _redact_query(fragment)
    out = f"{scheme}://{authority}{path}{q}{_redact_query(query) if query else ''}{h}{fragment}"
    return _redact_known(out)


# scheme://... up to whitespace or a quote / closing bracket that usually ends a URL in text.
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s'\"<>`)\]]*[^\s'\"<>`)\].,:;]")
# name=value / name: value pairs (libpq DSNs, librdkafka properties, env dumps, JSON-ish text).
# ``:`` counts only between JSON quotes ("password": "x"): "token: expired" is prose.
_PAIR_IN_TEXT = re.compile(
    r"(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)(?P<sep>\s*=\s*\"?|\"\s*:\s*\"?)(?P<value>[^\s&,;'\"}\]]+)")


def _pair(m: re.Match[str]) -> str:
    value = m.group("value")
    if value.startswith((MASK, "//")) or not is_secret_name(m.group("name")):
        return m.group(0)
    return m.group("name") + m.group("sep") + MASK


def redact_text(text: str, *, urls: bool = True) -> str:
    """Free text (an error message, a log line) with every secret in it replaced."""
    if not text:
        return text
    if urls and "://" in text:
        text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
    if "=" in text or ":" in text:
        text = _PAIR_IN_TEXT.sub(_pair, text)
    return _redact_known(text)


def _redact_known(text: str) -> str:
    with _lock:
        known = sorted(_remembered, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def remember(values: Iterable[str | None]) -> None:
    """Hide these exact values from now on wherever :func:`redact_text` looks."""
    with _lock:
        _remembered.update(v for v in values
                           if v and len(v) >= _MIN_REMEMBERED and v.lower() not in _NEVER_REMEMBERED)


def secrets_in_url(url: str) -> list[str]:
    """The secret values a URL carries (its password, its secret query values)."""
    out: list[str] = []
    try:
        parts = urlsplit(url)
    except ValueError:
        return out
    if parts.password:
        out += [parts.password, unquote_plus(parts.password)]
    elif parts.username and "@" in parts.netloc:
        out += [parts.username]
    for item in parts.query.split("&"):
        name, eq, value = item.partition("=")
        if eq and value and is_secret_name(unquote_plus(name)):
            out += [value, unquote_plus(value)]
    return out


def remember_settings(settings: Any, environ: Mapping[str, str] | None = None) -> None:
    """Remember every secret the configuration and the environment hold.

    URLs (their passwords, secret query values), settings with secret names (API keys: for a
    ``device_id:key`` pair, the key), and ``VITALSTREAM_*`` environment variables with secret
    names (``VITALSTREAM_KAFKA_SASL_PASSWORD``).
    """
    found: list[str] = []

    def walk(name: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(str(k), v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(name, v)
        elif isinstance(value, str):
            if "://" in value:
                found.extend(secrets_in_url(value))
            elif is_secret_name(name):
                found.append(value)
                found.append(_key_part(value))

    walk("", _builtins(settings))
    env = os.environ if environ is None else environ
    for name, value in env.items():
        if name.startswith("VITALSTREAM_") and is_secret_name(name[len("VITALSTREAM_"):]):
            found.append(value)
            found.extend(_key_part(v.strip()) for v in value.split(","))
    remember(found)


def _key_part(value: str) -> str:
    """The key of an ``id=key`` or ``id:key`` pair (a key may itself hold ``=`` or ``:``)."""
    for sep in ("=", ":"):
        if sep in value:
            return value.partition(sep)[2]
    return value


def _builtins(settings: Any) -> Any:
    if settings is None or isinstance(settings, Mapping | str | int | float | bool | list | tuple):
        return settings
    import msgspec

    return msgspec.to_builtins(settings)


def redact_settings(settings: Any) -> Any:
    """Settings (a msgspec Struct or plain dicts) as builtins safe to print."""

    def walk(name: str, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: walk(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(name, v) for v in value]
        if isinstance(value, str):
            if value and is_secret_name(name):
                return MASK
            return redact_url(value) if "://" in value else _redact_known(value)
        return value

    return walk("", _builtins(settings))


class RedactingFilter(logging.Filter):
    """Replaces secrets in a record's message, arguments and traceback before any handler
    formats it. Installed on handlers, so records propagated from every logger pass it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: log what there is rather than nothing
            message = str(record.msg)
        record.msg, record.args = redact_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


_FILTER = RedactingFilter()


def protect_logs(settings: Any = None) -> None:
    """Remember ``settings``' secrets and put the redacting filter on every root handler
    (call after ``logging.basicConfig``; idempotent)."""
    if settings is not None:
        remember_settings(settings)
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)


__all__ = ["MASK", "RedactingFilter", "is_secret_name", "protect_logs", "redact_settings",
           "redact_text", "redact_url", "remember", "remember_settings", "secrets_in_url"]
