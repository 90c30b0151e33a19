"""``GET /metrics``: every component's series (multi-process mode) plus the log's state.

Topic sizes (``vitalstream_topic_records{topic}``: records stored, i.e. records out of the
component that writes the topic) and consumer lag (``vitalstream_consumer_lag{group}``) are
read from the log at scrape time. Needs a login like every other path: configure Prometheus
with ``authorization: {type: Bearer, credentials: NAME:PASSWORD}`` (docs/dashboard.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ..log import Log, is_private_group
from ..metrics import ENV

router = APIRouter(include_in_schema=False)


class LogCollector:
    def __init__(self, log: Log) -> None:
        self.log = log

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        records = GaugeMetricFamily("vitalstream_topic_records", "records stored per topic", labels=["topic"])
        lag = GaugeMetricFamily("vitalstream_consumer_lag", "records not yet processed per consumer group",
                                labels=["group"])
        for name in self.log.list_topics():
            records.add_metric([name], self.log.describe_topic(name).records)
        for g in self.log.list_groups():
            if not is_private_group(g):
                lag.add_metric([g], sum(x.lag for x in self.log.group_lag(g)))
        yield records
        yield lag


def _render(log: Log) -> bytes:
    import prometheus_client as p

    registry = p.CollectorRegistry()
    if os.environ.get(ENV):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = p.REGISTRY  # one process: its own series
    out: bytes = p.generate_latest(registry)
    extra = p.CollectorRegistry()
    extra.register(LogCollector(log))
    return out + p.generate_latest(extra)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST

    body = await run_in_threadpool(_render, request.app.state.ctx.log)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
