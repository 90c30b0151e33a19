"""One typed, frozen configuration.

Precedence, lowest first: defaults < ``vitalstream.toml`` (or ``--config FILE``) <
environment < command-line flags.

Environment rule: ``VITALSTREAM_<SECTION>_<FIELD>`` in upper case, e.g. ``VITALSTREAM_LOG_URL``
(top-level ``log_url``), ``VITALSTREAM_HTTP_PORT`` (``[http] port``). Lists are comma-separated.
The TOML file uses the same names: top-level keys and one table per section.

The embedded defaults (log, warehouse, lake) all live under ``home``, so one ``--home DIR``
isolates a whole pipeline. A bad value fails at start-up with :class:`ConfigError` naming the
setting and what is allowed.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

from .errors import ConfigError
from .redact import redact_url as redact_url  # re-exported: older callers import it from config
from .registry import check_url

ENV_PREFIX = "VITALSTREAM_"
DEFAULT_FILE = "vitalstream.toml"


class _Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class HttpSettings(_Section, frozen=True):
    host: str = "127.0.0.1"
    port: int = 62333
    # API keys as "id=key" pairs, split at the first "=" (a key may hold ":" or "="), one
    # setting per role; or keys_file with "ROLE ID=KEY" lines. See sources/auth.py.
    device_keys: tuple[str, ...] = ()  # id = the one device the key may send for
    gateway_keys: tuple[str, ...] = ()  # any device, raw topics only
    admin_keys: tuple[str, ...] = ()  # any device and the reference topics
    keys_file: str = ""
    # Deprecated: "device_id:key" or a bare gateway key. Empty keys + auth on means every
    # request is refused.
    api_keys: tuple[str, ...] = ()
    auth: bool = True
    # Start anyway with auth off or on a non-loopback address without TLS (loud warning).
    insecure: bool = False
    tls_cert: str = ""  # PEM certificate (chain) file: serve HTTPS
    tls_key: str = ""  # its PEM private key
    max_body_bytes: int = 4 * 1024 * 1024
    body_timeout_s: float = 10.0  # the whole body must arrive within this, else 408
    rate_per_device: float = 200.0  # events/s per device key (token bucket, 1 s burst)
    rate_per_gateway: float = 5000.0  # events/s per gateway/admin key (and with auth off)


class MqttSettings(_Section, frozen=True):
    url: str = ""  # mqtt://user:password@host:port ; mqtts:// for TLS
    topics: tuple[str, ...] = ("health/device_data",)
    client_id: str = "vitalstream-bridge"
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""


class ProcessSettings(_Section, frozen=True):
    # records per batch while catching up: each batch writes one state snapshot per patient it
    # touched, so a backlog drains with fewer of them (5000 -> 20000: -2 CPU-us per event)
    max_batch: int = 20000
    max_wait_ms: int = 100  # micro-batch time bound: latency stays low at low rates
    # once records are there, wait this long for more before processing them: fewer, larger
    # batches at a ward's rate (each has fixed costs), at most this much added latency
    linger_ms: int = 10
    # cap a batch at what the processor handles in about this long (measured as it runs):
    # records wait for the batch ahead of them, so at a high rate this bounds alert latency;
    # 0 = always up to max_batch
    max_batch_ms: int = 20
    news2_freshness_s: int = 3600
    dedup_window: int = 100_000  # recent event ids remembered per worker
    # fused: one process runs both stages (one worker only); split: a stateless and a stateful
    # stage joined by the repartition topic; auto: fused for one worker on the embedded log.
    stages: Literal["auto", "fused", "split"] = "auto"


class SimulateSettings(_Section, frozen=True):
    profiles: tuple[str, ...] = ("vitals", "device", "heart-rate", "smartwatch")
    patients: int = 50
    rate: float = 200.0  # events per second per profile
    seed: int = 0


class FhirSettings(_Section, frozen=True):
    # How exported resources name a patient: "pseudonym" (keyed HMAC, see privacy) or
    # "identifier" (the patient id itself, for an EHR that must match its own records).
    patient_reference: str = "pseudonym"
    identifier_system: str = "urn:vitalstream:patient-id"  # Identifier.system in "identifier" mode
    base_url: str = "https://vitalstream.invalid/fhir"  # Bundle entries' fullUrl base
    stream: bool = False  # `up` also runs the fhir-observations sink (FHIR JSON to Kafka)


class PrivacySettings(_Section, frozen=True):
    pseudonym_key: str = ""  # secret: env VITALSTREAM_PRIVACY_PSEUDONYM_KEY
    pseudonym_key_file: str = ""  # or a file holding the key
    pseudonym_key_id: str = "k1"  # tags every pseudonym, so a rotated key is visible


class ModelSettings(_Section, frozen=True):
    # `vitalstream up` runs the warehouse model (dbt build) this often; 0 turns it off. The
    # demo default is a few minutes; production configurations set a day (86400).
    interval_s: float = 300.0


class DashboardSettings(_Section, frozen=True):
    host: str = "127.0.0.1"  # loopback: PHI is on every page
    port: int = 8050
    # Accounts, one per line "ROLE NAME HASH" (roles clinician, analyst, admin; HASH an argon2
    # hash from `vitalstream dashboard user add`), here and/or in users_file (default
    # <home>/dashboard-users). Nothing has a default password.
    users: tuple[str, ...] = ()
    users_file: str = ""
    session_minutes: int = 480  # a login lasts this long (sessions live in the dashboard's memory)
    insecure: bool = False  # allow a non-loopback host without TLS in front (loud warning)


class Settings(_Section, frozen=True):
    home: str = "./vitalstream-data"
    log_url: str = ""  # default: sqlite:///<home>/log.db
    warehouse_url: str = ""  # default: duckdb:///<home>/warehouse.duckdb
    lake_url: str = ""  # default: file://<home>/lake
    docstore_url: str = ""  # mongodb://… : processed clinical entries also go to MongoDB (off if empty)
    # Copy dead letters' keys and payloads (PHI) into the warehouse's dead_letters table too;
    # off: the table keeps where and why, the payload stays on the log's dlq-topic only.
    warehouse_dead_letter_payloads: bool = False
    # How long the warehouse sink's batches gather once records are there (``up``: in the
    # dashboard process on DuckDB, else in ``sinks``). Each batch costs a transaction and a
    # dedup scan per table whatever its size: at a ward's rate that, not the rows, is the
    # sink's CPU. History and reports may lag the live board (fed from the log) by this much.
    warehouse_linger_ms: int = 2000
    partitions: int = 6
    retention_hours: float = 168.0  # one week, as the seed topics
    replication_factor: int = 1
    log_level: str = "INFO"
    http: HttpSettings = HttpSettings()
    mqtt: MqttSettings = MqttSettings()
    process: ProcessSettings = ProcessSettings()
    simulate: SimulateSettings = SimulateSettings()
    fhir: FhirSettings = FhirSettings()
    privacy: PrivacySettings = PrivacySettings()
    model: ModelSettings = ModelSettings()
    dashboard: DashboardSettings = DashboardSettings()

    @property
    def home_path(self) -> Path:
        return Path(self.home).expanduser().resolve()

    @property
    def retention_ms(self) -> int:
        return int(self.retention_hours * 3600 * 1000)


_SECTIONS = {f: t for f, t in Settings.__annotations__.items() if t.endswith("Settings")}
_TUPLE_FIELDS = {
    (sec, f)
    for sec, cls in (("", Settings), *((s, globals()[t]) for s, t in _SECTIONS.items()))
    for f, t in cls.__annotations__.items()
    if str(t).startswith("tuple")
}


# Not settings: TEST_* point tests at services, SERVICES_* configure scripts/services, KAFKA_*
# pass through to librdkafka, BENCH_* point the benchmark at a broker, API_KEY is the replay
# client's key, and a double underscore marks internal hand-offs between processes.
_NOT_SETTINGS = tuple(ENV_PREFIX + p for p in ("TEST_", "SERVICES_", "KAFKA_", "BENCH_", "API_KEY", "_"))


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name.startswith(_NOT_SETTINGS):
            continue
        key = name[len(ENV_PREFIX):].lower()
        section = next((s for s in _SECTIONS if key.startswith(s + "_")), None)
        if section:
            field = key[len(section) + 1:]
            target = out.setdefault(section, {})
        else:
            field, target = key, out
        if (section or "", field) in _TUPLE_FIELDS:
            target[field] = [v.strip() for v in value.split(",") if v.strip()]
        else:
            target[field] = value
    return out


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _merge(out[k], v)
        elif v is not None:
            out[k] = v
    return out


def _convert(data: dict[str, Any], origin: str) -> Settings:
    try:
        return msgspec.convert(data, Settings, strict=False)
    except msgspec.ValidationError as exc:
        # msgspec says e.g. "Expected `int`, got `str` - at `$.http.port`": name the setting.
        msg = str(exc)
        where = msg.rsplit("at `$.", 1)[-1].rstrip("`") if "at `$." in msg else ""
        setting = where.replace(".", "_").upper()
        hint = f" (setting {where}, env {ENV_PREFIX}{setting})" if where else ""
        raise ConfigError(f"invalid configuration from {origin}{hint}: {msg}") from None


def load(
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings: defaults < file < environment < ``overrides`` (CLI flags)."""
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    path = Path(config_file) if config_file else Path(environ.get(ENV_PREFIX + "CONFIG", DEFAULT_FILE))
    if config_file and not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
        _convert(data, str(path))  # fail early, naming the file
    env = _from_env(environ)
    env.pop("config", None)
    data = _merge(data, env)
    data = _merge(data, overrides or {})
    settings = _convert(data, "file/environment/flags")
    return _validate(_fill_defaults(settings))


