"""The lake's filesystem: a URL (``file://``, ``s3://``, ``memory://``) → an fsspec filesystem.

Local writes go to a hidden temporary file that is renamed into place, so a ``kill -9`` never
leaves a torn file under its final name; S3 puts are atomic. The lake holds PHI: on local disk
every file it writes is owner-only (0600) and every directory it creates 0700.
"""

from __future__ import annotations

import os
import posixpath
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from ...errors import ConfigError

DEFAULT_ROTATE_RECORDS = 10_000
DEFAULT_FLUSH_S = 10.0  # longest a record waits in memory before it is durable in the lake
FORMATS = {"parquet": "parquet", "jsonl": "jsonl"}


@dataclass(frozen=True)
class LakeLocation:
    """A lake root parsed from its URL: the fsspec filesystem, the root path and options."""

    fs: Any
    root: str
    format: str
    rotate_records: int
    url: str
    flush_s: float = DEFAULT_FLUSH_S


def open_lake(url: str, format: str | None = None, rotate_records: int | None = None,
              flush_s: float | None = None) -> LakeLocation:
    """Parse ``file://``, ``s3://`` or ``memory://`` lake URLs (query options stripped):
    ``format`` (``parquet``, ``jsonl``), ``rotate_records`` (records per file at most) and
    ``flush_s`` (seconds a record may wait in the sink's memory before it is written)."""
    import fsspec

    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    fmt = (format or query.pop("format", "parquet")).lower()
    query.pop("format", None)
    if fmt not in FORMATS:
        raise ConfigError(f"lake format {fmt!r}: allowed: {', '.join(FORMATS)}")
    rotate = rotate_records or int(query.pop("rotate_records", DEFAULT_ROTATE_RECORDS))
    query.pop("rotate_records", None)
    if rotate < 1:
        raise ConfigError("lake rotate_records must be >= 1")
    try:
        flush = float(query.pop("flush_s", DEFAULT_FLUSH_S)) if flush_s is None else flush_s
    except ValueError:
        raise ConfigError(f"lake url {url!r}: flush_s must be a number of seconds") from None
    query.pop("flush_s", None)
    if not 0 <= flush <= 3600:
        raise ConfigError("lake flush_s must be between 0 and 3600 seconds")
    scheme = parts.scheme or "file"
    if scheme == "file":
        root = parts.path if not parts.netloc else f"/{parts.netloc}{parts.path}"
        fs = fsspec.filesystem("file", auto_mkdir=True)
        root = fs._strip_protocol(root)
    elif scheme == "s3":
        from ...errors import require

        require("s3fs", "s3")
        endpoint = query.pop("endpoint_url", None) or os.environ.get("AWS_ENDPOINT_URL_S3") \
            or os.environ.get("AWS_ENDPOINT_URL")
        region = query.pop("region", None) or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        client_kwargs: dict[str, Any] = {"region_name": region}
        if endpoint:
            client_kwargs["endpoint_url"] = endpoint
        fs = fsspec.filesystem(
            "s3", client_kwargs=client_kwargs, use_listings_cache=False, skip_instance_cache=True,
            # fail fast to the sink's own backoff loop instead of retrying inside botocore
            config_kwargs={"connect_timeout": 5, "read_timeout": 30, "retries": {"max_attempts": 2}},
            anon=query.pop("anon", "false").lower() in ("1", "true"),
        )
        root = f"{parts.netloc}{parts.path}".rstrip("/")
    elif scheme == "memory":
        fs = fsspec.filesystem("memory")
        root = f"/{parts.netloc}{parts.path}".rstrip("/")
    else:
        raise ConfigError(f"lake url {url!r}: scheme must be file://, s3:// or memory://")
    if query:
        raise ConfigError(f"lake url {url!r}: unknown options {', '.join(sorted(query))}")
    clean = urlunsplit((scheme, parts.netloc, parts.path, "", ""))
    return LakeLocation(fs, root.rstrip("/"), fmt, rotate, clean, flush)


def transient_errors(fs: Any = None) -> tuple[type[BaseException], ...]:
    """The exceptions of the installed filesystem stacks that mean "unavailable, retry"; for
    ``fs`` local or in memory only ``OSError`` and ``TimeoutError`` (the S3 stacks are not
    imported for it: aiohttp alone costs a sink process ~0.1 s of CPU at start)."""
    errors: list[type[BaseException]] = [OSError, TimeoutError]
    if fs is not None and _protocol(fs) in ("file", "local", "memory"):
        return tuple(errors)
    try:
        from botocore.exceptions import BotoCoreError

        errors.append(BotoCoreError)
    except ImportError:  # pragma: no cover - s3 extra not installed
        pass
    try:
        from aiohttp import ClientError

        errors.append(ClientError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


def _protocol(fs: Any) -> str:
    return fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]


def is_local(fs: Any) -> bool:
    return _protocol(fs) in ("file", "local")


def put_file(fs: Any, path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: complete under its final name, or absent."""
    if is_local(fs):
        d, name = posixpath.split(path)
        tmp = f"{d}/.{name}.tmp-{uuid.uuid4().hex[:8]}"
        make_private_dirs(d)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    else:
        fs.pipe_file(path, data)


def make_private_dirs(path: str) -> None:
    """``mkdir -p`` with mode 0700 for every directory it creates (``os.makedirs`` applies
    its mode to the last one only)."""
    missing: list[str] = []
    while path and not os.path.isdir(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    for d in reversed(missing):
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:  # another writer made it meanwhile
            pass


def remove_file(fs: Any, path: str) -> None:
    try:
        fs.rm(path)
    except FileNotFoundError:
        pass
