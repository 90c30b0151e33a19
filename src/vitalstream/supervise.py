"""Running components as processes: what ``vitalstream up`` and ``process`` do.

Each component (a simulator, a processor worker, the sinks, an edge) runs in its own process
so the pipeline uses every core; they share nothing but the log and one stop event. Ctrl-C or
SIGTERM sets the event: every worker finishes its in-flight batch, commits and exits, and the
supervisor returns 0. A component that dies is reported and stops the run with exit code 1.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from . import topics as T
from .config import Settings
from .errors import ConfigError
from .log import is_private_group

logger = logging.getLogger(__name__)

OWN_GROUP_PREFIX = "vitalstream-"  # the processor's and the sinks' consumer groups
ORPHAN_GRACE_S = 15.0  # how long a component may take to stop once its supervisor died


@dataclass(frozen=True)
class Component:
    name: str
    kind: str  # a key of RUNNERS: simulate | processor | prepare | score | sinks | serve | mqtt | model | dashboard
    profile: str | None = None
    count: int | None = None
    to: str = "log"  # a simulator's target: the log, or an edge URL (http://…, mqtt://…)

    def __post_init__(self) -> None:
        if self.kind not in RUNNERS:
            raise ConfigError(f"component {self.name}: unknown kind {self.kind!r}; "
                              f"choose from {', '.join(RUNNERS)}")


def processor_components(settings: Settings, workers: int = 1) -> list[Component]:
    """The processor as processes: one fused worker (both stages, see
    :mod:`vitalstream.processing`), or ``workers`` of the stateless stage (``prepare``) and as
    many of the stateful one (``score``)."""
    stages = settings.process.stages
    if stages == "auto":
        stages = "fused" if workers <= 1 and not settings.log_url.startswith("kafka://") else "split"
    if stages == "fused":
        if workers > 1:
            logger.warning("process.stages = fused runs one worker; ignoring --workers %d", workers)
        return [Component("processor", "processor")]
    return ([Component(f"prepare-{i}", "prepare") for i in range(max(1, workers))]
            + [Component(f"score-{i}", "score") for i in range(max(1, workers))])


def sink_components(settings: Settings) -> list[Component]:
    try:
        import vitalstream.sinks  # noqa: F401
    except ImportError as exc:
        logger.warning("sinks not available (%s): running without lake and warehouse", exc)
        return []
    comps = [Component("sinks", "sinks")]
    from .model import schedule

    # On DuckDB the model runs inside the sinks process (one writer per file); elsewhere apart.
    if settings.model.interval_s > 0 and schedule.available() and not schedule.runs_in_sinks_process(settings):
        comps.append(Component("model", "model"))
    return comps


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

    def mirror() -> None:  # 4 checks a second: Ctrl-C reaches a child within 0.25 s
        while not shared.is_set() and not local.wait(0.25):
            pass
        local.set()

    threading.Thread(target=mirror, name="stop-mirror", daemon=True).start()
    return local


def _orphan_stop(stop: threading.Event) -> None:
    """Stop (finish the batch, commit, exit) when the supervisor dies without telling us, e.g.
    kill -9 of ``vitalstream up``: a component must not run on unsupervised, holding the
    DuckDB file or a port, and a new ``up`` must not find its partitions taken."""
    # the supervisor's pid as multiprocessing recorded it at spawn, not getppid() now: the
    # supervisor may already be gone by the time this child has imported enough to get here
    spawner = mp.parent_process()
    parent = spawner.pid if spawner is not None and spawner.pid is not None else os.getppid()

    def watch() -> None:
        while not stop.wait(1.0):
            if os.getppid() != parent:
                logger.warning("the supervisor is gone: stopping")
                stop.set()
        if os.getppid() == parent:
            return  # a normal stop: the supervisor waits for us (and terminates stragglers)
        # Nobody will terminate us. A component still starting (the notes stage loads its
        # vocabularies for tens of seconds) does not look at ``stop`` yet: leave like kill -9
        # would, which every component survives (nothing is committed before it is durable).
        time.sleep(ORPHAN_GRACE_S)
        logger.warning("still running %.0f s after the supervisor died: exiting", ORPHAN_GRACE_S)
        os._exit(1)

    if os.getppid() != parent:
        stop.set()
    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def _child(comp: Component, settings_json: bytes, shared_stop: Any, level: str) -> None:
    # Ctrl-C reaches the whole process group: let the supervisor decide, via the event.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _name_process(comp.name)
    stop = _local_stop(shared_stop)
    _orphan_stop(stop)
    logging.basicConfig(level=level, format=f"%(asctime)s %(levelname)s [{comp.name}] %(name)s: %(message)s",
                        stream=sys.stderr)
    s = msgspec.json.decode(settings_json, type=Settings)
    from .redact import protect_logs

    protect_logs(s)  # this process's log lines pass the same redaction as the CLI's
    RUNNERS[comp.kind](comp, s, stop)


def _name_process(name: str) -> None:
    """Show the component's name in ps/top (and to the bench's per-component CPU) instead of
    "python". Linux keeps 15 bytes; elsewhere this does nothing."""
    try:
        with open("/proc/self/comm", "w") as comm:
            comm.write(name[:15])
    except OSError:
        pass


def _simulate(comp: Component, s: Settings, stop: threading.Event) -> None:
    from .simulate.run import SimulatorSource

    if comp.to.startswith("http://"):
        _wait_for_port(comp.to, stop)
    SimulatorSource(s, comp.profile or "vitals", count=comp.count, to=comp.to).run(stop)


def _processor(comp: Component, s: Settings, stop: threading.Event) -> None:
    """Kinds ``processor`` (both stages fused), ``prepare`` (the stateless stage) and ``score``
    (the stateful stage: alerts, NEWS2)."""
    from .log import open_log
    from .processing import ClinicalScorer, VitalsProcessor
    from .runtime import run_worker

    log = open_log(s.log_url)
    T.ensure_all(log, s.partitions, s.retention_ms, s.replication_factor)
    proc: ClinicalScorer | VitalsProcessor = (
        ClinicalScorer(log, s.process, stop=stop) if comp.kind == "score" else
        VitalsProcessor(log, s.process, stop=stop, partitions=s.partitions, fused=comp.kind == "processor"))
    run_worker(log, proc, stop, max_records=s.process.max_batch, max_wait_s=s.process.max_wait_ms / 1000,
               linger_s=s.process.linger_ms / 1000, max_batch_s=s.process.max_batch_ms / 1000)
    logger.info("%s stopped: %s", comp.name, dict(proc.stats))


def _notes(comp: Component, s: Settings, stop: threading.Event) -> None:
    from .log import open_log
    from .notes.stage import NotesStage
    from .runtime import SINK_LINGER_S, run_worker

    log = open_log(s.log_url)
    T.ensure_all(log, s.partitions, s.retention_ms, s.replication_factor)
    stage = NotesStage(log, stop=stop)
    # notes are few and slow to extract: a batch may gather like a sink's
    run_worker(log, stage, stop, max_records=min(s.process.max_batch, 2000), max_wait_s=s.process.max_wait_ms / 1000,
               linger_s=SINK_LINGER_S)
    logger.info("notes stopped: %s", dict(stage.stats))


def _sinks(comp: Component, s: Settings, stop: threading.Event) -> None:
    from .log import open_log
    from .runtime import WorkerThreads
    from .sinks import build_sinks, linger_s

    log = open_log(s.log_url)
    T.ensure_all(log, s.partitions, s.retention_ms, s.replication_factor)
    names = comp.profile.split(",") if comp.profile else None  # e.g. "lake,landing"
    writes_warehouse = names is None or "warehouse" in names
    sinks = build_sinks(log, s, names)
    threads = WorkerThreads(log, sinks, stop, max_records=20_000, max_wait_s=0.2,
                            linger_s=linger_s(s, sinks)).start()
    from .model import schedule

    # the model shares the DuckDB file with the warehouse sink, so it runs where that sink runs
    # (here, or in the dashboard process when the dashboard holds the file)
    model = schedule.start_thread(s, stop) if writes_warehouse and schedule.available() else None
    try:
        threads.join()  # raises a sink's error: this process then exits non-zero
    finally:
        if model is not None:
            model.join()


def _model(comp: Component, s: Settings, stop: threading.Event) -> None:
    from .model.schedule import run_every

    run_every(s, stop)


def _mqtt(comp: Component, s: Settings, stop: threading.Event) -> None:
    from .log import open_log
    from .sources.mqtt import MqttBridge

    MqttBridge(open_log(s.log_url), s).run(stop)


def _serve(comp: Component, s: Settings, stop: threading.Event) -> None:
    from .sources.http import HttpSource

    HttpSource(s).run(stop)


def _dashboard(comp: Component, s: Settings, stop: threading.Event) -> None:
    from .dashboard.server import run

    run(s, stop)


def dashboard_components(settings: Settings) -> list[Component]:
    """The dashboard, when its extra is installed (on DuckDB it runs the warehouse sink)."""
    try:
        import vitalstream.dashboard.server  # noqa: F401
    except ImportError as exc:
        logger.warning("dashboard not available (%s): install the 'dashboard' extra", exc)
        return []
    return [Component("dashboard", "dashboard")]


#: What each component kind runs in its process (imports stay inside: a child loads only its own).
RUNNERS: dict[str, Callable[[Component, Settings, threading.Event], None]] = {
    "simulate": _simulate, "processor": _processor, "prepare": _processor, "score": _processor,
    "sinks": _sinks, "mqtt": _mqtt, "serve": _serve,
    "model": _model,  # the warehouse model on a schedule (on DuckDB: a thread of "sinks" instead)
    "dashboard": _dashboard,  # the web dashboard (on DuckDB it also runs the warehouse sink)
    "notes": _notes,  # the clinical-notes stage (its own consumer group)
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
    _start_with_metrics(settings, components, list(procs.values()))
    interrupted = threading.Event()  # set by the handler; the shared event is set below

    def on_signal(*_: object) -> None:
        interrupted.set()

    old_int = signal.signal(signal.SIGINT, on_signal)
    old_term = signal.signal(signal.SIGTERM, on_signal)
    code = 0
    started = time.monotonic()
    from .liveview import LiveView

    view = LiveView(settings) if progress else None
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
                idle_checks = idle_checks + 1 if sims_done and _all_caught_up(settings, components) else 0
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


def _start_with_metrics(settings: Settings, components: list[Component], procs: list[Any]) -> None:
    """Start the children with PROMETHEUS_MULTIPROC_DIR set to a fresh <home>/metrics, so each
    writes its samples where the dashboard's /metrics adds them up (unless already set)."""
    import os

    from . import metrics

    before = os.environ.get(metrics.ENV)
    if before is None and any(c.kind == "dashboard" for c in components):
        os.environ[metrics.ENV] = metrics.prepare_dir(settings.home_path)
    try:
        for p in procs:
            p.start()
    finally:
        if before is None:
            os.environ.pop(metrics.ENV, None)


