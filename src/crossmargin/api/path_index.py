"""Starlette's router, finding the same route without trying every route's pattern in turn.

Starlette matches a request by trying each route's regular expression in the order the routes were
listed: 88 routes, so `GET /api/v1/depth` (the 57th) spent 30 µs there and `POST /api/v1/order`
32 µs, measured, where a whole public read takes about 100 µs. `PathIndexRouter` tries only the
routes that can match the request's path: the routes of exactly that path (a path without
parameters matches one string only) and every route with parameters, in the order they were
listed. A route left out cannot match that path, so the first full match, and the first partial
one (a path served for another method: 405), are the ones Starlette would have found.

What matches nothing (a 404, a redirect for a trailing slash) and anything under a root path goes
to Starlette's own router unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Route, Router, WebSocketRoute
from starlette.types import Receive, Scope, Send

Candidates = tuple[BaseRoute, ...]


def _literal_path(route: BaseRoute) -> str | None:
    """Return the one path a route matches, or None when it has parameters (or is a mount, a host)."""
    if isinstance(route, Route | WebSocketRoute) and not route.param_convertors:
        return route.path
    return None


def candidates_by_path(routes: Sequence[BaseRoute]) -> tuple[dict[str, Candidates], Candidates]:
    """Return, per literal path, the routes that can match it in their order; and those for any other path."""
    literal = [_literal_path(route) for route in routes]
    with_parameters = tuple(route for route, path in zip(routes, literal, strict=True) if path is None)
    by_path = {
        path: tuple(route for route, other in zip(routes, literal, strict=True) if other in (path, None))
        for path in literal
        if path is not None
    }
    return by_path, with_parameters


class PathIndexRouter(Router):
    """A `Router` that tries only the routes whose pattern can match the request's path."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        """Route as Starlette's `Router(routes)` does (lifespan and redirects included)."""
        super().__init__(routes=list(routes))
        self._by_path, self._with_parameters = candidates_by_path(self.routes)

    def candidates(self, path: str) -> Candidates:
        """Return the routes that can match `path`, in their listed order."""
        return self._by_path.get(path, self._with_parameters)

    def pick(self, scope: Scope) -> tuple[BaseRoute, Scope] | None:
        """Return the route (and child scope) Starlette would hand a request to; None when no route matches."""
        partial: tuple[BaseRoute, Scope] | None = None
        for route in self.candidates(scope["path"]):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return route, child_scope
            if match is Match.PARTIAL and partial is None:
                partial = (route, child_scope)
        return partial

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand the request to the route Starlette would pick; what matches nothing goes to Starlette."""
        picked = None if scope["type"] == "lifespan" or scope.get("root_path") else self.pick(scope)
        if picked is None:
            await super().app(scope, receive, send)  # the lifespan, a root path, a slash to redirect, a 404
            return
        route, child_scope = picked
        if "router" not in scope:
            scope["router"] = self
        scope["route"] = route
        scope.update(child_scope)
        await route.handle(scope, receive, send)
