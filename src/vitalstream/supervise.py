"""Running components as processes: what ``vitalstream up`` and ``process`` do.

Each component (a simulator, a processor worker, the sinks, an edge) runs in its own process
so the pipeline uses every core; they share nothing but the log and one stop event. Ctrl-C or
SIGTERM sets the event: every worker finishes its in-flight batch, commits and exits, and the
supervisor returns 0. A component that dies is reported and stops the run with exit code 1.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from . import topics as T
from .config import Settings
from .errors import ConfigError
from .log import is_private_group

logger = logging.getLogger(__name__)

OWN_GROUP_PREFIX = "vitalstream-"  # the processor's and the sinks' consumer groups


@dataclass(frozen=True)
class Component:
    name: str
    kind: str  # a key of RUNNERS: simulate | processor | sinks | serve | mqtt
    profile: str | None = None
    count: int | None = None
    to: str = "log"  # a simulator's target: the log, or an edge URL (http://…, mqtt://…)

    def __post_init__(self) -> None:
        if self.kind not in RUNNERS:
            raise ConfigError(f"component {self.name}: unknown kind {self.kind!r}; "
                              f"choose from {', '.join(RUNNERS)}")


def sink_components(settings: Settings) -> list[Component]:
    try:
        import vitalstream.sinks  # noqa: F401
    except ImportError as exc:
        logger.warning("sinks not available (%s): running without lake and warehouse", exc)
        return []
    return [Component("sinks", "sinks")]


def notes_components(settings: Settings) -> list[Component]:
    """The notes stage (its own process), when the ``notes`` extra is installed."""
    import importlib.util

    if importlib.util.find_spec("medspacy") is None or importlib.util.find_spec("spacy") is None:
        logger.warning("notes extraction not available (pip install 'vitalstream[notes]'): "
                       "medical-entries wait unprocessed")
        return []
    return [Component("notes", "notes")]


def _local_stop(shared: Any) -> threading.Event:
    """A thread-local stop event that follows the shared one and SIGTERM.

    Nobody ever *waits* on the shared multiprocessing.Event: a waiter registers as a sleeper
    on its condition, and ``set()`` then waits for every sleeper to acknowledge — forever, if
    the sleeper's process has exited (a finished simulator) or if the waiter is the thread a
    signal handler interrupted. So a watcher thread polls ``is_set()`` and mirrors it into a
    threading.Event, which is also what SIGTERM sets.
    """
    local = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: local.set())

    def mirror() -> None:
        while not shared.is_set() and not local.is_set():
            time.sleep(0.1)
        local.set()

    threading.Thread(target=mirror, name="stop-mirror", daemon=True).start()
    return local


def _child(comp: Component, settings_json: bytes, shared_stop: Any, level: str) -> None:
    # Ctrl-C reaches the whole process group: let the supervisor decide, via the event.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop = _local_stop(shared_stop)
    logging.basicConfig(level=level, format=f"%(asctime)s %(levelname)s [{comp.name}] %(name)s: %(message)s",
                        stream=sys.stderr)
    s = msgspec.json.decode(settings_json, type=Settings)
    from .redact import protect_logs

    protect_logs(s)  # this process's log lines pass the same redaction as the CLI's
    RUNNERS[comp.kind](comp, s, stop)


def _simulate(comp: Component, s: Settings, stop: threading.Event) -> None:
    from .simulate.run import SimulatorSource

    if comp.to.startswith("http://"):
        _wait_for_port(comp.to, stop)
    SimulatorSource(s, comp.profile or "vitals", count=comp.count, to=comp.to).run(stop)


def _processor(comp: Component, s: Settings, stop: threading.Event) -> None:
    from .log import open_log
    from .processing import VitalsProcessor
    from .runtime import run_worker

    log = open_log(s.log_url)
    T.ensure_all(log, s.partitions, s.retention_ms, s.replication_factor)
    proc = VitalsProcessor(log, s.process, stop=stop, partitions=s.partitions)
    run_worker(log, proc, stop, max_records=s.process.max_batch, max_wait_s=s.process.max_wait_ms / 1000)
    logger.info("processor stopped: %s", dict(proc.stats))


def _notes(comp: Component, s: Settings, stop: threading.Event) -> None:
    from .log import open_log
    from .notes.stage import NotesStage
    from .runtime import run_worker

    log = open_log(s.log_url)
    T.ensure_all(log, s.partitions, s.retention_ms, s.replication_factor)
    stage = NotesStage(log, stop=stop)
    run_worker(log, stage, stop, max_records=min(s.process.max_batch, 2000), max_wait_s=s.process.max_wait_ms / 1000)
    logger.info("notes stopped: %s", dict(stage.stats))


def _sinks(comp: Component, s: Settings, stop: threading.Event) -> None:
    from .log import open_log
    from .runtime import run_worker
    from .sinks import build_sinks

    log = open_log(s.log_url)
    T.ensure_all(log, s.partitions, s.retention_ms, s.replication_factor)
    threads = [
        threading.Thread(target=run_worker, args=(log, w, stop), kwargs={"max_records": 20_000, "max_wait_s": 0.2},
                         name=w.group)
        for w in build_sinks(log, s)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _mqtt(comp: Component, s: Settings, stop: threading.Event) -> None:
    from .log import open_log
    from .sources.mqtt import MqttBridge

    MqttBridge(open_log(s.log_url), s).run(stop)


def _serve(comp: Component, s: Settings, stop: threading.Event) -> None:
    from .sources.http import HttpSource

    HttpSource(s).run(stop)


#: What each component kind runs in its process (imports stay inside: a child loads only its own).
RUNNERS: dict[str, Callable[[Component, Settings, threading.Event], None]] = {
    "simulate": _simulate, "processor": _processor, "sinks": _sinks, "mqtt": _mqtt, "serve": _serve,
    "notes": _notes,
}


def _wait_for_port(url: str, stop: Any, timeout: float = 60.0) -> None:
    """Wait until the edge a simulator sends to accepts connections (it starts in parallel)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    deadline = time.monotonic() + timeout
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=1):
                return
        except OSError:
            stop.wait(0.2)


