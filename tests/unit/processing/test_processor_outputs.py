"""The processed records built as bytes equal the struct-by-struct encoding, and a producer's
batch send places records as one send per record does."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import msgspec

from vitalstream import topics as T
from vitalstream.events import decode, normalise
from vitalstream.events.canonical import ProcessedVital, Vital
from vitalstream.log import open_log
from vitalstream.processing.outputs import DEVICE_PARTS, BatchOutputs, device_part, original_timestamp
from vitalstream.simulate import make

NOW = datetime(2024, 4, 1, 9, tzinfo=UTC)


def _device_events(n: int) -> list[tuple[object, Vital]]:
    sim = make("device", patients=20, seed=5)
    out = []
    for m in itertools.islice(sim.events(), n):
        event = decode(m.topic, m.value)
        out += [(event, v) for v in normalise(m.topic, event)]
    return out


def test_device_parts_cut_from_one_encoding_equal_the_struct_path() -> None:
    events = _device_events(300)
    odd = Vital(event_id='e,"heart_rate":1', patient_id='d"1', source="device", event_time=NOW,
                heart_rate=70, spo2=97, systolic=120, diastolic=80, temperature_c=36.6, device_id='d,"x')
    events.append((events[0][0], odd))  # ids that look like the fields the cut looks for
    out = BatchOutputs(NOW)
    for event, v in events:
        out.device(b"k", event, v, msgspec.json.encode(v))
    for topic, data_type, fields in DEVICE_PARTS:
        rows = out.rows[topic]
        assert len(rows) == len(events)
        for (event, v), (key, value, ms) in zip(events, rows, strict=True):
            expected = (device_part(v, fields)[:-1] + out.original(original_timestamp(event))
                        + out.suffix(data_type) + b"}")
            assert (key, value, ms) == (b"k", expected, int(v.event_time.timestamp() * 1000))
            record = msgspec.json.decode(value, type=ProcessedVital)
            assert record.data_type == data_type and record.processed_timestamp == NOW


def test_a_device_vital_missing_a_measure_takes_the_struct_path() -> None:
    (event, v), = _device_events(1)
    partial = msgspec.structs.replace(v, spo2=None)
    out = BatchOutputs(NOW)
    out.device(None, event, partial, msgspec.json.encode(partial))
    assert out.rows[T.SPO2_DEVICE] == [] and len(out.rows[T.BP_DEVICE]) == 1
    assert b'"spo2"' not in out.rows[T.HR_DEVICE][0][1]


def _placed(path, batch: bool) -> list[tuple]:  # type: ignore[type-arg]
    log = open_log(f"sqlite:///{path}")
    T.ensure_all(log)
    rows = [(f"p{i % 13}".encode() if i % 5 else None, f"v{i}".encode(), 1_700_000_000_000 + i) for i in range(60)]
    with log.producer() as p:
        if batch:
            p.send_batch(T.ALERTS, rows)
        else:
            for key, value, ts in rows:
                p.send(T.ALERTS, value, key=key, timestamp_ms=ts)
    with log.consumer("check", [T.ALERTS]) as c:
        got = sorted((r.partition, r.offset, r.key, r.value, r.timestamp_ms) for r in c.poll(max_records=100, timeout=1))
    log.close()
    return got


def test_send_batch_places_records_like_send(tmp_path) -> None:  # type: ignore[no-untyped-def]
    one_by_one = _placed(tmp_path / "send.db", batch=False)
    assert len(one_by_one) == 60 and len({p for p, *_ in one_by_one}) > 1
    assert _placed(tmp_path / "batch.db", batch=True) == one_by_one


def test_a_writer_carries_each_events_original_time_whether_timestamp_or_date() -> None:
    from types import SimpleNamespace

    from vitalstream.events.smartwatch import SmartwatchEvent, SmartwatchEventLabelled

    stamped = SmartwatchEvent(device_id="w1", hr=71.0, steps=3, state="awake", timestamp=1711943972.5)
    dated = SmartwatchEventLabelled(device_id="w1", heart_rate=71.0, step_count=3, sleeping_state="awake",
                                    date=datetime(2024, 4, 1, 8, 59, tzinfo=UTC))
    loose = SimpleNamespace(date="2024-04-01 08:59:00.000")  # not a struct: the getattr path
    v = Vital(event_id="e1", patient_id="w1", source="smartwatch", event_time=NOW, heart_rate=71)
    body = msgspec.json.encode(v)
    out = BatchOutputs(NOW)
    add = out.writer(T.PROCESSED_SMARTWATCH, "smartwatch")
    for event in (stamped, dated, loose, stamped, dated):  # the per-type choice is cached
        add(b"w1", event, v, body, b"")
    for event, (_, value, _) in zip((stamped, dated, loose, stamped, dated), out.rows[T.PROCESSED_SMARTWATCH],
                                    strict=True):
        assert value == body[:-1] + out.original(original_timestamp(event)) + out.suffix("smartwatch") + b"}"
