"""The machine a benchmark ran on, recorded beside its figures."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any


def package_version(dist: str) -> str:
    """The installed version of ``dist``, or ``?``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def describe_machine(load0: tuple[float, float, float]) -> dict[str, Any]:
    """What the results depend on: CPUs, memory, Python, platform, and the load around the run."""
    import psutil

    return {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": sys.version.split()[0], "platform": platform.platform(),
            "cpu_model": cpu_model(), "loadavg_at_start": [round(x, 2) for x in load0],
            "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
