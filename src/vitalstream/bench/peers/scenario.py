"""The peer comparison and the calibration, on one broker, on the same bytes, in the same run.

Every implementation reads the same smartwatch vitals (produced once, uncompressed, for all:
the peers' copy under the run's prefix, vitalstream's on its own topics), with a fresh private
consumer group per run and fresh output topics, so the broker's record counts per output
topic belong to that run alone. Each is run ``plan.repeats`` times, interleaved (A B C A B C …),
and reported as the median with min–max. The clock is the same for all: from before the first
Kafka client (metadata load, subscribe, group join and state restore count) to after the
shutdown (last commit, flush, close) — ``events_per_s``; ``events_per_s_from_first`` is from
the first message instead, for comparison with older runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from ... import topics as T
from .. import child
from ..inputs import save_inputs, smartwatch_vitals
from ..machine import package_version
from ..stats import compare_counts, counts_line, interleave, summary
from . import transform

_STAGES = "vitalstream.bench.stages"
_KRAW = "vitalstream.bench.kafkaraw"
# implementation -> the peer's module (vitalstream runs its own processor)
PEERS = {"quix": "quix_app", "ck_loop": "ck_loop", "per_message": "per_message"}
IMPLEMENTATIONS = ("vitalstream", *PEERS)
NOTES = {"vitalstream": "VitalsProcessor (fused) on Kafka",
         "quix": "Quix Streams {quix}: concat + stateful apply (RocksDB + changelog)",
         "ck_loop": "confluent-kafka + orjson per-message loop, state in a dict",
         "per_message": "kafka-python per-message loop, state in a dict"}
# output kind -> vitalstream's topics of it
VITALSTREAM_OUTPUTS = {
    "processed": [p for _, p in transform.RAW_TOPICS.values()], "alert": [T.ALERTS], "news2": [T.NEWS2],
    "dead_letter": [T.DEAD_LETTERS], "changelog": [T.ALERT_STATE],
}


def _peer_outputs(out_prefix: str, group: str) -> dict[str, Any]:
    topics = transform.output_topics(out_prefix)
    kinds = {"processed": [topics[dt] for dt, _ in transform.RAW_TOPICS.values()], "alert": [topics["alert"]],
             "news2": [topics["news2"]], "dead_letter": [topics["dead_letter"]]}
    return {"kinds": kinds, "contains": f"changelog__{group}"}


def _written(before: dict[str, Any], after: dict[str, Any], kinds: dict[str, list[str]],
             changelog: str | None = None) -> dict[str, int]:
    """Records written per output kind: the growth of the high watermarks."""
    out = {kind: sum(after.get(t, [0, 0])[1] - before.get(t, [0, 0])[1] for t in topics) for kind, topics in kinds.items()}
    if changelog is not None:
        out["changelog"] = sum(hi for t, (_, hi) in after.items() if changelog in t)
    return out


def run_peer(module: str, broker: str, prefix: str, out_prefix: str, group: str, expected: int) -> dict[str, Any]:
    """Run one peer as its own interpreter and return its ``BENCH-RESULT``."""
    proc = subprocess.run([sys.executable, "-m", f"vitalstream.bench.peers.{module}", "--broker", broker, "--prefix",
                           prefix, "--out-prefix", out_prefix, "--group", group, "--expected", str(expected)],
                          capture_output=True, text=True, timeout=900)
    line = next((ln for ln in reversed(proc.stdout.splitlines()) if ln.startswith(child.RESULT_PREFIX)), None)
    if line is None:
        raise RuntimeError(proc.stderr[-800:])
    result: dict[str, Any] = json.loads(line[len(child.RESULT_PREFIX):])
    return result


def _setup(run: Any) -> tuple[str, str, int, str]:
    """The input once per run: path, topic prefix, events, vitalstream's log URL."""
    n = run.plan.peer_events
    path = str(run.work / "smartwatch-vitals.msgpack")
    if not run.peer_inputs:
        inputs = smartwatch_vitals(n)
        save_inputs(inputs, path)
        run.peer_inputs = {"path": path, "expected": len(inputs.reference) + n}
        prefix = f"bench-{run.run_id}-peers-in-"
        child.run(f"{_KRAW}:produce", broker=run.broker, inputs_path=path, prefix=prefix)  # compression none
        run.peer_inputs["prefix"] = prefix
    return path, run.peer_inputs["prefix"], n, f"kafka://{run.broker}?compression.type=none"


