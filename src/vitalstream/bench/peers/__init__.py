"""The peers the benchmark compares with: the same job as a Quix Streams app and as a
kafka-python per-message loop, run as ``python -m vitalstream.bench.peers.<name>`` (README.md)."""
