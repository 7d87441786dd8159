"""Declared field types are read from the source when a class is compiled (mypyc erases them)."""

from __future__ import annotations

import dataclasses
import sys
import types
from pathlib import Path

import pytest

from crossmargin.app.declared_types import declared_hints, is_compiled
from crossmargin.core.commands import PlaceOrder

SOURCE = """
from __future__ import annotations
from dataclasses import dataclass

@dataclass(frozen=True)
class Quote:
    price_wad: int | None
    sizes: tuple[int, ...]

    @dataclass(frozen=True)
    class Leg:
        legs: dict[str, int]
"""


def _compiled_module(tmp_path: Path, name: str) -> types.ModuleType:
    """Stand in for a mypyc module: source beside a `.so` path, classes with erased annotations."""
    (tmp_path / f"{name}.py").write_text(SOURCE)
    module = types.ModuleType(name)
    module.__file__ = str(tmp_path / f"{name}.cpython-311-x86_64-linux-gnu.so")
    sys.modules[name] = module
    exec(SOURCE, module.__dict__)
    module.Quote.__annotations__ = {"price_wad": type, "sizes": tuple}  # what mypyc leaves
    return module


def test_a_pure_class_gives_its_hints_as_python_does() -> None:
    assert not is_compiled(PlaceOrder)
    assert declared_hints(PlaceOrder)["price_wad"] == int | None


def test_a_compiled_class_gives_the_hints_written_in_its_source(tmp_path: Path) -> None:
    module = _compiled_module(tmp_path, "fake_compiled_quotes")
    try:
        assert is_compiled(module.Quote)
        hints = declared_hints(module.Quote)
        assert hints == {"price_wad": int | None, "sizes": tuple[int, ...]}
        assert [field.name for field in dataclasses.fields(module.Quote)] == list(hints)
        assert declared_hints(module.Quote.Leg) == {"legs": dict[str, int]}
    finally:
        del sys.modules["fake_compiled_quotes"]


def test_a_compiled_class_without_its_source_is_a_clear_error(tmp_path: Path) -> None:
    module = _compiled_module(tmp_path, "fake_compiled_orphans")
    (tmp_path / "fake_compiled_orphans.py").unlink()
    try:
        with pytest.raises(TypeError, match="not installed beside it"):
            declared_hints(module.Quote)
    finally:
        del sys.modules["fake_compiled_orphans"]


def test_a_class_missing_from_its_source_is_a_clear_error(tmp_path: Path) -> None:
    module = _compiled_module(tmp_path, "fake_compiled_renamed")
    module.Quote.__qualname__ = "Renamed"
    try:
        with pytest.raises(TypeError, match="class Renamed not found"):
            declared_hints(module.Quote)
    finally:
        del sys.modules["fake_compiled_renamed"]
