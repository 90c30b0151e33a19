"""What the pipeline costs at a ward's rate and when nothing happens (issue 17, item 4).

* ``demo_rate``: ``vitalstream up --serve`` with the demo's simulators (what ``make demo``
  runs: the same profiles, the smartwatch posting to the HTTP edge, the dashboard), in a fresh
  home on the embedded log. After a warm-up (every component started and caught up once) the
  CPU of every process of the run — the supervisor and all its descendants, read with psutil
  at the window's ends — is divided by the raw events that arrived in the window: **CPU ms
  per raw event**, steady state. Start-up (imports, group joins) is reported apart.
* ``idle``: ``vitalstream up --no-simulate``, no traffic: the same CPU as % of one core.

Each component process names itself (``/proc/self/comm``, see :mod:`vitalstream.supervise`),
so the result also splits the CPU by component, which shows what is left to cut where.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from .. import topics as T

DEMO_PROFILES = "vitals,device,heart-rate,smartwatch,notes"  # the Makefile's demo target
_WARMUP_MAX_S = 90.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree_cpu(root: Any) -> dict[int, tuple[str, float]]:
    """pid -> (component name, CPU seconds so far, reaped children included) for the tree."""
    import psutil

    out: dict[int, tuple[str, float]] = {}
    for p in [root, *root.children(recursive=True)]:
        try:
            with p.oneshot():
                t = p.cpu_times()
                name = "supervisor" if p.pid == root.pid else p.name()
                out[p.pid] = (name, t.user + t.system + t.children_user + t.children_system)
        except psutil.Error:  # exited between the listing and the read
            continue
    return out


def _raw_records(log_url: str) -> int:
    from ..log import open_log

    with open_log(log_url) as log:
        names = set(log.list_topics())
        return sum(log.describe_topic(t).records for t in T.RAW_TOPICS if t in names)


def _groups(log_url: str, committed_only: bool) -> tuple[set[str], int]:
    """vitalstream's own groups with a member or a commit (``committed_only``: that committed
    at least once), and their total lag (the lake groups' left out: they commit only what they
    wrote, every ``flush_s``, by design)."""
    from ..log import is_private_group, open_log
    from ..sinks.lake.landing import LANDING_GROUP
    from ..sinks.lake.sink import LAKE_GROUP

    with open_log(log_url) as log:
        lags = {g: log.group_lag(g) for g in log.list_groups()
                if g.startswith("vitalstream-") and not is_private_group(g)}
        committed = {g for g, lag in lags.items() if lag}
        lag = sum(x.lag for g in committed - {LAKE_GROUP, LANDING_GROUP} for x in lags[g])
        return (committed if committed_only else set(lags)), lag


def _expected_groups() -> set[str]:
    """The groups ``up`` starts on the embedded log (the notes stage only with its extra)."""
    import importlib.util

    from ..processing.processor import PROCESSOR_GROUP
    from ..sinks.lake.landing import LANDING_GROUP
    from ..sinks.lake.sink import LAKE_GROUP
    from ..sinks.warehouse.sink import WAREHOUSE_GROUP

    out = {PROCESSOR_GROUP, LAKE_GROUP, LANDING_GROUP, WAREHOUSE_GROUP}
    if importlib.util.find_spec("medspacy") is not None:
        from ..notes.stage import NOTES_GROUP

        out.add(NOTES_GROUP)
    return out


def measure(work: str, seconds: float, simulate: bool) -> dict[str, Any]:
    """Run ``vitalstream up`` in a fresh home under ``work``; CPU over a steady-state window."""
    import psutil

    home = Path(work) / ("demo-home" if simulate else "idle-home")
    log_url = f"sqlite:///{home}/log.db"
    env = dict(os.environ, PYTHONUNBUFFERED="1", VITALSTREAM_LOG_URL=log_url,
               VITALSTREAM_HTTP_PORT=str(_free_port()), VITALSTREAM_DASHBOARD_PORT=str(_free_port()),
               VITALSTREAM_HTTP_ADMIN_KEYS="demo=demo-key", VITALSTREAM_SIMULATE_PROFILES=DEMO_PROFILES,
               # the scheduled dbt build is a batch job every 5 min whatever the rate (the
               # `model` scenario measures it); one landing in a 60 s window would swamp it
               VITALSTREAM_MODEL_INTERVAL_S="0")
    env.pop("VITALSTREAM_MQTT_URL", None)
    cmd = [sys.executable, "-c", "from vitalstream.cli import main; main()", "--home", str(home), "up", "--serve"]
    if not simulate:
        cmd.append("--no-simulate")
    cpu0 = _children_cpu()
    t_start = time.monotonic()
    errlog = (Path(work) / f"{home.name}.stderr").open("w")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errlog, env=env,
                            start_new_session=True)
    root = psutil.Process(proc.pid)
    try:
        ready = _warm_up(proc, log_url, traffic=simulate)
        time.sleep(5.0)  # let the last start-up work (first polls, DuckDB schema) pass
        startup_s = time.monotonic() - t_start
        before, raw0, t0 = _tree_cpu(root), _raw_records(log_url), time.monotonic()
        time.sleep(seconds)
        after, raw1, t1 = _tree_cpu(root), _raw_records(log_url), time.monotonic()
        startup_cpu = sum(c for _, c in before.values())
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # Ctrl-C: every component commits and exits
        try:
            code = proc.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            code = proc.wait(10)
        errlog.close()
    total_cpu = _children_cpu() - cpu0
    by_comp: dict[str, float] = defaultdict(float)
    for pid, (name, cpu) in after.items():
        by_comp[name] += cpu - before.get(pid, (name, 0.0))[1]
    window_cpu = sum(by_comp.values())
    wall = t1 - t0
    raw = raw1 - raw0
    out: dict[str, Any] = {
        "window_s": round(wall, 1), "events": raw, "events_per_s": round(raw / wall, 1) if wall else None,
        "cpu_s": round(window_cpu, 2), "cpu_pct_of_core": round(100 * window_cpu / wall, 2) if wall else None,
        "cpu_by_component_s": {k: round(v, 2) for k, v in sorted(by_comp.items(), key=lambda kv: -kv[1])},
        "startup_s": round(startup_s, 1), "startup_cpu_s": round(startup_cpu, 1), "ready": ready,
        "run_cpu_s": round(total_cpu, 1), "exit_code": code,
    }
    if raw:
        out["cpu_ms_per_raw_event"] = round(1000 * window_cpu / raw, 3)
    return out


def _children_cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _warm_up(proc: subprocess.Popen[bytes], log_url: str, traffic: bool) -> bool:
    """Wait until start-up is over: every component's consumer group has joined and, with
    ``traffic``, committed (the notes stage joins, then loads its vocabularies on its first
    entry, ~15 CPU-s, then commits), and nothing lags by more than ~5 s."""
    expected = _expected_groups()
    deadline = time.monotonic() + _WARMUP_MAX_S
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(1.0)
        try:
            groups, lag = _groups(log_url, committed_only=traffic)
        except Exception:  # the supervisor is still creating the log
            continue
        if expected <= groups and lag < 2000:
            return True
    if proc.poll() is not None:
        raise RuntimeError(f"vitalstream up exited with {proc.returncode} during warm-up")
    return False


def scenarios(run: Any) -> dict[str, dict[str, Any]]:
    """The two scenarios: ``demo_rate`` (60 s) and ``idle`` (40 s); called by
    :class:`vitalstream.bench.runner.Run`."""
    quick = run.plan.quick
    out: dict[str, dict[str, Any]] = {}
    run.say("demo_rate: `vitalstream up --serve` with the demo's simulators, CPU per raw event")
    demo = measure(str(run.work), 20.0 if quick else 60.0, simulate=True)
    demo["note"] = (f"{demo.get('cpu_ms_per_raw_event', 0):.3f} CPU-ms per raw event at "
                    f"{demo.get('events_per_s') or 0:,.0f} raw events/s; top: {_top(demo)}")
    out["demo_rate"] = demo
    run.say("idle: `vitalstream up --no-simulate`, no traffic, CPU as % of one core")
    idle = measure(str(run.work), 15.0 if quick else 40.0, simulate=False)
    idle["note"] = f"{idle['cpu_pct_of_core']:.1f} % of one core idle; top: {_top(idle)}"
    out["idle"] = idle
    return out


def run(run: Any) -> None:
    """The ``lowrate`` scenario family in the bench's registry."""
    for name, result in scenarios(run).items():
        run.record(name, result)


def _top(result: dict[str, Any], n: int = 3) -> str:
    return ", ".join(f"{k} {v:.1f}s" for k, v in list(result["cpu_by_component_s"].items())[:n])


if __name__ == "__main__":  # a quick look without the runner: python -m vitalstream.bench.lowrate DIR [SECONDS] [idle]
    import json

    print(json.dumps(measure(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 60.0,
                             simulate=not (len(sys.argv) > 3 and sys.argv[3] == "idle")), indent=2))
