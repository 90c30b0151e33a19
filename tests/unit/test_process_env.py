"""Importing vitalstream keeps numpy's OpenBLAS to one thread (its idle threads spin at start-up)
and pyarrow's mimalloc off transparent huge pages (zeroed 2 MiB at a time), unless the user chose."""

import os
import subprocess
import sys

_VARS = ("OPENBLAS_NUM_THREADS", "MIMALLOC_ALLOW_THP")


def _after_import(env: dict[str, str]) -> list[str]:
    code = f"import os, vitalstream; print(*(os.environ[v] for v in {_VARS!r}))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_importing_vitalstream_sets_one_blas_thread_and_no_huge_pages() -> None:
    env = {k: v for k, v in os.environ.items() if k not in _VARS}
    assert _after_import(env) == ["1", "0"]


def test_what_the_user_set_wins() -> None:
    assert _after_import({**os.environ, "OPENBLAS_NUM_THREADS": "4", "MIMALLOC_ALLOW_THP": "1"}) == ["4", "1"]


def test_pyarrows_mimalloc_sees_it() -> None:
    env = {k: v for k, v in os.environ.items() if k not in (*_VARS, "ARROW_DEFAULT_MEMORY_POOL")}
    code = "import vitalstream, pyarrow as pa; pa.allocate_buffer(1 << 20)"
    out = subprocess.run([sys.executable, "-c", code], env={**env, "MIMALLOC_VERBOSE": "1"},
                         capture_output=True, text=True, check=True)
    assert "option 'allow_thp': 0" in out.stderr  # read when pyarrow loads, after vitalstream set it
