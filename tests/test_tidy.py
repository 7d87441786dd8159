"""Repository rules (our version of TigerBeetle's tidy.zig), checked on every test run.

The core is pure: it imports only the standard library and itself, and uses no floats,
randomness, wall clock, printing or logging. Functions and modules in the core stay short. Layers
import one way: `core` knows nothing of `app`, `adapters`, `api` or `cli`; `app` and `adapters`
know nothing of `api` or `cli`. Only the commit path (`core/commit.py`, with the derived
indexes `core/state.py` keeps) changes an EngineState. The engine dispatches every command through one table, which the
journal's codec shares, and docs/INVARIANTS.md lists every refusal reason with its Backpack code.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import sys
import tokenize
import typing
from pathlib import Path

import pytest

from crossmargin.api.errors import api_error_code
from crossmargin.app.codec import COMMAND_TYPES
from crossmargin.core.commands import Command
from crossmargin.core.engine import HANDLERS
from crossmargin.core.rejections import RejectReason
from crossmargin.core.state import EngineState

SOURCE = Path(__file__).resolve().parent.parent / "src" / "crossmargin"
CORE_BANNED_CALLS = ("float(", "random", "datetime.now", "time.time", "print(", "logging")
FUNCTION_LINES_MAX = 70
MODULE_LINES_MAX = 350
# Core modules allowed over the limit, each for a reason written here; none today.
OVER_350_OWNED_ELSEWHERE: frozenset[str] = frozenset()
INVARIANTS = SOURCE.parent.parent / "docs" / "INVARIANTS.md"


def python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("path", python_files(SOURCE / "core"), ids=lambda path: path.name)
def test_core_imports_only_the_standard_library_and_itself(path: Path) -> None:
    for module in imported_modules(path):
        top = module.split(".")[0]
        allowed = top in sys.stdlib_module_names or top == "__future__" or module.startswith("crossmargin.core")
        assert allowed, f"{path.name} imports {module}: the core imports only stdlib and crossmargin.core"


@pytest.mark.parametrize("path", python_files(SOURCE / "core"), ids=lambda path: path.name)
def test_core_uses_no_float_randomness_clock_or_output(path: Path) -> None:
    with path.open("rb") as source:
        tokens = tokenize.tokenize(source.readline)
        code = "".join(token.string for token in tokens if token.type in (tokenize.NAME, tokenize.OP))
    for banned in CORE_BANNED_CALLS:
        assert banned not in code, f"{path.name} uses {banned!r}, which the pure core must not"


@pytest.mark.parametrize("path", python_files(SOURCE / "core"), ids=lambda path: path.name)
def test_core_functions_stay_under_seventy_lines(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= FUNCTION_LINES_MAX, f"{path.name}:{node.name} is {length} lines"


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("core", ("crossmargin.app", "crossmargin.adapters", "crossmargin.api", "crossmargin.cli", "crossmargin.risk")),
        ("app", ("crossmargin.api", "crossmargin.cli", "crossmargin.adapters")),
        ("adapters", ("crossmargin.api", "crossmargin.cli")),
        ("risk", ("crossmargin.app", "crossmargin.api", "crossmargin.cli", "crossmargin.adapters")),
    ],
)
def test_layers_import_one_way(layer: str, forbidden: tuple[str, ...]) -> None:
    for path in python_files(SOURCE / layer):
        for module in imported_modules(path):
            assert not module.startswith(forbidden), f"{layer}/{path.name} imports {module}"


def test_every_core_module_opens_with_a_docstring() -> None:
    for path in python_files(SOURCE / "core"):
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert docstring, f"{path.name} has no module docstring defining its concept"


@pytest.mark.parametrize("path", python_files(SOURCE / "core"), ids=lambda path: path.name)
def test_core_modules_stay_under_350_lines(path: Path) -> None:
    if path.relative_to(SOURCE / "core").as_posix() in OVER_350_OWNED_ELSEWHERE:
        return
    length = len(path.read_text(encoding="utf-8").splitlines())
    assert length <= MODULE_LINES_MAX, f"{path.name} is {length} lines: split it by concept"


def test_the_allow_list_of_long_modules_names_core_modules() -> None:
    for name in OVER_350_OWNED_ELSEWHERE:
        assert (SOURCE / "core" / name).is_file(), f"{name} is gone: take it off OVER_350_OWNED_ELSEWHERE"


def test_the_engine_dispatches_every_command_through_its_table() -> None:
    assert set(HANDLERS) == set(typing.get_args(Command)), "every command type has exactly one handler"
    assert tuple(HANDLERS) == COMMAND_TYPES, "the codec stores exactly the commands the engine runs"
    tree = ast.parse((SOURCE / "core" / "engine.py").read_text(encoding="utf-8"))
    matches = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Match)]
    assert not matches, f"engine.py dispatches with `match` at lines {matches}: add the handler to HANDLERS"


def test_invariants_md_lists_every_refusal_with_its_backpack_code() -> None:
    text = INVARIANTS.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z_]+)` \| .+ \| `([A-Z_]+)` \((\d{3})\) \|$", text, flags=re.MULTILINE)
    documented = [(value, code, int(status)) for value, code, status in rows]
    expected = [(reason.value, *reversed(api_error_code(reason))) for reason in RejectReason]
    assert documented == expected, "docs/INVARIANTS.md lists every RejectReason, in order, with its code and status"


STATE_MUTATORS = frozenset(
    {"append", "extend", "insert", "update", "pop", "popitem", "setdefault", "clear", "add", "discard", "remove"}
)
STATE_FIELDS = frozenset(field.name for field in dataclasses.fields(EngineState))
ONE_MUTATOR = frozenset({"core/commit.py", "core/state.py"})


def _is_engine_state(node: ast.expr) -> bool:
    """Return whether an expression names an engine state by the project's naming (`state`, `tx.state`)."""
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return name == "state" or name.endswith("_state")


