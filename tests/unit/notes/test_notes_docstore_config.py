"""The document-store sink runs only when configured, and its URL is checked like every other."""

from __future__ import annotations

import pytest

from vitalstream import config
from vitalstream.errors import ConfigError
from vitalstream.log import open_log
from vitalstream.sinks import build_sinks
from vitalstream.sinks.docstore import _split_url


def test_docstore_only_when_its_url_is_set(tmp_path) -> None:
    s = config.load(environ={"VITALSTREAM_HOME": str(tmp_path)})
    with open_log(s.log_url) as log:
        default = build_sinks(log, s)
        assert "vitalstream-docstore" not in [w.group for w in default] and len(default) == 3
        for w in default:
            w.close()
        with pytest.raises(ConfigError, match="VITALSTREAM_DOCSTORE_URL"):
            build_sinks(log, s, ["docstore"])
        on = config.load(environ={"VITALSTREAM_HOME": str(tmp_path),
                                  "VITALSTREAM_DOCSTORE_URL": "mongodb://u:secret@127.0.0.1:1/"})
        sinks = build_sinks(log, on)
        assert sinks[-1].group == "vitalstream-docstore"
        for w in sinks:
            w.close()


def test_docstore_url_scheme_is_checked(tmp_path) -> None:
    with pytest.raises(ConfigError, match="docstore_url") as err:
        config.load(environ={"VITALSTREAM_HOME": str(tmp_path), "VITALSTREAM_DOCSTORE_URL": "mysql://u:pw@h/db"})
    assert "pw" not in str(err.value)


def test_database_and_collection_options() -> None:
    assert _split_url("mongodb://h:1/?collection=x&retryWrites=false") == (
        "mongodb://h:1/?retryWrites=false", "medical", "x")
    assert _split_url("mongodb://h:1/") == ("mongodb://h:1/", "medical", "processed_entries")
