"""`vitalstream up`'s live view fits an 80x24 terminal, whatever the number of topics."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from vitalstream import topics as T
from vitalstream.config import load
from vitalstream.liveview import LiveView
from vitalstream.log import open_log


@dataclass
class _Finished:  # what the view reads of a multiprocessing.Process
    exitcode: int = 0

    def is_alive(self) -> bool:
        return False


def test_live_view_fits_80_by_24(tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    settings = load(environ={}, overrides={"home": str(tmp_path)})
    with open_log(settings.log_url) as log:
        T.ensure_all(log)
        with log.producer() as p:
            for topic in (*T.RAW_TOPICS, *T.REFERENCE_TOPICS, T.ALERTS, T.NEWS2, T.DEAD_LETTERS):
                p.send(topic, b"{}", key=b"k")
    procs = {f"simulate-{i}": _Finished() for i in range(5)} | {"processor-0": _Finished(), "sinks": _Finished()}
    view = LiveView(settings)
    view.close(procs)  # draws the last frame
    lines = capsys.readouterr().err.rstrip("\n").split("\n")
    assert len(lines) <= 24 and max(len(line.rstrip()) for line in lines) <= 80
    text = "\n".join(lines)
    assert f"raw, {len(T.RAW_TOPICS)} topics" in text and "alerts" in text and "dlq-topic" in text
    assert "simulate-4" in text and "exited 0" in text