def _one(run: Any, impl: str, rep: int, broker: str, prefix: str, n: int, url: str) -> dict[str, Any]:
    group = f"bench-{run.run_id}-{impl}-{rep}"
    if impl == "vitalstream":
        watched = [t for ts in VITALSTREAM_OUTPUTS.values() for t in ts]
        before = child.run(f"{_KRAW}:watermarks", broker=broker, names=watched)["topics"]
        res = child.run(f"{_STAGES}:process", log_url=url, events=n, expected=run.peer_inputs["expected"],
                        group=run.peer_inputs["vs_groups"][rep])
        after = child.run(f"{_KRAW}:watermarks", broker=broker, names=watched)["topics"]
        wall = res["t_end"] - res["t_start"]
        res.update(events=n, events_per_s=n / wall, events_per_s_from_first=n / (res["t_end"] - res["t_first"]),
                   startup_s=res["t_first"] - res["t_start"], wall_s=wall,
                   outputs=_written(before, after, VITALSTREAM_OUTPUTS))
        res.pop("rss_mb_series", None)
        return res
    out_prefix = f"bench-{run.run_id}-peers-{impl}{rep}-"
    spec = _peer_outputs(out_prefix, group)
    child.run(f"{_KRAW}:create_topics_result", broker=broker, names=[t for ts in spec["kinds"].values() for t in ts])
    res = run_peer(PEERS[impl], broker, prefix, out_prefix, group, n)
    after = child.run(f"{_KRAW}:watermarks", broker=broker, names=[t for ts in spec["kinds"].values() for t in ts],
                      contains=spec["contains"])["topics"]
    res["outputs_reported"] = res.pop("outputs", {})
    res["outputs"] = _written({}, after, spec["kinds"], spec["contains"] if impl == "quix" else None)
    return res


def peers(run: Any) -> None:
    """``peer_vitalstream``, ``peer_quix``, ``peer_ck_loop``, ``peer_per_message`` (median of the
    repeats, each run in ``runs``) and ``peer_outputs`` (record counts per kind, side by side)."""
    if not run.broker:
        for impl in IMPLEMENTATIONS:
            run.skipped(f"peer_{impl}", "no Kafka broker")
        return
    broker = run.broker
    _, prefix, n, url = _setup(run)
    vs_groups = [f"bench-{run.run_id}-vs-{r}" for r in range(run.plan.repeats)]
    run.peer_inputs["vs_groups"] = vs_groups
    child.run(f"{_STAGES}:prepare_kafka", broker=broker, group=vs_groups[0], groups=vs_groups[1:])
    child.run(f"{_STAGES}:produce", log_url=url, inputs_path=run.peer_inputs["path"])
    runs: dict[str, list[dict[str, Any]]] = {impl: [] for impl in IMPLEMENTATIONS}
    order = interleave(IMPLEMENTATIONS, run.plan.repeats)
    run.say(f"peers on Kafka: {n:,} smartwatch vitals, {len(order)} runs interleaved")
    try:
        for rep, impl in order:
            try:
                res = _one(run, impl, rep, broker, prefix, n, url)
                run.say(f"  peer_{impl} #{rep + 1}: {res['events_per_s']:,.0f} events/s")
            except Exception as exc:  # a failed run is left out of the median, and shown
                res = {"events_per_s": None, "error": str(exc)[-500:]}
            runs[impl].append(res)
    finally:
        cleanup(run, broker)
    _record(run, runs, n)


