"""scripts/log_cpu.py (CPU per record on the log's write and read paths) runs and measures
every step on a small embedded log, leaving none of its topics behind."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from vitalstream.log import open_log

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "log_cpu.py"


def test_log_cpu_measures_each_step(tmp_path) -> None:
    spec = importlib.util.spec_from_file_location("log_cpu", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    url = f"sqlite:///{tmp_path}/log.db"
    res = module.measure(url, 3000)
    assert set(res) == {"send", "send_batch", "read_backlog", "read_head"}
    assert all(v > 0 for v in res.values())
    with open_log(url) as log:
        assert not [t for t in log.list_topics() if t.startswith("logcpu-")]