def supervise(
    settings: Settings,
    components: list[Component],
    *,
    duration: float | None = None,
    until_idle: bool = False,
    progress: bool = True,
) -> int:
    """Run ``components`` until Ctrl-C, ``duration`` or idleness. Returns the exit code."""
    from .log import open_log

    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    with open_log(settings.log_url) as log:
        T.ensure_all(log, settings.partitions, settings.retention_ms, settings.replication_factor)
    payload = msgspec.json.encode(settings)
    procs = {c.name: ctx.Process(target=_child, args=(c, payload, stop, settings.log_level.upper()),
                                 name=c.name, daemon=False) for c in components}
    for p in procs.values():
        p.start()
    interrupted = threading.Event()  # set by the handler; the shared event is set below

    def on_signal(*_: object) -> None:
        interrupted.set()

    old_int = signal.signal(signal.SIGINT, on_signal)
    old_term = signal.signal(signal.SIGTERM, on_signal)
    code = 0
    started = time.monotonic()
    view = _Progress(settings) if progress else None
    idle_checks = 0
    last_retention = time.monotonic()
    try:
        while not interrupted.is_set():
            interrupted.wait(1.0)
            if time.monotonic() - last_retention > 60:
                last_retention = time.monotonic()
                _enforce_retention(settings)
            if view is not None:
                view.update(procs)
            dead = [n for n, p in procs.items() if p.exitcode not in (None, 0)]
            if dead:
                logger.error("component(s) %s failed; stopping", ", ".join(dead))
                code = 1
                break
            if duration is not None and time.monotonic() - started >= duration:
                break
            if until_idle:
                sims_done = all(p.exitcode is not None for n, p in procs.items() if n.startswith("simulate-"))
                idle_checks = idle_checks + 1 if sims_done and _all_caught_up(settings) else 0
                if idle_checks >= 3:
                    break
    finally:
        stop.set()
        deadline = time.monotonic() + 60
        for p in procs.values():
            p.join(timeout=max(0.1, deadline - time.monotonic()))
        for name, p in procs.items():
            if p.is_alive():
                logger.warning("%s did not stop in time; terminating", name)
                p.terminate()
                p.join(5)
        if view is not None:
            view.close(procs)
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
    if code == 0 and any(p.exitcode not in (0, None, -signal.SIGTERM) for p in procs.values()):
        code = 1
    return code


