"""The declared field types of a class, also when the core is compiled with mypyc.

The codec builds its encoders from each journalled class's declared field types. For a class
written in Python, `typing.get_type_hints` gives them. A class compiled by mypyc keeps only erased
runtime types in `__annotations__` (`int | None` becomes `type`, `tuple[int, ...]` becomes
`tuple`), so for those the annotations are read back from the module's source file, which is
installed beside the compiled extension, and resolved in the module's namespace exactly as
`get_type_hints` resolves the string annotations of `from __future__ import annotations`.
"""

from __future__ import annotations

import ast
import functools
import sys
import typing
from pathlib import Path
from typing import Any


def declared_hints(declared: type[Any]) -> dict[str, Any]:
    """Return `declared`'s field annotations, resolved to types, whether or not it is compiled.

    A field declared `Final[T]` (a value class with its own `__init__`, ARCHITECTURE "Constructors")
    is of type `T`: `Final` says only that it is never assigned again.
    """
    if not is_compiled(declared):
        return _without_final(typing.get_type_hints(declared))
    written = _source_annotations(declared.__module__, declared.__qualname__)
    stand_in = type(declared.__name__, (), {"__annotations__": written, "__module__": declared.__module__})
    return _without_final(typing.get_type_hints(stand_in, globalns=vars(sys.modules[declared.__module__])))


def _without_final(hints: dict[str, Any]) -> dict[str, Any]:
    return {name: _unwrapped(hint) for name, hint in hints.items()}


def _unwrapped(hint: Any) -> Any:  # noqa: ANN401 -- any declared type
    return typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Final else hint


def is_compiled(declared: type[Any]) -> bool:
    """Whether `declared` comes from a module compiled to a C extension (mypyc)."""
    module = sys.modules.get(declared.__module__)
    source = getattr(module, "__file__", None) or ""
    return not source.endswith(".py")


@functools.cache
def _source_annotations(module_name: str, qualname: str) -> dict[str, str]:
    compiled = Path(typing.cast("str", sys.modules[module_name].__file__))
    source = compiled.with_name(compiled.name.split(".", 1)[0] + ".py")
    if not source.is_file():
        raise TypeError(f"{module_name} is compiled and its source {source.name} is not installed beside it")
    tree = ast.parse(source.read_text(encoding="utf-8"))
    body: list[ast.stmt] = tree.body
    for part in qualname.split("."):
        found = next((node for node in body if isinstance(node, ast.ClassDef) and node.name == part), None)
        if found is None:
            raise TypeError(f"class {qualname} not found in {source.name}")
        body = found.body
    return {
        node.target.id: ast.unparse(node.annotation)
        for node in body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }
