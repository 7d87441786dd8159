"""The vendored third-party files the web page serves match the pinned npm package they came from."""

from __future__ import annotations

import json
from pathlib import Path

from tests.environment import missing

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "src" / "crossmargin" / "web" / "static" / "vendor" / "lightweight-charts"
BUILD = "lightweight-charts.standalone.production.mjs"


def pinned() -> str:
    version: str = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["dependencies"]["lightweight-charts"]
    return version


def test_lightweight_charts_is_pinned_exactly_and_named_in_the_vendored_files() -> None:
    version = pinned()
    assert version[0].isdigit(), f"pin lightweight-charts exactly (npm install --save-exact), not {version!r}"
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"]["node_modules/lightweight-charts"]["version"] == version
    header = (VENDOR / BUILD).read_text(encoding="utf-8")[:300]
    assert f"Lightweight Charts™ v{version}" in header
    assert f"**{version}**" in (VENDOR / "README.md").read_text(encoding="utf-8")
    assert "Apache License" in (VENDOR / "LICENSE").read_text(encoding="utf-8")


def test_the_vendored_build_equals_node_modules_copy() -> None:
    package = ROOT / "node_modules" / "lightweight-charts"
    if not package.exists():
        reason = "node_modules/lightweight-charts is missing: `npm ci` installs it"
        missing("it", reason)
    assert json.loads((package / "package.json").read_text(encoding="utf-8"))["version"] == pinned()
    assert (VENDOR / BUILD).read_bytes() == (package / "dist" / BUILD).read_bytes()
    assert (VENDOR / "LICENSE").read_bytes() == (package / "LICENSE").read_bytes()