def _record(run: Any, runs: dict[str, list[dict[str, Any]]], n: int) -> None:
    counts = {}
    for impl, results in runs.items():
        ok = [r for r in results if r.get("events_per_s")]
        rate = summary(r["events_per_s"] for r in results)
        first = summary(r.get("events_per_s_from_first") for r in results)
        cpu = summary(r.get("cpu_s") for r in results)
        if ok:
            counts[impl] = ok[0]["outputs"]
        note = NOTES[impl].format(quix=package_version("quixstreams"))
        if rate["n"]:
            note += f"; median of {rate['n']} (min {rate['min']:,.0f}, max {rate['max']:,.0f})"
        if impl == "per_message" and ok and ok[0].get("crc32c") != "c":
            note += " (install crc32c: this peer is handicapped)"
        run.record(f"peer_{impl}", {
            "events": n, "events_per_s": rate["median"], "events_per_s_range": [rate["min"], rate["max"]],
            "events_per_s_from_first": first["median"], "cpu_s": cpu["median"],
            "cpu_us_per_event": round(cpu["median"] * 1e6 / n, 1) if cpu["median"] else None,
            "peak_rss_mb": max((r.get("peak_rss_mb") or 0 for r in ok), default=None),
            "startup_s": summary(r.get("startup_s") for r in ok)["median"],
            "runs": [{k: r.get(k) for k in ("events_per_s", "events_per_s_from_first", "startup_s", "cpu_s",
                                            "peak_rss_mb", "outputs", "error")} for r in results],
            "outputs": ok[0]["outputs"] if ok else None, "note": note})
    comparison = compare_counts(counts)
    for line in counts_line(comparison).splitlines():
        run.say(f"  outputs {line}")
    run.results["peer_outputs"] = {"events": n, "events_per_s": None, **comparison,
                                   "note": "; ".join(counts_line(comparison).splitlines())}


def calibration(run: Any) -> None:
    """``calibration_quix_filter``: Quix's minimal filter → topic app on the peers' input,
    repeated like the peers, to set beside Quix's published figure (docs/benchmarks.md)."""
    if not run.broker:
        run.skipped("calibration_quix_filter", "no Kafka broker")
        return
    broker = run.broker
    _, prefix, n, _ = _setup(run)
    results = []
    run.say(f"calibration: Quix minimal filter -> topic, {n:,} messages x {run.plan.repeats}")
    try:
        for rep in range(run.plan.repeats):
            out_prefix = f"bench-{run.run_id}-calib{rep}-"
            child.run(f"{_KRAW}:create_topics_result", broker=broker, names=[out_prefix + "filtered"])
            try:
                res = run_peer("quix_filter", broker, prefix, out_prefix, f"bench-{run.run_id}-calib-{rep}", n)
            except Exception as exc:
                res = {"events_per_s": None, "error": str(exc)[-500:]}
            results.append(res)
    finally:
        cleanup(run, broker, keep_inputs="peers" in run.scenarios)
    rate = summary(r.get("events_per_s") for r in results)
    first = summary(r.get("events_per_s_from_first") for r in results)
    run.record("calibration_quix_filter", {
        "events": n, "events_per_s": rate["median"], "events_per_s_range": [rate["min"], rate["max"]],
        "events_per_s_from_first": first["median"], "cpu_s": summary(r.get("cpu_s") for r in results)["median"],
        "peak_rss_mb": max((r.get("peak_rss_mb") or 0 for r in results), default=None), "runs": results,
        "note": f"Quix Streams {package_version('quixstreams')} filter -> topic; median of {rate['n']}, "
                f"from first message {first['median'] or 0:,.0f}/s"})


def cleanup(run: Any, broker: str, keep_inputs: bool = False) -> None:
    """Delete this run's topics (inputs too unless ``keep_inputs``) and Quix's changelogs."""
    mine = child.run(f"{_KRAW}:watermarks", broker=broker, contains=f"bench-{run.run_id}-")["topics"]
    names = [t for t in mine if not (keep_inputs and "-peers-in-" in t)]
    child.run(f"{_KRAW}:delete_named", broker=broker, names=names)
