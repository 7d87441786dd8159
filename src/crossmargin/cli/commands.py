"""The client commands of `crossmargin`: each one a few HTTP requests to a running server, shown as tables.

Operator commands (`account create`, `deposit`, `prices set`, `clock`, `audit`) use the admin
token; subaccount commands (`borrow`, `repay`, `lend`, `redeem`, `status`, `history`, `account
set`) sign as the subaccount; `markets` is public. The four borrow-lend verbs all send
`POST /api/v1/borrowLend`, whose two sides net against an open position: `repay` is a `Lend` on
an asset you borrowed, `redeem` a `Borrow` on an asset you lend. So that each verb means only
what it says, the command reads the open positions first and refuses a `borrow` that would
redeem, a `lend` that would repay, a `repay` without a borrow and a `redeem` without a lend. The
engine's own rules (auto-lend off, enough balance, at most the position, margin) are not checked
here: the request is sent and the server's refusal is what you read. `repay --all` is one request
for the whole position (`wholePosition`), measured by the engine when it runs, and so is
`redeem --all`: interest that falls due in between is included to the atom.

Every handler takes a `Context` and returns the exit status: 0 done, 1 refused (by the server or
here, with the reason on stderr). `run` turns every expected failure into that message.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from crossmargin.cli import tables
from crossmargin.cli.client import Client, Credentials, CredentialsError, ServerError, UnreachableError
from crossmargin.cli.context import CommandError, Context, Output, resolve_settings
from crossmargin.cli.durations import format_duration, parse_duration
from crossmargin.cli.profiles import Profile, ProfileError, profile_path, save_profile
from crossmargin.cli.tables import plain

Handler = Callable[[Context], int]
Body = Mapping[str, object]

SECONDS_PER_HOUR: Final = 3_600
SECONDS_PER_DAY: Final = 86_400
ADVANCE_STEPS_MAX: Final = 50
BORROW: Final = "Borrow"
LEND: Final = "Lend"


def run(arguments: argparse.Namespace, handler: Handler) -> int:
    """Run one client command; print any expected failure as `error ...` on stderr and return 1."""
    out = Output(Console(), Console(stderr=True), bool(getattr(arguments, "json", False)))
    try:
        settings = resolve_settings(arguments)
        with Client(settings.url, settings.admin_token, settings.credentials) as client:
            return handler(Context(arguments, settings, client, out))
    except ServerError as error:
        _fail(f"error {error.code}: {error.message}")
    except UnreachableError as error:
        _fail(
            f"error: cannot reach a crossmargin server at {error.url} ({error.reason}).\n"
            "Start one in another terminal with `crossmargin serve --clock manual`, "
            "or point to a running one with --url or CROSSMARGIN_URL."
        )
    except (CommandError, ProfileError, CredentialsError) as error:
        _fail(f"error: {error}")
    return 1


def _fail(message: str) -> None:
    sys.stderr.write(message + "\n")


def _object(value: object) -> Body:
    if not isinstance(value, Mapping):
        raise CommandError(f"the server answered {value!r} where a JSON object belongs: is it a crossmargin server?")
    return value


def _list(value: object) -> list[Body]:
    if not isinstance(value, list):
        raise CommandError(f"the server answered {value!r} where a JSON list belongs: is it a crossmargin server?")
    return [row for row in value if isinstance(row, Mapping)]


def _quantity(text: str) -> str:
    """Check a quantity the user typed: a plain positive decimal, sent on as typed."""
    read = tables.number(text.strip())
    if read is None or read <= 0 or "e" in text.lower():
        raise CommandError(f"{text!r} is not a positive decimal quantity (write e.g. 2000 or 0.5)")
    return text.strip()


def _kv_table(title: str, pairs: Sequence[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("field")
    table.add_column("value", overflow="fold")
    for key, value in pairs:
        table.add_row(key, value)
    return table


# --- operator commands -------------------------------------------------------------------------


def account_create(ctx: Context) -> int:
    """Create an account with one subaccount and a key pair; optionally save it as a profile."""
    ctx.require_admin()
    name: str | None = ctx.arguments.save
    if name is not None:
        path = profile_path(name)
        if path.exists() and not ctx.arguments.force:
            raise CommandError(f"profile {name!r} already exists ({path}); pick another name or pass --force")
    created = _object(ctx.client.admin("POST", "/admin/v1/accounts", {}))
    ctx.out.data(created)
    ctx.out.show(
        _kv_table(
            "New account",
            [(key, str(created.get(key))) for key in ("accountId", "subaccountId", "apiKey", "apiSecret")],
        )
    )
    if name is None:
        ctx.out.note("Keep the API secret: the server shows it only once (`--save NAME` stores it for you).")
        return 0
    profile = Profile(
        name=name,
        account_id=int(str(created["accountId"])),
        subaccount_id=int(str(created["subaccountId"])),
        credentials=Credentials(str(created["apiKey"]), str(created["apiSecret"])),
        url=ctx.settings.url,
    )
    path = save_profile(profile)
    usage = "by default" if name == "default" else f"with --profile {name}"
    ctx.out.note(f"Saved as profile {name!r} in {path} (readable by you only); commands sign with it {usage}.")
    return 0


def deposit(ctx: Context) -> int:
    """Credit an on-chain deposit to a subaccount."""
    ctx.require_admin()
    body = {
        "subaccountId": ctx.subaccount_id(),
        "symbol": ctx.arguments.symbol.upper(),
        "quantity": _quantity(ctx.arguments.quantity),
    }
    answer = _object(ctx.client.admin("POST", "/admin/v1/deposits", body))
    ctx.out.data(answer)
    ctx.out.show(
        f"Deposited {answer.get('quantity')} {answer.get('symbol')} to subaccount {answer.get('subaccountId')}."
    )
    return 0


def _price_pairs(given: Sequence[str]) -> dict[str, str]:
    prices: dict[str, str] = {}
    for item in given:
        symbol, equals, price = item.partition("=")
        if not equals or not symbol.strip():
            raise CommandError(f"{item!r} is not SYMBOL=PRICE (write e.g. BTC=65000)")
        prices[symbol.strip().upper()] = _quantity(price)
    return prices


def prices_set(ctx: Context) -> int:
    """Set index prices of assets (marks follow); the risk of every account moves with them."""
    ctx.require_admin()
    body: dict[str, object] = {"prices": _price_pairs(ctx.arguments.prices)}
    if ctx.arguments.force:
        body["force"] = True
    answer = _object(ctx.client.admin("POST", "/admin/v1/prices", body))
    ctx.out.data(answer)
    prices = _object(answer.get("prices", {}))
    ctx.out.show(_kv_table("Prices set", [(symbol, str(price)) for symbol, price in prices.items()]))
    return 0


def _when(now_ms: int) -> str:
    return datetime.fromtimestamp(now_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _now_ms(answer: object) -> int:
    value = _object(answer).get("now")
    if not isinstance(value, int):
        raise CommandError(f"the server's clock answer {answer!r} has no whole `now`")
    return value


def clock_show(ctx: Context) -> int:
    """Print the server's clock."""
    ctx.require_admin()
    answer = ctx.client.admin("GET", "/admin/v1/clock")
    ctx.out.data(answer)
    ctx.out.show(f"Server clock: {_when(_now_ms(answer))} ({_now_ms(answer)} ms)")
    return 0


