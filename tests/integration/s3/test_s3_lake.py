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
    from vitalstream.errors import TransientError
    from vitalstream.sinks.lake import read_lake

    from contract.sink_contract import T, lake_sink, raw_records

    records = raw_records(30, partitions=1, per_hour=10)
    sink = lake_sink(f"s3://{s3_bucket}/x?endpoint_url={s3_endpoint}", [T.HEART_RATE])
    sink.process(records)
    assert list(read_lake(f"s3://{s3_bucket}/x?endpoint_url={s3_endpoint}", T.HEART_RATE)) == records
    down = lake_sink(f"s3://{s3_bucket}/x?endpoint_url=http://127.0.0.1:9", [T.HEART_RATE])
    with pytest.raises(TransientError):
        down.process(records)
