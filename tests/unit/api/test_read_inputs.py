"""A read an edge worker serves parses its query with the route's own parser (`api/read_inputs.py`).

Two copies of one parser drift; these checks keep the edge table on the shared parsers and the
parsed fills query in the order `view_fills` takes it.
"""

from __future__ import annotations

import inspect

import pytest

from crossmargin.api import read_inputs
from crossmargin.api.edge_reads import EDGE_READS
from crossmargin.api.views.orders import view_fills


@pytest.mark.parametrize("path", sorted(EDGE_READS))
def test_an_edge_read_parses_with_the_shared_parser(path: str) -> None:
    assert EDGE_READS[path].parse.__module__ == read_inputs.__name__


def test_the_fills_query_is_in_the_views_argument_order() -> None:
    names = tuple(inspect.signature(view_fills).parameters)
    assert read_inputs.FillsQuery._fields == names[2:]
