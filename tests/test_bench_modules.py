"""Every benchmark `make bench` runs still imports: a name it uses from the package has not gone.

`make bench` is not part of `make test`, so a benchmark could break unseen: stop 30 removed
`risk.columns.exposure` as dead code while `bench/bench_risk_sweep.py` still imported it, and
`make bench` stopped at that benchmark. Importing each module runs none of it.
"""

from __future__ import annotations

import importlib

import pytest
from bench.__main__ import BENCHMARKS


@pytest.mark.parametrize("name", BENCHMARKS)
def test_each_benchmark_module_imports_and_has_a_main(name: str) -> None:
    module = importlib.import_module(name)
    assert callable(module.main), f"{name} has no main() for `python -m bench` to run"