def _fill_defaults(s: Settings) -> Settings:
    home = s.home_path
    return msgspec.structs.replace(
        s,
        home=str(home),
        log_url=s.log_url or f"sqlite:///{home}/log.db",
        warehouse_url=s.warehouse_url or f"duckdb:///{home}/warehouse.duckdb",
        lake_url=s.lake_url or f"file://{home}/lake",
    )


def _validate(s: Settings) -> Settings:
    # The schemes come from the backend registry: a new backend needs no edit here.
    urls = [("log_url", "log", s.log_url), ("warehouse_url", "warehouse", s.warehouse_url),
            ("lake_url", "lake", s.lake_url)]
    if s.mqtt.url:  # the MQTT bridge is optional
        urls.append(("mqtt_url", "mqtt", s.mqtt.url))
    if s.docstore_url:  # so is the document store
        urls.append(("docstore_url", "docstore", s.docstore_url))
    for name, kind, url in urls:
        check_url(kind, url, f"setting {name} (env {ENV_PREFIX}{name.upper()})")
    checks = [
        ("partitions", s.partitions >= 1, "an integer >= 1"),
        ("replication_factor", s.replication_factor >= 1, "an integer >= 1"),
        ("retention_hours", s.retention_hours > 0, "a number of hours > 0"),
        ("http_port", 0 <= s.http.port <= 65535, "a port 0-65535"),
        ("http_max_body_bytes", s.http.max_body_bytes > 0, "a size in bytes > 0"),
        ("http_rate_per_device", s.http.rate_per_device > 0, "events per second > 0"),
        ("http_rate_per_gateway", s.http.rate_per_gateway > 0, "events per second > 0"),
        ("http_body_timeout_s", s.http.body_timeout_s > 0, "seconds > 0"),
        ("http_tls_key", bool(s.http.tls_cert) == bool(s.http.tls_key),
         "set together with http_tls_cert (both or neither)"),
        ("dashboard_port", 0 <= s.dashboard.port <= 65535, "a port 0-65535"),
        ("dashboard_session_minutes", s.dashboard.session_minutes > 0, "minutes > 0"),
        ("warehouse_linger_ms", s.warehouse_linger_ms >= 0, "milliseconds >= 0"),
        ("process_max_batch", s.process.max_batch >= 1, "an integer >= 1"),
        ("process_max_wait_ms", s.process.max_wait_ms >= 0, "milliseconds >= 0"),
        ("process_linger_ms", s.process.linger_ms >= 0, "milliseconds >= 0"),
        ("process_max_batch_ms", s.process.max_batch_ms >= 0, "milliseconds >= 0"),
        ("process_news2_freshness_s", s.process.news2_freshness_s > 0, "seconds > 0"),
        ("simulate_patients", s.simulate.patients >= 1, "an integer >= 1"),
        ("simulate_rate", s.simulate.rate > 0, "events per second > 0"),
        ("fhir_patient_reference", s.fhir.patient_reference in ("pseudonym", "identifier"),
         "pseudonym or identifier"),
        ("model_interval_s", s.model.interval_s >= 0, "seconds >= 0 (0: off)"),
        ("log_level", s.log_level.upper() in ("DEBUG", "INFO", "WARNING", "ERROR"),
         "DEBUG, INFO, WARNING or ERROR"),
    ]
    for name, ok, allowed in checks:
        if not ok:
            raise ConfigError(f"setting {name} (env {ENV_PREFIX}{name.upper()}) must be {allowed}")
    return s
