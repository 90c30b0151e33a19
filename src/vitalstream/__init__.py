"""vitalstream: real-time healthcare IoT data, embedded by default, Kafka at scale.

Importing this package is cheap: heavy backends (confluent_kafka, duckdb, psycopg,
pyarrow, s3fs) load only when a URL selects them.
"""

import logging
import os

# numpy's bundled OpenBLAS starts a thread per core when numpy is imported (pyarrow imports it),
# and they spin for 0.05-0.1 CPU-s each before they sleep: every process paid it, on two cores
# ~0.3 CPU-µs per event of the embedded pipeline. vitalstream multiplies no matrices; a value
# the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# pyarrow's allocator (mimalloc) asks for transparent huge pages on its 1 GiB arena, so each
# fresh or purged 2 MiB of Arrow buffers is zeroed (or compacted) in the kernel at a fault:
# ~15-20 % of the lake sink's CPU, and the noisiest part of it. 4 KiB pages cost ~2 %.
os.environ.setdefault("MIMALLOC_ALLOW_THP", "0")

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
