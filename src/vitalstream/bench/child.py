"""Run one measured component in its own process and report what it cost.

    python -m vitalstream.bench.child vitalstream.bench.stages:process '{"log_url": ...}'

The function's result (a dict) is printed as the last stdout line, as JSON, with the
process's own CPU seconds and peak RSS added, plus an RSS series sampled with psutil (so
memory growth over the stream can be read from it). Each component gets a fresh interpreter:
no heap, cache or JIT-warm state leaks from one measurement into the next.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from ..registry import load

RESULT_PREFIX = "BENCH-RESULT "


class RssSampler:
    """Samples this process's RSS every ``interval`` s; ``progress`` ties samples to work done."""

    def __init__(self, interval: float = 0.2, progress: Callable[[], int] | None = None) -> None:
        import psutil

        self._proc = psutil.Process()
        self.interval = interval
        self.progress = progress or (lambda: 0)
        self.samples: list[tuple[float, int, int]] = []  # (t, work done, rss bytes)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        t0 = time.monotonic()
        while not self._stop.wait(self.interval):
            self.samples.append((time.monotonic() - t0, self.progress(), self._proc.memory_info().rss))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((float("inf"), self.progress(), self._proc.memory_info().rss))

    def rss_at(self, work: int) -> int | None:
        """Largest RSS seen up to the moment ``work`` units were done (None if never reached)."""
        best = None
        for _, done, rss in self.samples:
            best = rss if best is None else max(best, rss)
            if done >= work:
                return best
        return best  # the run ended between two samples: everything seen is "up to" it


def peak_rss_mb() -> float:
    """This process's own high-water RSS. Not ``ru_maxrss``: Linux carries that across fork and
    exec, so every child would report its parent's peak (the bench holds 1M inputs)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def usage() -> dict[str, float]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu_s": ru.ru_utime + ru.ru_stime, "peak_rss_mb": peak_rss_mb()}


def main(argv: list[str]) -> int:
    target, args = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    fn = load(target, None)
    result = fn(**args)
    for k, v in usage().items():  # a wrapper may already report the component it ran
        result.setdefault(k, v)
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


def run(target: str, timeout: float | None = None, **args: Any) -> dict[str, Any]:
    """Run ``target`` (``module:function``) in a child interpreter; return its result dict."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.run([sys.executable, "-m", __name__, target, json.dumps(args)],
                          capture_output=True, text=True, timeout=timeout, env=env)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return _result(line)
    raise RuntimeError(f"{target} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")


def _result(line: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX):])
    return result


def start(target: str, **args: Any) -> subprocess.Popen[str]:
    """Start ``target`` in a child interpreter without waiting (see :func:`collect`)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", __name__, target, json.dumps(args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def collect(proc: subprocess.Popen[str], timeout: float | None = None) -> dict[str, Any]:
    out, err = proc.communicate(timeout=timeout)
    for line in reversed(out.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return _result(line)
    raise RuntimeError(f"bench child failed (exit {proc.returncode}): {err.strip()[-2000:]}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
