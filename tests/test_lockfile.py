"""requirements.lock is current: every dependency of pyproject.toml, extras included, pinned within its range.

`make run` and `make test` install from the lock (the Makefile's `$(STAMP)` rule); a dependency
added to pyproject.toml without `make lock` would be missing from a fresh install, and a range
narrowed past its pin would install a version the project does not accept. Both fail here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text().splitlines():
        found = PIN.match(line)
        if found:
            pins[canonicalize_name(found.group(1))] = found.group(2)
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    texts = [*project["dependencies"], *(text for extra in project["optional-dependencies"].values() for text in extra)]
    return [Requirement(text) for text in texts]


def test_every_dependency_and_extra_is_pinned_within_its_range() -> None:
    pins = _pins()
    assert len(pins) > 20, "the lock pins the whole tree, transitive dependencies included"
    for requirement in _requirements():
        name = canonicalize_name(requirement.name)
        if name == "crossmargin":
            continue  # an extra that names another extra of the project itself
        assert name in pins, f"{requirement.name} is not in requirements.lock: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {requirement.name}=={pins[name]}, outside {requirement}: run `make lock`"
        )


def test_the_lock_names_no_machine_path_or_index_and_make_installs_from_it() -> None:
    text = LOCK.read_text()
    assert not any(
        line.startswith(("--find-links", "--index-url", "--extra-index-url", "-e ")) for line in text.splitlines()
    )
    assert "file://" not in text
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet -r $(LOCK)" in makefile
    assert "pip install --quiet --no-deps -e ." in makefile
