"""Browser tests: a real `crossmargin serve` on loopback, driven through Debian's Chromium by Playwright.

Playwright only drives the system browser (`/usr/bin/chromium`, from `apt-get install -y chromium`);
it never downloads one. Without that browser the tests skip with a note saying how to enable them,
except under CI=true, where a missing browser is a failure.

Each test gets a fresh browser context (no shared storage) and leaves a full-page screenshot in
`test-artifacts/browser/<test>.png`, pass or fail. A page that logs a JavaScript error or an
uncaught exception fails its test.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.environment import missing

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))

import live_server
from web_harness import Server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"

pytestmark = pytest.mark.browser

# axe-core comes from npm (package.json's devDependencies, installed into node_modules by
# `make lint-js` or `npm ci`); it is served to the page from its own origin by a Playwright route,
# so the audit runs under the page's real Content-Security-Policy (script-src 'self'). Without
# node_modules/axe-core the audits skip with a note, except under CI=true, where that is a failure.
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_URL = "/__test__/axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA; and axe's best practices (landmarks, heading order, one h1, ...).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
  }));
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Return Chromium, launched by Playwright with the flags this project allows.

    Module-scoped on purpose: Playwright's sync API keeps an asyncio loop running on this thread
    while it is open, so a session-wide browser would make every later test's `asyncio.run` fail.
    """
    if not CHROMIUM.exists():
        reason = f"browser tests need Debian's chromium at {CHROMIUM}: apt-get install -y chromium"
        missing("the browser", reason)
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 -- only when a browser exists

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Return a live demo server on a manual clock, shared by one test module."""
    port = live_server.free_port()
    process = live_server.start(tmp_path_factory.mktemp("web-data"), port)
    url = f"http://127.0.0.1:{port}"
    admin = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {live_server.TOKEN}"}, timeout=30)
    try:
        yield Server(url, admin)
        audit = admin.get("/admin/v1/audit").json()
        assert audit["ok"], audit
    finally:
        admin.close()
        live_server.stop(process)


def _is_script_error(message: Any) -> bool:
    """Return whether a console message is an error, other than the browser's note on a refused API call.

    Chromium logs every 4xx answer to `fetch` ("Failed to load resource: ... status of 400"); a refusal
    the page shows in words is expected, so only those under /api, /wapi and /admin are let through.
    """
    if message.type != "error":
        return False
    url = str(message.location.get("url", ""))
    refused = re.search(r"status of 4\d\d", message.text) and re.search(r"//[^/]+/(api|wapi|admin)/", url)
    return not refused


@pytest.fixture
def page(browser: Any, server: Server, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Return a page in a fresh context; screenshot it afterwards and fail on any script error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.url)
    context.set_default_timeout(10_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    opened.on("console", lambda message: errors.append(message.text) if _is_script_error(message) else None)
    try:
        yield opened
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        opened.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        context.close()
    assert not errors, f"the page logged errors: {errors}"


@pytest.fixture
def audit(page: Any) -> Any:
    """Return a function that runs axe-core on the page as it is now and fails on any violation."""
    if not AXE.exists():
        reason = "node_modules/axe-core is missing: `make lint-js` (or `npm ci`) installs it"
        missing("axe-core", reason)
    page.route(f"**{AXE_URL}", lambda route: route.fulfill(path=str(AXE), content_type="text/javascript"))

    def run(state: str) -> None:
        if not page.evaluate("typeof window.axe === 'object'"):
            page.add_script_tag(url=AXE_URL)
        violations = page.evaluate(RUN_AXE, TAGS)
        report = "\n".join(
            f"{v['id']} ({v['impact']}): {v['help']}\n"
            + "\n".join(f"    {node['target']}: {node['summary']}" for node in v["nodes"])
            for v in violations
        )
        assert not violations, f"axe found violations on {state}:\n{report}"

    return run