def _touches_state_field(node: ast.expr) -> bool:
    """Return whether an expression is a field of an engine state or an item or attribute inside one."""
    while isinstance(node, ast.Subscript | ast.Attribute):
        if isinstance(node, ast.Attribute) and node.attr in STATE_FIELDS and _is_engine_state(node.value):
            return True
        node = node.value
    return False


def state_mutations(path: Path) -> list[int]:
    """Return the lines that assign, delete or change in place a field of an engine state."""
    found: list[int] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Assign | ast.Delete):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in STATE_MUTATORS:
            targets = [node.func.value]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
            found.extend(node.lineno for target in node.args[:1] if _is_engine_state(target))
            continue
        else:
            continue
        found.extend(node.lineno for target in targets if _touches_state_field(target))
    return found


@pytest.mark.parametrize("path", python_files(SOURCE), ids=lambda path: path.relative_to(SOURCE).as_posix())
def test_only_the_commit_path_changes_engine_state(path: Path) -> None:
    if path.relative_to(SOURCE).as_posix() in ONE_MUTATOR:
        return
    lines = state_mutations(path)
    assert not lines, (
        f"{path.relative_to(SOURCE)} changes an EngineState at lines {lines}: "
        "only Transaction.commit does, through core/commit.py (write into a transaction and let the engine commit it)"
    )


def test_the_one_mutator_rule_sees_a_mutation() -> None:
    assert state_mutations(SOURCE / "core" / "commit.py"), "the commit path changes the state: the rule sees it"


def _dataclass_keywords(node: ast.ClassDef) -> dict[str, object] | None:
    """Return the keywords of a class's `@dataclass(...)` decorator (None: not a dataclass)."""
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Name) and decorator.id == "dataclass":
            return {}
        if (
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Name)
            and decorator.func.id == "dataclass"
        ):
            return {kw.arg: ast.literal_eval(kw.value) for kw in decorator.keywords if kw.arg}
    return None


def value_class_faults(path: Path) -> list[str]:
    """Return what breaks the value-class rule in a module (ARCHITECTURE "Constructors").

    A core dataclass that writes its own `__init__` (`init=False`) is a value: every field is
    `Final` (mypy then refuses any assignment to it, and mypyc makes it read-only), and its
    `__init__` takes the fields in their order (so `replace`, the codec and pickling build it as
    `dataclasses` would).
    """
    faults = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ClassDef):
            continue
        keywords = _dataclass_keywords(node)
        if keywords is None or keywords.get("init", True):
            continue
        fields = [stmt for stmt in node.body if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)]
        faults += [
            f"{node.name}.{ast.unparse(field.target)} is not Final"
            for field in fields
            if not ast.unparse(field.annotation).startswith("Final[")
        ]
        faults += [
            f"{node.name}.{ast.unparse(field.target)} has a class-level default" for field in fields if field.value
        ]
        init = next((stmt for stmt in node.body if isinstance(stmt, ast.FunctionDef) and stmt.name == "__init__"), None)
        parameters = [arg.arg for arg in init.args.args[1:]] if init else None
        if parameters != [ast.unparse(field.target) for field in fields]:
            faults.append(f"{node.name}.__init__ takes {parameters}, not its fields in order")
    return faults


@pytest.mark.parametrize("path", python_files(SOURCE / "core"), ids=lambda path: path.relative_to(SOURCE).as_posix())
def test_core_value_classes_are_read_only_and_built_from_their_fields(path: Path) -> None:
    assert value_class_faults(path) == []


def test_the_value_class_rule_sees_a_writable_field_and_a_reordered_init(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "@dataclass(slots=True, init=False, unsafe_hash=True)\n"
        "class Pair:\n"
        "    left: Final[int]\n"
        "    right: int\n"
        "    def __init__(self, right: int, left: int) -> None: ...\n"
    )
    assert value_class_faults(bad) == [
        "Pair.right is not Final",
        "Pair.__init__ takes ['right', 'left'], not its fields in order",
    ]
