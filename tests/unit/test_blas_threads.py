"""Importing vitalstream keeps numpy's OpenBLAS to one thread (its idle threads spin at start-up)
unless the user chose a number."""

import os
import subprocess
import sys


def _blas_threads(env: dict[str, str]) -> str:
    code = "import os, vitalstream; print(os.environ['OPENBLAS_NUM_THREADS'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_vitalstream_sets_one_blas_thread() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    assert _blas_threads(env) == "1"


def test_a_blas_thread_count_the_user_set_wins() -> None:
    assert _blas_threads({**os.environ, "OPENBLAS_NUM_THREADS": "4"}) == "4"
