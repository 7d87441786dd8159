"""Route modules only wire HTTP to parser, service and view (issue 13, step 5).

Each module under `api/routes/` defines one or more `*_routes` factories whose closures are the
handlers; everything else lives beside them: parsing in `inputs.py` and the per-command parsers
(`capital_inputs.py`, `admin_inputs.py`, `borrow_lend_inputs.py`, `order_inputs.py`), bodies in
`api/views/`, paging in `paging.py`, the web page's files in `web_assets.py`. Checked on the
source, so a helper or an inline response body added to a route module fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROUTES = Path(__file__).resolve().parents[3] / "src" / "crossmargin" / "api" / "routes"
ROUTE_MODULES = sorted(path for path in ROUTES.glob("*.py") if path.name != "__init__.py")


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def test_the_route_modules_are_found() -> None:
    assert len(ROUTE_MODULES) >= 10, ROUTE_MODULES


@pytest.mark.parametrize("path", ROUTE_MODULES, ids=lambda path: path.name)
def test_a_route_module_defines_only_route_factories(path: Path) -> None:
    for node in _tree(path).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            assert node.name.endswith("_routes"), (
                f"routes/{path.name} defines {node.name}: parsing goes to a parser module, "
                "response shaping to api/views, shared helpers beside them"
            )


@pytest.mark.parametrize("path", ROUTE_MODULES, ids=lambda path: path.name)
def test_a_route_module_builds_no_body_itself(path: Path) -> None:
    functions = [node for node in ast.walk(_tree(path)) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
    for function in functions:
        for node in ast.walk(function):
            assert not isinstance(node, ast.Dict | ast.DictComp), (
                f"routes/{path.name}:{node.lineno} builds a dict in {function.name}: "
                "a response body is a view's (api/views), a request's fields a parser's"
            )


@pytest.mark.parametrize("path", ROUTE_MODULES, ids=lambda path: path.name)
def test_a_route_module_imports_no_other_route_module(path: Path) -> None:
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert not node.module.startswith("crossmargin.api.routes"), (
                f"routes/{path.name} imports {node.module}: what two route modules share lives outside routes/"
            )