def _enforce_retention(settings: Settings) -> None:
    """Time retention and compaction of the embedded log (Kafka's broker does its own)."""
    from .log import open_log

    with open_log(settings.log_url) as log:
        removed = log.enforce_retention()
    if removed:
        logger.info("retention/compaction removed %d records", removed)


def _started_sink_groups(components: Sequence[Component]) -> dict[str, Sequence[str]]:
    """The always-on sink groups these components run, with their topics: checked by name,
    since a sink process still starting has no commit yet that would list its group."""
    from .sinks import READS

    names: set[str] = set()
    for c in components:
        if c.kind == "sinks":
            names |= set(c.profile.split(",")) if c.profile else set(READS)
        elif c.kind == "dashboard":  # on DuckDB it hosts the warehouse sink
            names.add("warehouse")
    return dict(READS[n]() for n in sorted(names) if n in READS)


def _all_caught_up(settings: Settings, components: Sequence[Component] = ()) -> bool:
    """True when the processor and every sink group of vitalstream's own have no lag.

    Only groups named ``vitalstream-*`` count: a shared Kafka cluster holds other teams'
    groups (and tests' groups) whose lag is none of this pipeline's business.
    """
    from .log import open_log
    from .notes.stage import NOTES_GROUP
    from .processing.processor import INPUT_TOPICS, PROCESSOR_GROUP
    from .processing.stateful import SCORER_GROUP

    with open_log(settings.log_url) as log:
        for group, topics in _started_sink_groups(components).items():
            if sum(g.lag for g in log.group_lag(group, list(topics))) > 0:
                return False
        if sum(g.lag for g in log.group_lag(PROCESSOR_GROUP, list(INPUT_TOPICS))) > 0:
            return False
        # the stateful stage by name: before its first commit it has no lag to list
        if sum(g.lag for g in log.group_lag(SCORER_GROUP, [T.REPARTITION_VITALS])) > 0:
            return False
        # the notes stage by name: before its first commit it has no lag to list
        if sum(g.lag for g in log.group_lag(NOTES_GROUP, [T.MEDICAL_ENTRIES])) > 0:
            return False
        for g in log.list_groups():
            mine = g.startswith(OWN_GROUP_PREFIX) and g not in (PROCESSOR_GROUP, SCORER_GROUP, NOTES_GROUP)
            if mine and not is_private_group(g) and any(x.lag > 0 for x in log.group_lag(g)):
                return False
    return True
