"""``vitalstream bench``: throughput, latency and memory against the peers, side by side.

    vitalstream bench                 # the full run (~15 min on 2 cores), 1M events
    vitalstream bench --quick         # ~3 min, 100k events
    vitalstream bench --scenarios limit,peers --json out.json
    vitalstream bench --scenarios model,dashboard   # the warehouse model; the dashboard's latencies

Prints one table and writes the JSON to ``benchmarks/results/<date>.json`` under the current
directory, or ``--results DIR`` (see docs/benchmarks.md for the method and every field).
"""

from __future__ import annotations

import typer


def bench(
    quick: bool = typer.Option(False, "--quick", help="Small sizes: about 3 minutes."),
    json_file: str = typer.Option(None, "--json", help="Write the JSON to this file (default RESULTS/<date>.json)."),
    results: str = typer.Option("benchmarks/results", "--results", help="Directory for the JSON, relative to the current directory."),
    scenarios: str = typer.Option("all", "--scenarios",
                                  help="Comma-separated: limit,e2e,calibration,peers,scaleout,latency,memory,patients,edges,notes,model,dashboard,sinks,lowrate (default all)."),
    events: int = typer.Option(None, "--events", help="Events for limit and end-to-end (default 1,000,000; quick 100,000)."),
    no_kafka: bool = typer.Option(False, "--no-kafka", help="Embedded scenarios only; never start Kafka."),
    memory_events: int = typer.Option(None, "--memory-events",
                                      help="Length of the memory run, never scaled down (default: 5M, scaled to fit 75 s)."),
) -> None:
    """Run the benchmark scenarios and print one table."""
    import dataclasses
    import logging
    import sys
    from pathlib import Path

    from rich.console import Console

    from ..bench import report
    from ..bench.runner import FULL, QUICK, SCENARIOS, Run

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    chosen = SCENARIOS if scenarios == "all" else tuple(s.strip() for s in scenarios.split(",") if s.strip())
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise typer.BadParameter(f"unknown scenario(s) {', '.join(sorted(unknown))}; choose from {', '.join(SCENARIOS)}")
    plan = QUICK if quick else FULL
    if events:
        plan = dataclasses.replace(plan, events=events)
    if memory_events:
        plan = dataclasses.replace(plan, memory_events=memory_events, memory_s=float("inf"))
    console = Console(stderr=True)
    doc = Run(plan, chosen, kafka=not no_kafka, progress=lambda m: console.print(f"[dim]bench:[/] {m}")).run()
    report.print_table(doc)
    path = json_file or str(Path(results) / f"{doc['date']}{'-quick' if quick else ''}.json")
    written = report.write_json(doc, path)
    console.print(f"written {written}")


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)
