"""PathIndexRouter picks exactly the route Starlette's own router picks, in fewer tries.

Starlette tries every route in its listed order: the first full match wins, else the first partial
one (a path served for another method: 405). The reference below is that loop; the index must
agree with it on the application's real route table and on generated tables with duplicate
paths, parameters, mounts and websocket routes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.types import Scope
from starlette.websockets import WebSocket

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.app import create_app
from crossmargin.api.path_index import PathIndexRouter
from crossmargin.app.clock import ManualClock
from crossmargin.app.service import Service
from crossmargin.asset_config import load_asset_specs

METHODS = ("GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS")
Picked = tuple[BaseRoute, Scope] | None


def starlette_pick(routes: Sequence[BaseRoute], scope: dict[str, Any]) -> Picked:
    """Starlette's `Router.app` loop: every route in turn."""
    partial: Picked = None
    for route in routes:
        match, child_scope = route.matches(scope)
        if match is Match.FULL:
            return route, child_scope
        if match is Match.PARTIAL and partial is None:
            partial = (route, child_scope)
    return partial


def scope_of(kind: str, path: str, method: str = "GET") -> dict[str, Any]:
    scope: dict[str, Any] = {"type": kind, "path": path, "root_path": "", "headers": [], "query_string": b""}
    if kind == "http":
        scope["method"] = method
    return scope


def assert_same_pick(routes: Sequence[BaseRoute], scope: dict[str, Any]) -> None:
    expected = starlette_pick(routes, scope)
    got = PathIndexRouter(routes).pick(dict(scope))
    if expected is None:
        assert got is None, scope
    else:
        assert got is not None, scope
        assert got[0] is expected[0], (scope, got[0], expected[0])
        assert got[1] == expected[1], scope


@pytest.fixture(scope="module")
def real_routes() -> Iterator[Sequence[BaseRoute]]:
    service = Service.open(MemoryJournal(), ManualClock(1_767_225_600_000), load_asset_specs())
    try:
        router = create_app(service, admin_token="token").router
        assert isinstance(router, PathIndexRouter), "the application routes through the index"
        yield router.routes
    finally:
        service.close()


def _paths_of(routes: Sequence[BaseRoute]) -> list[str]:
    paths = []
    for route in routes:
        path = str(getattr(route, "path", ""))
        filled = path.replace("{path:path}", "dist/main.js").replace("{", "").replace("}", "").replace(":path", "")
        paths += [filled, filled + "/", filled + "/x", filled[:-1]]
    return [*paths, "/", "", "/nowhere", "/api/v1/", "/static/", "/static/dist/main.js"]


def test_the_applications_routes_are_picked_as_starlette_picks_them(real_routes: Sequence[BaseRoute]) -> None:
    paths = _paths_of(real_routes)
    assert len(real_routes) > 50
    for path in paths:
        assert_same_pick(real_routes, scope_of("websocket", path))
        for method in METHODS:
            assert_same_pick(real_routes, scope_of("http", path, method))


async def _endpoint(_: Request) -> Response:
    return PlainTextResponse("ok")


async def _socket(websocket: WebSocket) -> None:
    await websocket.close()


SEGMENTS = st.sampled_from(["a", "b", "c", "{name}", "{rest:path}", "{number:int}"])
REQUEST_SEGMENTS = st.sampled_from(["a", "b", "c", "7", "x.js", ""])


@st.composite
def route_tables(draw: st.DrawFn, depth: int = 0) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for _ in range(draw(st.integers(1, 8))):
        segments = draw(st.lists(SEGMENTS, min_size=0, max_size=3))
        # Parameters named apart, and a path parameter only last (as Starlette requires).
        segments = [s for s in segments[:-1] if s != "{rest:path}"] + segments[-1:]
        numbered = [s.replace("{", "{p" + str(i)) if s.startswith("{") else s for i, s in enumerate(segments)]
        path = "/" + "/".join(numbered)
        kind = draw(st.sampled_from(["route", "route", "socket", "mount"] if depth == 0 else ["route", "socket"]))
        if kind == "route":
            methods = draw(st.lists(st.sampled_from(METHODS[:5]), min_size=1, max_size=3, unique=True))
            routes.append(Route(path, _endpoint, methods=methods))
        elif kind == "socket":
            routes.append(WebSocketRoute(path, _socket))
        elif "{" not in path and path != "/":
            routes.append(Mount(path, routes=draw(route_tables(depth=1))))
    return routes


@settings(max_examples=300, deadline=None)
@given(
    route_tables(),
    st.lists(REQUEST_SEGMENTS, min_size=0, max_size=4),
    st.sampled_from(METHODS),
    st.sampled_from(["http", "websocket"]),
)
def test_generated_tables_are_picked_as_starlette_picks_them(
    routes: list[BaseRoute], segments: list[str], method: str, kind: str
) -> None:
    assert_same_pick(routes, scope_of(kind, "/" + "/".join(segments), method))


def test_405_404_and_the_trailing_slash_redirect_are_starlettes() -> None:
    app = Starlette(routes=[Route("/a", _endpoint, methods=["POST"]), Route("/b/", _endpoint, methods=["GET"])])
    app.router = PathIndexRouter(app.routes)
    client = TestClient(app, follow_redirects=False)
    assert client.post("/a").text == "ok"
    assert client.get("/a").status_code == 405
    assert client.get("/nowhere").status_code == 404
    redirected = client.get("/b")
    assert redirected.status_code == 307
    assert redirected.headers["location"].endswith("/b/")
