import os
import sys

import pytest

# the kill -9 scenario is shared with the DuckDB fault test
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "unit", "sinks"))


@pytest.fixture
def pg_schema_url(postgres_url, unique_name):
    """A URL whose search_path is a fresh schema only this test uses (dropped afterwards)."""
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {unique_name}")
    sep = "&" if "?" in postgres_url else "?"
    yield f"{postgres_url}{sep}options=-csearch_path%3D{unique_name}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {unique_name} CASCADE")