def _advance_steps(seconds: int) -> list[int]:
    """Split an advance into at most `ADVANCE_STEPS_MAX` requests of whole days (or more)."""
    size = max(SECONDS_PER_DAY, math.ceil(seconds / ADVANCE_STEPS_MAX / SECONDS_PER_DAY) * SECONDS_PER_DAY)
    steps = [size] * (seconds // size)
    return [*steps, seconds % size] if seconds % size else steps


def clock_advance(ctx: Context) -> int:
    """Advance the manual clock, running everything that falls due; show progress over days."""
    ctx.require_admin()
    try:
        seconds = parse_duration(ctx.arguments.duration)
    except ValueError as error:
        raise CommandError(str(error)) from None
    before = _now_ms(ctx.client.admin("GET", "/admin/v1/clock"))
    steps = _advance_steps(seconds)
    answer: object = {"now": before}
    progress = Progress(
        TextColumn("advancing the clock"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} days"),
        TimeRemainingColumn(),
        console=ctx.out.errors,
        transient=True,
        disable=len(steps) <= 1 or ctx.out.as_json or not ctx.out.errors.is_terminal,
    )
    with progress:
        task = progress.add_task("advance", total=seconds / SECONDS_PER_DAY)
        for step in steps or [0]:
            answer = ctx.client.admin("POST", "/admin/v1/clock/advance", {"seconds": step})
            progress.advance(task, step / SECONDS_PER_DAY)
    after = _now_ms(answer)
    ctx.out.data(answer)
    hours = after // 1000 // SECONDS_PER_HOUR - before // 1000 // SECONDS_PER_HOUR
    ctx.out.show(
        f"Clock advanced {format_duration(seconds)}: {_when(before)} → {_when(after)}; "
        f"{hours} hourly interest run{'s' if hours != 1 else ''} fell due."
    )
    return 0


def audit(ctx: Context) -> int:
    """Check every invariant on the live state; exit 1 if any is broken."""
    ctx.require_admin()
    answer = _object(ctx.client.admin("GET", "/admin/v1/audit"))
    ctx.out.data(answer)
    checks = _list(answer.get("checks", []))
    passed = sum(1 for check in checks if check.get("ok") is True)
    ctx.out.show(tables.audit_table(checks))
    ok = answer.get("ok") is True
    ctx.out.show(f"Audit: {passed} of {len(checks)} invariant checks hold." + ("" if ok else " The state is BROKEN."))
    return 0 if ok else 1


# --- public and subaccount commands ------------------------------------------------------------


def markets(ctx: Context) -> int:
    """Show every lending pool: size, utilization, rates."""
    answer = _list(ctx.client.public("/api/v1/borrowLend/markets"))
    ctx.out.data(answer)
    ctx.out.show(tables.markets_table(answer))
    return 0


def _positions(ctx: Context) -> list[Body]:
    return _list(ctx.client.signed("GET", "/api/v1/borrowLend/positions", "borrowLendPositionQuery"))


def status(ctx: Context) -> int:
    """Show a subaccount's cross-margin overview and its per-asset rows."""
    ctx.require_credentials()
    collateral = _object(ctx.client.signed("GET", "/api/v1/capital/collateral", "collateralQuery"))
    positions = _positions(ctx)
    account = _object(ctx.client.signed("GET", "/api/v1/account", "accountQuery"))
    ctx.out.data({"collateral": collateral, "positions": positions, "account": account})
    profile = ctx.settings.profile
    title = "Cross-margin overview"
    if profile is not None:
        title = f"Subaccount {profile.subaccount_id} (profile {profile.name})"
    ctx.out.show(tables.overview_table(collateral, account, title))
    ctx.out.show(tables.assets_table(collateral, positions))
    return 0


def account_set(ctx: Context) -> int:
    """Change a subaccount's settings (auto-lend, auto-repay, auto-borrow settlements, leverage limit)."""
    ctx.require_credentials()
    given = {
        "autoLend": ctx.arguments.auto_lend,
        "autoRepayBorrows": ctx.arguments.auto_repay_borrows,
        "autoBorrowSettlements": ctx.arguments.auto_borrow_settlements,
    }
    body: dict[str, str | int | bool] = {key: value == "on" for key, value in given.items() if value is not None}
    if ctx.arguments.leverage_limit is not None:
        body["leverageLimit"] = _quantity(ctx.arguments.leverage_limit)
    if not body:
        raise CommandError(
            "nothing to change: give --auto-lend, --auto-repay-borrows, --auto-borrow-settlements or --leverage-limit"
        )
    ctx.client.signed("PATCH", "/api/v1/account", "accountUpdate", body)
    account = _object(ctx.client.signed("GET", "/api/v1/account", "accountQuery"))
    ctx.out.data(account)
    pairs = [(key, tables.on_off(account.get(key))) for key in given]
    ctx.out.show(_kv_table("Account settings", [*pairs, ("leverageLimit", str(account.get("leverageLimit")))]))
    return 0


def _net_quantity(positions: Sequence[Body], symbol: str) -> Decimal:
    """Return the position's net quantity: negative for a borrow, positive for a lend, 0 for none."""
    for position in positions:
        if position.get("symbol") == symbol:
            return tables.number(position.get("netQuantity")) or Decimal(0)
    return Decimal(0)


Request = Mapping[str, str | int | bool]


def _send(ctx: Context, body: Request) -> None:
    ctx.client.signed("POST", "/api/v1/borrowLend", "borrowLendExecute", body)


def _report(ctx: Context, request: Request, quantity: str, done: str) -> int:
    """Report what was done and the position it left."""
    symbol = str(request["symbol"])
    after = next((position for position in _positions(ctx) if position.get("symbol") == symbol), None)
    ctx.out.data({"request": dict(request), "position": after})
    net = tables.number(after.get("netQuantity")) if after is not None else None
    interest = after.get("cumulativeInterest") if after is not None else None
    if (net is None or net == 0) and done == "Repaid":
        state = f"the {symbol} debt is cleared."
    elif (net is None or net == 0) and done == "Redeemed":
        state = f"the {symbol} lend is fully redeemed."
    elif net is None or net == 0:
        state = f"no open {symbol} position."
    elif net < 0:
        state = f"{symbol} debt now {plain(-net)} (interest so far {interest})."
    else:
        state = f"{symbol} lent now {plain(net)} (interest earned {interest})."
    ctx.out.show(f"{done} {quantity} {symbol}: {state}")
    return 0


def _execute(ctx: Context, symbol: str, side: str, quantity: str, done: str) -> int:
    """Send one borrow-lend request, then report the position it left."""
    request: Request = {"symbol": symbol, "side": side, "quantity": quantity}
    _send(ctx, request)
    return _report(ctx, request, quantity, done)


def borrow(ctx: Context) -> int:
    """Borrow from a pool (the entry fee to the next hour is charged at once)."""
    ctx.require_credentials()
    symbol, quantity = ctx.arguments.symbol.upper(), _quantity(ctx.arguments.quantity)
    lent = _net_quantity(_positions(ctx), symbol)
    if lent > 0:
        raise CommandError(
            f"you lend {plain(lent)} {symbol}, so a borrow would redeem it: "
            f"`crossmargin redeem {symbol} --all` first, then borrow"
        )
    return _execute(ctx, symbol, BORROW, quantity, "Borrowed")


def lend(ctx: Context) -> int:
    """Lend into a pool."""
    ctx.require_credentials()
    symbol, quantity = ctx.arguments.symbol.upper(), _quantity(ctx.arguments.quantity)
    net = _net_quantity(_positions(ctx), symbol)
    if net < 0:
        raise CommandError(
            f"you owe {plain(-net)} {symbol}, so a lend would repay it: `crossmargin repay {symbol}` first, then lend"
        )
    return _execute(ctx, symbol, LEND, quantity, "Lent")


def _asked(ctx: Context, position: Decimal, what: str, symbol: str) -> str | None:
    """Return the quantity typed, or None for `--all` (the whole position)."""
    if ctx.arguments.all:
        if ctx.arguments.quantity is not None:
            raise CommandError("give a quantity or --all, not both")
        return None
    if ctx.arguments.quantity is None:
        raise CommandError(f"how much? give a quantity, or --all for the whole {what} ({plain(position)} {symbol})")
    return _quantity(ctx.arguments.quantity)


def _moved_last(ctx: Context, symbol: str, kind: str, what: str) -> str:
    """Return the quantity of the subaccount's newest manual `kind` movement of `symbol`, as the history records it."""
    query: Request = {"symbol": symbol, "type": kind, "sources": "Manual", "limit": 1}
    rows = _list(ctx.client.signed("GET", "/wapi/v1/history/borrowLend", "borrowHistoryQueryAll", query))
    if not rows:
        raise CommandError(f"the server accepted the {what} but lists no {symbol} {what}: is it a crossmargin server?")
    return str(rows[0].get("quantity"))


def _whole_position(ctx: Context, symbol: str, side: str, kind: str, verb: str) -> int:
    """Send one request for the whole position (`wholePosition`) and report what the engine moved."""
    request: Request = {"symbol": symbol, "side": side, "wholePosition": True}
    _send(ctx, request)
    done = {"repay": "Repaid", "redeem": "Redeemed"}[verb]
    return _report(ctx, request, _moved_last(ctx, symbol, kind, verb), done)


def repay(ctx: Context) -> int:
    """Repay a borrow from the available balance of its asset; `--all` clears it to the last atom.

    `--all` is one request (`wholePosition`, a crossmargin extension): the engine repays the whole
    debt as it stands when it runs the command, interest included, or refuses it with its reason.
    """
    ctx.require_credentials()
    symbol = ctx.arguments.symbol.upper()
    debt = -_net_quantity(_positions(ctx), symbol)
    if debt <= 0:
        raise CommandError(f"there is no {symbol} borrow to repay")
    quantity = _asked(ctx, debt, "debt", symbol)
    if quantity is not None:
        return _execute(ctx, symbol, LEND, quantity, "Repaid")
    return _whole_position(ctx, symbol, LEND, "BorrowRepay", "repay")


def redeem(ctx: Context) -> int:
    """Take a lend back out of its pool; `--all` redeems it whole, interest included, in one request."""
    ctx.require_credentials()
    symbol = ctx.arguments.symbol.upper()
    lent = _net_quantity(_positions(ctx), symbol)
    if lent <= 0:
        raise CommandError(f"there is no {symbol} lend to redeem")
    quantity = _asked(ctx, lent, "lend", symbol)
    if quantity is not None:
        return _execute(ctx, symbol, BORROW, quantity, "Redeemed")
    return _whole_position(ctx, symbol, BORROW, "LendRedeem", "redeem")


def _paged_query(ctx: Context) -> dict[str, str | int | bool]:
    query: dict[str, str | int | bool] = {"limit": ctx.arguments.limit}
    if ctx.arguments.symbol:
        query["symbol"] = ctx.arguments.symbol.upper()
    return query


def history_interest(ctx: Context) -> int:
    """Show interest payments: entry fees and hourly interest paid, lend interest earned."""
    ctx.require_credentials()
    query = _paged_query(ctx)
    if "symbol" in query:
        query["asset"] = query.pop("symbol")
    rows = _list(ctx.client.signed("GET", "/wapi/v1/history/interest", "interestHistoryQueryAll", query))
    ctx.out.data(rows)
    totals: dict[tuple[str, str], Decimal] = {}
    for row in rows:
        kind = "earned" if row.get("paymentType") == LEND else "paid"
        key = (kind, str(row.get("symbol")))
        totals[key] = totals.get(key, Decimal(0)) + (tables.number(row.get("quantity")) or Decimal(0))
    summary = ", ".join(f"{kind} {plain(total)} {symbol}" for (kind, symbol), total in sorted(totals.items()))
    ctx.out.show(tables.interest_table(rows, summary or None))
    return 0


def history_borrow_lend(ctx: Context) -> int:
    """Show borrow, repay, lend and redeem movements with their source."""
    ctx.require_credentials()
    rows = _list(ctx.client.signed("GET", "/wapi/v1/history/borrowLend", "borrowHistoryQueryAll", _paged_query(ctx)))
    ctx.out.data(rows)
    ctx.out.show(tables.movements_table(rows))
    return 0
