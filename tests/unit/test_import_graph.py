"""Library code does not depend on the CLI or on the benchmark, and the benchmark does not
read the source checkout. Checked on the source (every import statement, top level or lazy)."""

from __future__ import annotations

import ast
from pathlib import Path

import vitalstream

PACKAGE = Path(vitalstream.__file__).parent


def _module_name(path: Path) -> str:
    parts = ["vitalstream", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports resolved."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)  # `from . import cli`
    return found


GRAPH = {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def _offenders(target: str, allowed: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{mod} imports {imp}"
        for mod, imports in GRAPH.items()
        if not mod.startswith(allowed)
        for imp in imports
        if imp == target or imp.startswith(target + ".")
    )


def test_the_graph_sees_lazy_and_relative_imports() -> None:
    assert "vitalstream.sinks.warehouse" in GRAPH["vitalstream.cli.sinks"]  # inside a function
    assert "vitalstream.bench.inputs" in GRAPH["vitalstream.bench.kafkaraw"]


def test_only_the_cli_imports_the_cli() -> None:
    assert _offenders("vitalstream.cli", ("vitalstream.cli",)) == []


def test_only_the_bench_and_the_cli_import_the_bench() -> None:
    assert _offenders("vitalstream.bench", ("vitalstream.bench", "vitalstream.cli")) == []


def test_no_import_cycle_between_two_bench_modules() -> None:
    bench = {m: {i for i in imps if i in GRAPH and i.startswith("vitalstream.bench.")}
             for m, imps in GRAPH.items() if m.startswith("vitalstream.bench.")}
    assert sorted((a, b) for a, deps in bench.items() for b in deps if a in bench.get(b, ())) == []


def test_the_bench_does_not_read_the_checkout() -> None:
    for path in (PACKAGE / "bench").rglob("*.py"):
        text = path.read_text()
        assert "__file__" not in text and "scripts/services" not in text, path
        assert '"benchmarks"' not in text and "'benchmarks'" not in text, path
