"""The lake contract over an S3-compatible server (moto in server mode, or any S3)."""

from __future__ import annotations

import pytest

from contract.sink_contract import LakeContract


@pytest.fixture
def s3_bucket(s3_endpoint, unique_name, monkeypatch):
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    bucket = unique_name.replace("_", "-")[:63]
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    yield bucket
    objects = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    for o in objects:
        s3.delete_object(Bucket=bucket, Key=o["Key"])
    s3.delete_bucket(Bucket=bucket)


class TestS3Lake(LakeContract):
    @pytest.fixture
    def lake_url(self, s3_bucket, s3_endpoint, monkeypatch) -> str:
        # The endpoint comes from the environment here; the URL's ?endpoint_url= also works.
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
        return f"s3://{s3_bucket}/lake"


def test_endpoint_in_url_and_unreachable_is_transient(s3_bucket, s3_endpoint) -> None:
    from contract.sink_contract import T, lake_sink, raw_records
    from vitalstream.errors import TransientError
    from vitalstream.sinks.lake import read_lake

    records = raw_records(30, partitions=1, per_hour=10)
    sink = lake_sink(f"s3://{s3_bucket}/x?endpoint_url={s3_endpoint}", [T.HEART_RATE])
    sink.process(records)
    assert list(read_lake(f"s3://{s3_bucket}/x?endpoint_url={s3_endpoint}", T.HEART_RATE)) == records
    down = lake_sink(f"s3://{s3_bucket}/x?endpoint_url=http://127.0.0.1:9", [T.HEART_RATE])
    with pytest.raises(TransientError):
        down.process(records)


def test_new_incarnation_on_s3_is_refused_then_kept_beside(s3_bucket, s3_endpoint) -> None:
    from contract.sink_contract import T, open_lake, raw_records, snapshot
    from vitalstream.log.base import Record
    from vitalstream.sinks.lake import LakeSink, UnknownIncarnation, read_lake, recorded

    url = f"s3://{s3_bucket}/inc?endpoint_url={s3_endpoint}"
    first = raw_records(80, partitions=1, per_hour=20)
    second = [Record(r.topic, r.partition, r.offset, r.key, b"2" + r.value, r.timestamp_ms) for r in first]
    LakeSink(url, [T.HEART_RATE], topic_id=lambda _: "a-1").process(first)
    before = snapshot(url)
    with pytest.raises(UnknownIncarnation, match="a-1"):
        LakeSink(url, [T.HEART_RATE], topic_id=lambda _: "b-2").process(second)
    assert snapshot(url) == before
    LakeSink(url, [T.HEART_RATE], topic_id=lambda _: "b-2", new_incarnation=True).process(second)
    after = snapshot(url)
    assert {p: after[p] for p in before} == before
    assert list(read_lake(url, T.HEART_RATE)) == first + second
    assert [i.tag for i in recorded(open_lake(url), T.HEART_RATE)] == ["a-1", "b-2"]
