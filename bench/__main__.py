"""Run every benchmark: `python -m bench` (or `make bench`)."""

from __future__ import annotations

import importlib

import crossmargin  # noqa: F401 -- refuses to load under python -O, before any benchmark starts

BENCHMARKS = (
    "bench.engine",
    "bench.bench_journal",
    "bench.bench_http",
    "bench.bench_matching",
    "bench.bench_settlement",
    "bench.bench_snapshot",
    "bench.bench_risk_sweep",
    "bench.bench_liquidation",
    "bench.bench_web",
    "bench.bench_compiled_core",
    "bench.bench_stress",
    "bench.bench_metrics",
)


def main() -> None:
    """Run each benchmark module's `main` in turn; a missing one is reported, not fatal."""
    for name in BENCHMARKS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            print(f"{name}: not available ({error})")
            continue
        module.main()


if __name__ == "__main__":
    main()
