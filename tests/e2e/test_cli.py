"""The `crossmargin` client commands against a real `crossmargin serve` process, as a user types them.

One server (manual clock, SQLite in a temporary directory) serves the whole module; each test
makes its own accounts, so tests do not depend on each other. Commands run in-process through
`main([...])` (stdout and stderr captured) and, where the exit status of the real program matters,
as a subprocess. Profiles go to a temporary config directory (`CROSSMARGIN_CONFIG_DIR`).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from cli_harness import Result, live_server, point_cli_at, run_in_process
from live_server import TOKEN, free_port

from crossmargin.cli import tables
from crossmargin.cli.commands import _advance_steps
from crossmargin.cli.durations import format_duration, parse_duration

README = Path(__file__).resolve().parent.parent.parent / "README.md"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(tmp_path_factory.mktemp("journal")) as url:
        yield url


@pytest.fixture
def cli(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    point_cli_at(monkeypatch, server, tmp_path / "config")
    return Cli(server, tmp_path / "config", capsys)


class Cli:
    def __init__(self, url: str, config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.url = url
        self.config_dir = config_dir
        self.capsys = capsys

    def __call__(self, *arguments: str) -> Result:
        return run_in_process(self.capsys, arguments)

    def ok(self, *arguments: str) -> Result:
        result = self(*arguments)
        assert result.code == 0, f"{arguments}: {result.err}"
        assert result.err == "" or "--json" in arguments, result.err
        return result

    def data(self, *arguments: str) -> object:
        return self.ok(*arguments, "--json").json()

    def new_profile(self, name: str = "default") -> dict[str, object]:
        created = self.data("account", "create", "--save", name)
        assert isinstance(created, dict)
        return created


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_the_tour_borrows_pays_interest_and_repays_to_the_last_atom(cli: Cli) -> None:
    created = cli.ok("account", "create", "--save")
    profile = cli.config_dir / "profiles" / "default.json"
    assert f"Saved as profile 'default' in {profile}" in one_line(created.out)
    assert stat.S_IMODE(profile.stat().st_mode) == 0o600, "the API secret is readable by its owner only"
    saved = json.loads(profile.read_text())
    assert saved["apiKey"] in created.out
    assert saved["url"] == cli.url

    assert f"Deposited 1 BTC to subaccount {saved['subaccountId']}." in cli.ok("deposit", "BTC", "1").out
    borrowed = cli.ok("borrow", "USDC", "2000").out
    assert re.search(r"Borrowed 2000 USDC: USDC debt now 2000\.\d+ \(interest so far 0\.\d+\)", borrowed), borrowed

    advanced = cli.ok("clock", "advance", "1h").out
    assert "Clock advanced 1h" in advanced
    assert "1 hourly interest run fell due." in advanced

    shown = cli.ok("status").out
    overview = cli.data("status")
    assert isinstance(overview, dict)
    (position,) = overview["positions"]
    debt = -Decimal(position["netQuantity"])
    assert debt > 2000, "the entry fee and one hour of interest were added to the debt"
    assert Decimal(position["cumulativeInterest"]) == debt - 2000
    collateral = overview["collateral"]
    figures = tables.margin_figures(collateral)
    for label, key in (
        ("margin fraction", "marginFraction"),
        ("initial margin ratio (IMR)", "initialMarginRatio"),
        ("maintenance margin ratio (MMR)", "maintenanceMarginRatio"),
    ):
        line = next(line for line in shown.splitlines() if label in line)
        assert tables.percent(figures[key]) in line, (label, line)
    assert figures["initialMarginRatio"] is not None
    assert figures["initialMarginRatio"] > 0
    assert tables.usd(collateral["netEquity"]) in shown
    assert tables.usd(collateral["borrowLiability"]) in shown
    usdc_row = next(line for line in shown.splitlines() if line.startswith("│ USDC"))
    assert tables.plain(debt) in usdc_row
    assert position["cumulativeInterest"] in usdc_row

    interest = cli.ok("history", "interest").out
    assert "EntryFee" in interest
    assert "Borrow" in interest
    paid = cli.data("history", "interest")
    assert isinstance(paid, list)
    assert [row["paymentType"] for row in paid] == ["Borrow", "EntryFee"]

    short = cli("repay", "USDC", "--all")
    assert short.code == 1
    # The engine's refusal, as the server sends it, names the whole debt and what is available.
    assert short.err.startswith("error INSUFFICIENT_FUNDS: "), short.err
    assert f"{tables.plain(debt)} USDC" in one_line(short.err)
    assert "available balance of 2000 USDC" in one_line(short.err)
    cli.ok("deposit", "USDC", "1")
    repaid = cli.ok("repay", "USDC", "--all").out
    assert f"Repaid {tables.plain(debt)} USDC: the USDC debt is cleared." in repaid
    after = cli.data("status")
    assert isinstance(after, dict)
    assert after["positions"] == [], "repay --all leaves no dust"
    assert after["collateral"]["borrowLiability"] == "0"

    markets = cli.ok("markets").out
    assert "Borrow-lend markets" in markets
    assert re.search(r"│ USDC\s+│ Open", markets), markets
    audit = cli.ok("audit").out
    passed, total = (int(number) for number in re.findall(r"Audit: (\d+) of (\d+)", audit)[0])
    assert passed == total > 0


def test_every_command_prints_json_that_parses(cli: Cli) -> None:
    created = cli.new_profile()
    assert set(created) == {"accountId", "subaccountId", "apiKey", "apiSecret"}
    assert cli.data("deposit", "BTC", "0.5") == {
        "subaccountId": created["subaccountId"],
        "symbol": "BTC",
        "quantity": "0.5",
    }
    assert cli.data("prices", "set", "ETH=3000") == {"prices": {"ETH": "3000"}}
    now = cli.data("clock", "show")
    assert isinstance(now, dict)
    assert isinstance(now["now"], int)
    markets = cli.data("markets")
    assert isinstance(markets, list)
    assert {market["symbol"] for market in markets} >= {"USDC", "BTC"}
    audit = cli.data("audit")
    assert isinstance(audit, dict)
    assert audit["ok"] is True
    assert cli.data("history", "interest") == []
    assert cli.data("history", "borrow-lend") == []
    borrowed = cli.data("borrow", "USDC", "100")
    assert isinstance(borrowed, dict)
    assert borrowed["request"] == {"symbol": "USDC", "side": "Borrow", "quantity": "100"}
    assert Decimal(borrowed["position"]["netQuantity"]) < -100
    moves = cli.data("history", "borrow-lend", "--symbol", "usdc")
    assert isinstance(moves, list)
    assert [move["eventType"] for move in moves] == ["Borrow"]
    settings = cli.data("account", "set", "--leverage-limit", "5")
    assert isinstance(settings, dict)
    assert settings["leverageLimit"] == "5"
    shown = cli.data("clock", "show")
    assert isinstance(shown, dict)
    assert shown["now"] == now["now"] + 2, "the borrow and the settings since, each at its own millisecond"
    advanced = cli.data("clock", "advance", "90s")
    assert isinstance(advanced, dict)
    assert advanced["now"] == shown["now"] + 90_000, "90 s after the time shown"


def test_borrowing_too_much_is_refused_with_the_servers_code_and_exit_status_1(cli: Cli) -> None:
    cli.new_profile()
    cli.ok("deposit", "BTC", "1")
    for extra in ((), ("--json",)):
        refused = cli("borrow", "USDC", "1000000", *extra)
        assert refused.code == 1
        assert refused.out == ""
        assert refused.err.startswith("error INSUFFICIENT_MARGIN: Borrow would exceed your available margin"), (
            refused.err
        )
        assert "max borrowable is" in refused.err


def test_lend_and_redeem_with_interest_earned(cli: Cli) -> None:
    lender = cli.new_profile("lender")
    borrower = cli.new_profile("borrower")
    cli.ok("deposit", "SOL", "100", "--subaccount", str(lender["subaccountId"]))
    cli.ok("deposit", "BTC", "1", "--profile", "borrower")
    assert "Lent 100 SOL: SOL lent now 100" in cli.ok("lend", "SOL", "100", "--profile", "lender").out
    cli.ok("borrow", "SOL", "10", "--profile", "borrower")
    cli.ok("clock", "advance", "2h")
    (position,) = cli.data("status", "--profile", "lender")["positions"]  # type: ignore[index]
    lent = Decimal(position["netQuantity"])
    assert lent >= 100
    assert cli("redeem", "SOL", "1000", "--profile", "lender").err.startswith(
        f"error BORROW_REQUIRES_LEND_REDEEM: You lend {tables.plain(lent)} SOL"
    )
    redeemed = cli.ok("redeem", "SOL", "--all", "--profile", "lender").out
    assert "the SOL lend is fully redeemed." in redeemed
    assert borrower["subaccountId"] != lender["subaccountId"]


def test_verbs_refuse_what_would_net_against_the_other_side(cli: Cli) -> None:
    cli.new_profile()
    cli.ok("deposit", "BTC", "1")
    cli.ok("deposit", "USDC", "100")
    assert cli("repay", "USDC", "1").err == "error: there is no USDC borrow to repay\n"
    assert cli("redeem", "USDC", "1").err == "error: there is no USDC lend to redeem\n"
    cli.ok("lend", "USDC", "50")
    lent = cli("borrow", "USDC", "10")
    assert lent.code == 1
    # A lend's value rounds down (in the pool's favour): 50 USDC lent may read 49.999999.
    assert re.search(r"you lend (50|49\.999999) USDC, so a borrow would redeem it", lent.err), lent.err
    cli.ok("redeem", "USDC", "--all")
    cli.ok("borrow", "USDC", "10")
    owed = cli("lend", "USDC", "5")
    assert owed.code == 1
    assert "so a lend would repay it: `crossmargin repay USDC` first" in owed.err
    assert "give a quantity or --all, not both" in cli("repay", "USDC", "1", "--all").err
    assert "give a quantity, or --all for the whole debt" in cli("repay", "USDC").err
    assert cli("repay", "USDC", "11").err.startswith("error LEND_REQUIRES_BORROW_REPAY: You owe ")
    cli.ok("account", "set", "--auto-lend", "on")
    # Auto-lend lends the idle USDC at once, so the manual action left to refuse is a redeem.
    auto = cli("redeem", "USDC", "1")
    assert auto.err.startswith("error PRECONDITION_FAILED: Auto-lend is on: turn it off"), auto.err


def test_a_refused_connection_says_how_to_start_the_server(cli: Cli) -> None:
    refused = cli("markets", "--url", f"http://127.0.0.1:{free_port()}")
    assert refused.code == 1
    assert refused.err.startswith("error: cannot reach a crossmargin server at http://127.0.0.1:")
    assert "crossmargin serve --clock manual" in refused.err


def test_missing_token_credentials_and_bad_input_are_explained(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "this command signs as a subaccount: save one with `crossmargin account create --save`" in cli("status").err
    monkeypatch.delenv("CROSSMARGIN_ADMIN_TOKEN")
    assert "pass --admin-token or set CROSSMARGIN_ADMIN_TOKEN" in cli("audit").err
    wrong = cli("audit", "--admin-token", "wrong")
    assert wrong.err.startswith("error UNAUTHORIZED: ")
    assert "no profile 'ghost'" in cli("status", "--profile", "ghost").err
    monkeypatch.setenv("CROSSMARGIN_ADMIN_TOKEN", TOKEN)
    cli.new_profile()
    assert "is not a positive decimal quantity" in cli("borrow", "USDC", "1e3").err
    assert "is not a duration" in cli("clock", "advance", "3x").err
    assert "is not SYMBOL=PRICE" in cli("prices", "set", "BTC").err
    assert "already exists" in cli("account", "create", "--save").err
    assert cli("account", "create", "--save", "--force").code == 0
    assert "nothing to change" in cli("account", "set").err
    assert cli("deposit", "BTC", "1", "--subaccount", "999999").err.startswith("error RESOURCE_NOT_FOUND: ")


def test_a_profile_dir_others_can_read_is_made_private_and_one_they_own_is_refused(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.new_profile()
    cli.config_dir.chmod(0o755)
    fixed = cli("status")
    assert fixed.code == 0, fixed.err
    assert fixed.err == (
        f"Made your profiles readable by you only (they hold API secrets): {cli.config_dir} was 0755, now 0700.\n"
    )
    assert cli.ok("status").err == "", "once fixed, nothing more is said"
    owner = cli.config_dir.stat().st_uid
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1)
    refused = cli("status")
    assert refused.code == 1
    assert refused.err.startswith(f"error: {cli.config_dir} is owned by"), refused.err
    assert "set CROSSMARGIN_CONFIG_DIR" in refused.err


def test_credentials_come_from_flags_environment_or_a_chosen_profile(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    first = cli.new_profile("first")
    second = cli.new_profile("second")
    cli.ok("deposit", "BTC", "2", "--profile", "first")
    cli.ok("deposit", "BTC", "3", "--profile", "second")

    def held(*arguments: str) -> str:
        overview = cli.data("status", *arguments)
        assert isinstance(overview, dict)
        (row,) = overview["collateral"]["collateral"]
        return str(row["totalQuantity"])

    assert held("--profile", "first") == "2"
    assert held("--api-key", str(second["apiKey"]), "--api-secret", str(second["apiSecret"])) == "3"
    monkeypatch.setenv("CROSSMARGIN_PROFILE", "second")
    assert held() == "3"
    assert held("--profile", "first") == "2", "a flag beats the environment"
    monkeypatch.setenv("CROSSMARGIN_API_KEY", str(first["apiKey"]))
    monkeypatch.setenv("CROSSMARGIN_API_SECRET", str(first["apiSecret"]))
    assert held() == "2", "keys in the environment beat a profile named in the environment"
    assert "go together" in cli("status", "--api-key", "x").err


def test_clock_advance_over_days_runs_every_hour_and_prints_a_plain_summary(cli: Cli) -> None:
    before = cli.data("clock", "show")
    advanced = cli.ok("clock", "advance", "3d").out
    assert "Clock advanced 3d" in advanced
    assert "72 hourly interest runs fell due." in advanced
    after = cli.data("clock", "show")
    assert after["now"] == before["now"] + 3 * 86_400_000  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("2h", 7200), ("3d", 259_200), ("1w", 604_800), ("1h30m", 5400), ("600", 600)],
)
def test_durations_parse_as_people_type_them(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "3x", "h", "1.5h", "-1h", "1h 3"])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_durations_format_back_and_long_advances_split_into_at_most_fifty_requests() -> None:
    assert format_duration(300 * 86_400) == "300d"
    assert format_duration(93_784) == "1d2h3m4s"
    assert _advance_steps(3600) == [3600]
    assert _advance_steps(3 * 86_400 + 60) == [86_400, 86_400, 86_400, 60]
    for seconds in (400 * 86_400, 10 * 366 * 86_400 + 7):
        steps = _advance_steps(seconds)
        assert sum(steps) == seconds
        assert len(steps) <= 51
        assert max(steps) <= 366 * 86_400, "each request stays within the server's one-year limit"


def _tour_commands() -> list[tuple[str, bool]]:
    """Return the README tour's terminal-2 commands and whether each is expected to be refused."""
    text = README.read_text(encoding="utf-8")
    tour = text[text.index("## Five-minute tour") :]
    block = tour[tour.index("**Terminal 2**") :]
    block = block[block.index("```sh") + len("```sh") : block.index("```", block.index("```sh") + 5)]
    commands = []
    for line in block.splitlines():
        command, _, comment = line.partition("#")
        if command.strip().startswith("crossmargin "):
            commands.append((command.strip(), comment.strip().startswith("refused")))
    return commands


def test_the_readme_tour_runs_as_written(cli: Cli) -> None:
    commands = _tour_commands()
    assert len(commands) >= 10
    for command, refused in commands:
        result = cli(*shlex.split(command)[1:])
        assert result.code == (1 if refused else 0), f"{command}: {result.err}"
        if refused:
            assert result.err.startswith("error"), result.err


def test_the_installed_program_exits_with_the_commands_status(cli: Cli) -> None:
    env = {**os.environ, "CROSSMARGIN_URL": cli.url, "CROSSMARGIN_ADMIN_TOKEN": TOKEN, "COLUMNS": "200"}
    program = [sys.executable, "-m", "crossmargin.cli.main"]
    done = subprocess.run(
        [*program, "markets", "--json"], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert any(market["symbol"] == "USDC" for market in json.loads(done.stdout))
    refused = subprocess.run(
        [*program, "repay", "USDC", "--all", "--api-key", "a", "--api-secret", "b"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1
    assert refused.stderr.startswith("error"), refused.stderr
