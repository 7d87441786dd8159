"""Load the core compiled by mypyc when it is asked for and was built from the sources in hand.

The core is plain Python and stays the reference. `scripts/build_compiled_core.py` (run by `make
run`, `make bench` and `make test`) compiles it with mypyc into a directory whose `digest` names
the sources, the Python and the mypy it came from. When `CROSSMARGIN_COMPILED_CORE` names that
directory, `crossmargin/__init__.py` calls `use_compiled_core`, which puts the directory's
`crossmargin/core` ahead of the source one on the package's path, so `import crossmargin.core...`
loads the compiled modules; every other subpackage still comes from the sources. A missing or stale
build (the core edited since) is reported on stderr and the pure core runs: stale compiled code
never runs. `CROSSMARGIN_COMPILED_CORE=` (empty) or unset means the pure core.
"""

from __future__ import annotations

import copyreg
import dataclasses
import hashlib
import operator
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

DIGEST_FILE = "digest"
ENVIRONMENT_VARIABLE = "CROSSMARGIN_COMPILED_CORE"


def core_source_digest(core: Path) -> str:
    """Return a digest of the core's sources and of the Python and mypy that compile them."""
    digest = hashlib.sha256()
    digest.update(f"{sys.implementation.cache_tag} {platform.machine()} mypy {_mypy_version()}\n".encode())
    for path in sorted(core.rglob("*.py")):
        digest.update(path.relative_to(core).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _mypy_version() -> str:
    # Imported here: importlib.metadata costs about 30 ms, which every `import crossmargin` (each CLI
    # command) paid while only a run with a compiled core needs it.
    from importlib import metadata  # noqa: PLC0415

    try:
        return metadata.version("mypy")
    except metadata.PackageNotFoundError:
        return "none"


def use_compiled_core(package_path: list[str]) -> bool:
    """Put a fresh compiled core ahead of the sources on `crossmargin.__path__`; say why not otherwise."""
    wanted = os.environ.get(ENVIRONMENT_VARIABLE, "")
    if not wanted:
        return False
    build = Path(wanted).resolve()
    sources = Path(package_path[-1]) / "core"
    reason = _unusable(build, sources)
    if reason:
        sys.stderr.write(f"crossmargin: {reason}; running the pure-Python core (rebuild: make compiled-core)\n")
        return False
    package_path.insert(0, str(build / "crossmargin"))
    sys.path.append(str(build))  # mypyc's shared runtime module sits at the top of the build
    return True


def _unusable(build: Path, sources: Path) -> str:
    digest_file = build / DIGEST_FILE
    if not digest_file.is_file():
        return f"no compiled core in {build}"
    if digest_file.read_text().strip() != core_source_digest(sources):
        return f"the compiled core in {build} was built from other sources (the core changed since)"
    return ""


def core_is_compiled() -> bool:
    """Whether the core that is loaded is the compiled one."""
    from crossmargin.core import engine  # noqa: PLC0415 -- asked after start-up, never at import

    return not (engine.__file__ or "").endswith(".py")


def make_core_picklable() -> int:
    """Let pickle and copy rebuild the compiled core's frozen dataclasses; return how many were registered.

    mypyc's own unpickling of a frozen dataclass goes through its frozen `__setattr__` and fails
    (`FrozenInstanceError`), so each compiled dataclass of `crossmargin.core` gets a reducer that
    rebuilds it field by field around that guard; a value class with its own `__init__` and
    read-only fields (`init=False`, ARCHITECTURE "Constructors") is rebuilt by calling it. The
    edge workers' command channel pickles commands and results; it calls this once the core is
    imported. A pure core needs nothing.

    Each class's field names are read once, here: the reducer pickles the class and its values in
    field order, and the rebuild takes the names from the same table (both ends of the channel
    register the same classes). `dataclasses.fields` on every instance cost about 3 us each, and
    one result (a borrow's reply) holds several dataclasses.
    """
    if not core_is_compiled():
        return 0
    registered = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith("crossmargin.core"):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == name:
                copyreg.pickle(value, _dataclass_reducer(value))
                registered += 1
    return registered


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}
"""Each registered dataclass's field names, in declared order: what its pickled values line up with."""


def _field_names(kind: type[Any]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(field.name for field in dataclasses.fields(kind))
    return names


def _dataclass_reducer(kind: type[Any]) -> Callable[[Any], tuple[Callable[..., Any], tuple[Any, ...]]]:
    names = _field_names(kind)
    values_of: Callable[[Any], tuple[Any, ...]]
    if len(names) > 1:
        values_of = operator.attrgetter(*names)  # one C call that returns the tuple of values
    else:
        values_of = lambda instance: tuple(getattr(instance, name) for name in names)  # noqa: E731
    if not kind.__dataclass_params__.init:  # its own compiled __init__ (read-only fields): called with the values

        def construct(instance: Any) -> tuple[Callable[..., Any], tuple[Any, ...]]:  # noqa: ANN401 -- any dataclass
            return kind, values_of(instance)

        return construct
    rebuild = _rebuild_dataclass

    def reduce(instance: Any) -> tuple[Callable[..., Any], tuple[Any, ...]]:  # noqa: ANN401 -- any dataclass
        return rebuild, (kind, values_of(instance))

    return reduce


def _rebuild_dataclass(kind: type[Any], values: tuple[Any, ...]) -> Any:  # noqa: ANN401 -- any dataclass
    instance = kind.__new__(kind)  # type: ignore[call-overload]  # a native class's own allocator
    set_field = object.__setattr__  # past the frozen guard, as dataclasses' own __init__ does
    for name, value in zip(_field_names(kind), values, strict=True):
        set_field(instance, name, value)
    return instance
