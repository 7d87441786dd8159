"""The page's shell and assets: served locally with a strict content policy."""

from __future__ import annotations

from typing import Any

from plain_http import HTTP
from web_harness import Server


def test_every_page_path_serves_the_shell_with_a_strict_policy(server: Server) -> None:
    for path in ("/", "/lend", "/models/margin", "/futures", "/spot"):
        response = HTTP.get(server.url + path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert '<script type="module" src="/static/dist/main.js">' in response.text


def test_assets_come_from_this_server_only(server: Server, page: Any) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/lend")
    page.wait_for_load_state("networkidle")
    assert requested
    assert all(url.startswith((server.url, "data:")) for url in requested), requested


ASSET_BUDGET_BYTES = 280 * 1024
"""The page's own sources together (index.html, js/, css/), uncompressed: the page must stay small.

256 KiB since the trading view, 272 KiB since its account streams (account_stream.js and their
handling in trade_tables.js, 15 KB with their comments; the bundle grew by 5 KB), 276 KiB since
the chart's own time labels (format.js `chartTick` and `chartTime`, 2 KB with their comments,
which spare the chart's first drawing the browser's date-format data), 280 KiB since the page's
streams share one WebSocket (trade_stream.js's groups, ids and unsubscribing, 2 KB with comments;
the bundle grew by 0.6 KB).
"""
BUNDLE_BUDGET_BYTES = 128 * 1024
"""The bundle the browser loads instead of js/ (static/dist, `make web-bundle`), uncompressed."""
VENDOR_BUDGET_BYTES = 240 * 1024
"""The vendored libraries (static/vendor: Lightweight Charts and its licence), uncompressed."""


def test_assets_are_compressed_revalidated_and_within_budget(server: Server) -> None:
    from crossmargin.api.web_assets import static_directory  # noqa: PLC0415

    files = [path for path in static_directory().rglob("*") if path.is_file()]
    vendored = [path for path in files if path.relative_to(static_directory()).parts[0] == "vendor"]
    bundled = [path for path in files if path.relative_to(static_directory()).parts[0] == "dist"]
    assert sum(path.stat().st_size for path in files if path not in vendored + bundled) <= ASSET_BUDGET_BYTES
    assert sum(path.stat().st_size for path in bundled) <= BUNDLE_BUDGET_BYTES
    assert sum(path.stat().st_size for path in vendored) <= VENDOR_BUDGET_BYTES
    chart = "/static/vendor/lightweight-charts/lightweight-charts.standalone.production.mjs"
    library = HTTP.get(server.url + chart, headers={"Accept-Encoding": "gzip"})
    assert library.headers["content-encoding"] == "gzip"
    assert library.headers["content-type"].startswith("text/javascript")
    script = HTTP.get(server.url + "/static/dist/main.js", headers={"Accept-Encoding": "gzip"})
    assert script.status_code == 200
    assert script.headers["content-encoding"] == "gzip"
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "no-cache"
    again = HTTP.get(server.url + "/static/dist/main.js", headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304
    assert HTTP.get(server.url + "/static/js/no-such-module.js").status_code == 404
