"""Answer a history with one page of it and Backpack's paging headers (X-PAGE-COUNT, X-TOTAL, ...).

A history view returns every matching row; the request's `limit` (at most `LIMIT_MAX`) and
`offset` pick the page, read after the rows so that a bad filter is refused first (an edge worker
reads them with the same `page_query` before it sends the read on, `edge_reads.py`).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response

from crossmargin.api import inputs
from crossmargin.api.responses import json_response
from crossmargin.api.views.common import LIMIT_MAX, JsonValue, page

Paging = tuple[int | None, int | None]
"""The page asked for: `limit` and `offset`, None where left out."""


def page_query(parameters: Mapping[str, object]) -> Paging:
    """Return the `limit` (at most `LIMIT_MAX`) and `offset` a request asks for."""
    limit = inputs.optional_integer(parameters, "limit", maximum=LIMIT_MAX)
    return limit, inputs.optional_integer(parameters, "offset")


def paged_response(rows: list[JsonValue], parameters: Mapping[str, object]) -> Response:
    """Return the page of `rows` that `limit` and `offset` ask for, with the paging headers."""
    found = page(rows, *page_query(parameters))
    return json_response(found.rows, headers=found.headers())