def _enforce_retention(settings: Settings) -> None:
    """Time retention and compaction of the embedded log (Kafka's broker does its own)."""
    from .log import open_log

    with open_log(settings.log_url) as log:
        removed = log.enforce_retention()
    if removed:
        logger.info("retention/compaction removed %d records", removed)


def _all_caught_up(settings: Settings) -> bool:
    """True when the processor and every sink group of vitalstream's own have no lag.

    Only groups named ``vitalstream-*`` count: a shared Kafka cluster holds other teams'
    groups (and tests' groups) whose lag is none of this pipeline's business.
    """
    from .log import open_log
    from .notes.stage import NOTES_GROUP
    from .processing.processor import INPUT_TOPICS, PROCESSOR_GROUP

    with open_log(settings.log_url) as log:
        if sum(g.lag for g in log.group_lag(PROCESSOR_GROUP, list(INPUT_TOPICS))) > 0:
            return False
        # the notes stage by name: before its first commit it has no lag to list
        if sum(g.lag for g in log.group_lag(NOTES_GROUP, [T.MEDICAL_ENTRIES])) > 0:
            return False
        for g in log.list_groups():
            if g.startswith(OWN_GROUP_PREFIX) and g != PROCESSOR_GROUP and not is_private_group(g):
                if any(x.lag > 0 for x in log.group_lag(g)):
                    return False
    return True


class _Progress:
    """A live table: records per topic and rate, consumer-group lag, component state."""

    def __init__(self, settings: Settings) -> None:
        from rich.console import Console
        from rich.live import Live

        from .log import open_log

        self.log = open_log(settings.log_url)
        self.console = Console(stderr=True)
        self.live = Live(console=self.console, refresh_per_second=2, transient=False)
        self.live.start()
        self.last: dict[str, tuple[float, int]] = {}

    def update(self, procs: dict[str, Any]) -> None:
        from rich.table import Table

        now = time.monotonic()
        t = Table(title="vitalstream — live (Ctrl-C to stop)", expand=False)
        for col in ("topic", "records", "per s"):
            t.add_column(col, justify="right" if col != "topic" else "left")
        for name in self.log.list_topics():
            n = self.log.describe_topic(name).records
            if not n:
                continue
            prev_t, prev_n = self.last.get(name, (now, n))
            rate = (n - prev_n) / (now - prev_t) if now > prev_t else 0.0
            self.last[name] = (now, n)
            t.add_row(name, f"{n:,}", f"{rate:,.0f}")
        g = Table(title="consumer groups")
        g.add_column("group")
        g.add_column("lag", justify="right")
        for name in self.log.list_groups():
            if not is_private_group(name):
                g.add_row(name, f"{sum(x.lag for x in self.log.group_lag(name)):,}")
        c = Table(title="components")
        c.add_column("component")
        c.add_column("state")
        for name, p in procs.items():
            c.add_row(name, "running" if p.is_alive() else f"exited {p.exitcode}")
        from rich.columns import Columns

        self.live.update(Columns([t, g, c]))

    def close(self, procs: dict[str, Any]) -> None:
        try:
            self.update(procs)
        finally:
            self.live.stop()
            self.log.close()
