"""vitalstream: real-time healthcare IoT data, embedded by default, Kafka at scale.

Importing this package is cheap: heavy backends (confluent_kafka, duckdb, psycopg,
pyarrow, s3fs) load only when a URL selects them.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
