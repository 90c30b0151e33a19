"""The smartwatch landing: normalised smartwatch events as typed Parquet columns.

A :class:`~vitalstream.sinks.lake.LakeSink` over ``processed-smartwatch-data`` with
:func:`smartwatch_columns` as its extra columns, in its own consumer group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

LANDING_GROUP = "vitalstream-lake-landing"

_LANDING_FIELDS = (
    ("event_id", "string"), ("patient_id", "string"), ("user_id", "string"), ("device_id", "string"),
    ("event_time", "ts"), ("heart_rate", "int32"), ("steps", "int64"), ("sleeping", "bool"),
    ("age", "int32"), ("gender", "string"),
)


def smartwatch_columns(table: pa.Table) -> dict[str, Any]:
    """Decoded columns of ``processed-smartwatch-data`` (the smartwatch landing), next to the
    raw value (``table`` holds the raw columns): what the daily/weekly aggregates read."""
    import msgspec
    import pyarrow as pa

    decoder = msgspec.json.Decoder()
    docs: list[dict[str, Any]] = []
    for value in table.column("value").to_pylist():
        try:
            d = decoder.decode(value)
            docs.append(d if isinstance(d, dict) else {})
        except msgspec.DecodeError:
            docs.append({})
    types = {"string": pa.string(), "int32": pa.int32(), "int64": pa.int64(), "bool": pa.bool_()}
    out: dict[str, Any] = {}
    for name, kind in _LANDING_FIELDS:
        values = [d.get(name) for d in docs]
        if kind == "ts":
            out[name] = pa.array(values, pa.string()).cast(pa.timestamp("us", tz="UTC"))
        else:
            out[name] = pa.array([None if isinstance(v, (dict, list)) else v for v in values], types[kind])
    return out
