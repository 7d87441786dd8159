"""`crossmargin serve`'s rate-limit and access-log flags: on by default with Backpack's budgets, off with a flag."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossmargin.api.rate_budgets import Budget, RateLimitSettings
from crossmargin.cli.edge_args import rate_limit_settings_from
from crossmargin.cli.main import build_parser
from crossmargin.cli.serve import ServeOptions


def test_the_limits_are_on_by_default_with_backpacks_budget_and_no_access_log(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PUBLIC", "SIGNED", "SIGNED_IP"):
        monkeypatch.delenv(f"CROSSMARGIN_RATE_LIMIT_{name}", raising=False)
    monkeypatch.delenv("CROSSMARGIN_ACCESS_LOG", raising=False)
    arguments = build_parser().parse_args(["serve"])
    settings = rate_limit_settings_from(arguments)
    assert settings == RateLimitSettings()
    assert settings.signed == settings.public == Budget(2000, 60, 200)
    assert settings.signed_ip == Budget(10_000, 60, 1_000)
    assert arguments.access_log is None
    options = ServeOptions("127.0.0.1", 8080, None, Path("d"), "wall", demo=True, assets_file=None, admin_token=None)
    assert options.rate_limits == RateLimitSettings(), "composed without the CLI, the server is limited too"


def test_no_rate_limit_turns_every_budget_off() -> None:
    assert rate_limit_settings_from(build_parser().parse_args(["serve", "--no-rate-limit"])) is None


def test_each_budget_is_set_by_its_flag_or_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSMARGIN_RATE_LIMIT_PUBLIC", "600/60")
    arguments = build_parser().parse_args(
        ["serve", "--rate-limit-signed", "30/10/5", "--rate-limit-signed-ip", "90/10"]
    )
    settings = rate_limit_settings_from(arguments)
    assert settings is not None
    assert (settings.public, settings.signed, settings.signed_ip) == (
        Budget(600, 60, 60),
        Budget(30, 10, 5),
        Budget(90, 10, 9),
    )


@pytest.mark.parametrize("budget", ["2000", "10/60/10", "0/60", "fast"])
def test_a_budget_the_bucket_cannot_honour_is_a_usage_error(budget: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["serve", "--rate-limit-public", budget])
    assert exited.value.code == 2
    assert "LIMIT/SECONDS" in capsys.readouterr().err


def test_the_access_log_goes_to_a_file_or_standard_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert build_parser().parse_args(["serve", "--access-log", "-"]).access_log == "-"
    path = tmp_path / "access.log"
    assert build_parser().parse_args(["serve", "--access-log", str(path)]).access_log == str(path)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--access-log", str(tmp_path / "missing" / "access.log")])
    assert "cannot append to" in capsys.readouterr().err
