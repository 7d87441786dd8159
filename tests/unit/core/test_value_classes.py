"""The core's value classes with their own `__init__`: still the dataclasses they were, and read-only.

The values built most often (orders, holdings, margin lines, pools, positions, the frequent events,
`Accepted`) are dataclasses with `init=False`, `Final` fields and a written-out `__init__`, which
mypyc compiles (the `__init__` that `dataclasses` generates stays interpreted, about 20 times
slower). These tests pin that each is still the value it was as a frozen dataclass: built by
keyword or position, copied by `dataclasses.replace`, equal and hashed by its fields, printed as a
dataclass, pickled and deep-copied, and, compiled, refusing to be changed (the pure core leaves
that to mypy, which refuses any assignment to a `Final` field; `tests/test_tidy.py` checks every
field is `Final`).
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import importlib
import pickle
import pkgutil
import types
import typing
from typing import Any

import pytest

import crossmargin.core
from crossmargin.app.declared_types import declared_hints
from crossmargin.compiled_core import core_is_compiled, make_core_picklable

OVERRIDES: dict[str, dict[str, object]] = {"Position": {"debt_scaled": 0}}
"""Fields a sample must not fill with its running numbers: a position either lends or borrows."""


def value_classes() -> list[type[Any]]:
    """Return every dataclass of the core that writes its own `__init__` (`init=False`)."""
    found: dict[str, type[Any]] = {}
    for module_info in pkgutil.walk_packages(crossmargin.core.__path__, "crossmargin.core."):
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if not (isinstance(value, type) and value.__module__ == module.__name__):
                continue
            params = getattr(value, "__dataclass_params__", None)
            if params is not None and not params.init:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


class Sampler:
    """Makes a value of each declared type: every number a different one (so a swapped field shows).

    The `other` sampler's strings, flags and enum members differ from the first one's too.
    """

    def __init__(self, *, other: bool = False) -> None:
        self.number = 1000 if other else 0
        self.other = other

    def sample(self, declared: object) -> object:
        declared = getattr(declared, "__supertype__", declared)  # a NewType: its base
        origin, args = typing.get_origin(declared), typing.get_args(declared)
        if origin in (types.UnionType, typing.Union):
            return self.sample(next(arg for arg in args if arg is not type(None)))
        if origin is tuple:
            return tuple(self.sample(arg) for arg in args if arg is not Ellipsis)
        if isinstance(declared, type) and (dataclasses.is_dataclass(declared) or hasattr(declared, "_fields")):
            return self.build(declared)
        return self._scalar(declared)

    def _scalar(self, declared: object) -> object:
        if declared is int:
            self.number += 1
            return self.number
        if declared is bool:
            return not self.other
        if declared is str:
            return "ETH" if self.other else "BTC"
        if not (isinstance(declared, type) and issubclass(declared, enum.Enum)):
            raise TypeError(f"no sample for {declared!r}")
        return list(declared)[0 if self.other else -1]

    def build(self, kind: type[Any]) -> Any:
        """Return a `kind` (a dataclass or a NamedTuple) with a sample in every field."""
        if dataclasses.is_dataclass(kind):
            hints, names = declared_hints(kind), [field.name for field in dataclasses.fields(kind)]
        else:
            hints, names = typing.get_type_hints(kind), list(kind._fields)
        values = {name: self.sample(hints[name]) for name in names}
        return kind(**(values | OVERRIDES.get(kind.__name__, {})))


CLASSES = value_classes()


def test_the_hot_values_are_value_classes() -> None:
    names = {kind.__name__ for kind in CLASSES}
    hot = {"Order", "Fill", "Holding", "AssetMargin", "PerpMargin", "MarginSummary", "Pool", "Position"}
    assert hot | {"Subaccount", "Accepted", "Ratio", "Deposited", "BorrowLendMoved", "EntryFeeCharged"} <= names


@pytest.mark.parametrize("kind", CLASSES, ids=lambda kind: kind.__name__)
def test_a_value_class_is_the_dataclass_it_was(kind: type[Any]) -> None:
    built = Sampler().build(kind)
    names = [field.name for field in dataclasses.fields(kind)]
    values = [getattr(built, name) for name in names]
    assert kind(*values) == built, "built by position, in field order"
    assert hash(kind(*values)) == hash(built)
    assert dataclasses.replace(built) == built
    assert dataclasses.astuple(built) == dataclasses.astuple(kind(**dict(zip(names, values, strict=True))))
    assert (
        repr(built)
        == f"{kind.__qualname__}({', '.join(f'{name}={value!r}' for name, value in zip(names, values, strict=True))})"
    )
    assert kind.__match_args__ == tuple(names)
    hints = declared_hints(kind)
    for index, name in enumerate(names):
        other = Sampler(other=True).sample(hints[name])
        if name in OVERRIDES.get(kind.__name__, {}):
            continue
        changed = dataclasses.replace(built, **{name: other})
        assert changed != built, f"equality compares {name}"
        assert [getattr(changed, each) for each in names] == [*values[:index], other, *values[index + 1 :]]


@pytest.mark.parametrize("kind", CLASSES, ids=lambda kind: kind.__name__)
def test_a_value_class_survives_pickle_and_deepcopy(kind: type[Any]) -> None:
    make_core_picklable()  # what the edge channel does; the compiled core's native classes need it
    built = Sampler().build(kind)
    for copied in (pickle.loads(pickle.dumps(built)), copy.deepcopy(built), copy.copy(built)):
        assert type(copied) is kind
        assert copied == built
        assert repr(copied) == repr(built)


@pytest.mark.parametrize("kind", CLASSES, ids=lambda kind: kind.__name__)
def test_a_value_class_is_read_only(kind: type[Any]) -> None:
    """Compiled, a write fails at run time; pure, every field is `Final`, so mypy refuses any write."""
    built = Sampler().build(kind)
    name = dataclasses.fields(kind)[0].name
    if core_is_compiled():
        with pytest.raises(AttributeError):
            setattr(built, name, getattr(built, name))
    else:
        written = {field.name: kind.__annotations__[field.name] for field in dataclasses.fields(kind)}
        assert all(annotation.startswith("Final[") for annotation in written.values()), written
