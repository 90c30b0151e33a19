"""The benchmark harness behind ``vitalstream bench`` (see docs/benchmarks.md).

Every scenario runs in the same invocation on the same pre-generated input, so the ratios
between vitalstream, its peers and the log's own limit hold even on a noisy machine.
"""
