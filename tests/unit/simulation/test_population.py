"""The population generator: seeded plans of every role, on the engine's grids, bound to real subaccounts."""

from __future__ import annotations

from collections import Counter

from crossmargin.core.commands import Deposit, ExecuteBorrowLend, PlaceOrder, UpdateSettings, Withdraw
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import parse_decimal
from crossmargin.simulation.population import PLACEHOLDER, Market, Role, generate_population
from crossmargin.simulation.scenario import START_PRICES, demo_markets


def demo_market() -> Market:
    specs, markets = demo_markets()
    prices = {symbol: parse_decimal(price, 18) for symbol, price in START_PRICES.items()}
    return Market({spec.symbol: spec for spec in specs}, {spec.symbol: spec for spec in markets}, prices)


def test_the_same_seed_gives_the_same_population_and_another_seed_another() -> None:
    market = demo_market()
    assert generate_population(3, 40, market) == generate_population(3, 40, market)
    assert generate_population(3, 40, market) != generate_population(4, 40, market)


def test_the_first_accounts_take_every_role_once() -> None:
    plans = generate_population(1, len(Role), demo_market())
    assert [plan.role for plan in plans] == list(Role)


def test_a_large_population_draws_every_role_by_weight() -> None:
    roles = Counter(plan.role for plan in generate_population(5, 600, demo_market()))
    assert set(roles) == set(Role)
    assert roles[Role.BORROWER] > roles[Role.PERP_SHORT], "weights 25 against 10"


def test_every_quantity_is_positive_and_on_its_step_grid() -> None:
    market = demo_market()
    for plan in generate_population(2, 300, market):
        for command in plan.commands:
            if isinstance(command, Deposit | ExecuteBorrowLend | Withdraw):
                spec = market.specs[command.symbol]
                assert command.quantity_atoms > 0
                assert command.quantity_atoms % spec.step_atoms == 0
            elif isinstance(command, PlaceOrder):
                quantity = command.quantity_atoms or command.quote_quantity_atoms
                assert quantity is not None
                assert quantity > 0
                if command.quantity_atoms is not None:
                    assert command.quantity_atoms % market.markets[command.market].step_atoms == 0


def test_roles_set_up_what_they_are_named_for() -> None:
    by_role = {plan.role: plan for plan in generate_population(1, len(Role), demo_market())}
    lender = by_role[Role.LENDER].commands
    assert all(isinstance(command, Deposit | ExecuteBorrowLend) for command in lender)
    deposit, borrow, withdraw = by_role[Role.BORROWER].commands
    assert isinstance(deposit, Deposit)
    assert isinstance(borrow, ExecuteBorrowLend)
    assert isinstance(withdraw, Withdraw)
    assert deposit.symbol != borrow.symbol, "collateral and debt are different assets"
    assert withdraw.quantity_atoms == borrow.quantity_atoms, "the borrowed funds are spent elsewhere"
    (_, order) = by_role[Role.SPOT_MARGIN].commands
    assert isinstance(order, PlaceOrder)
    assert order.flags.auto_borrow
    assert not order.market.endswith("_PERP")
    usdt_only = by_role[Role.PERP_USDT].commands
    assert isinstance(usdt_only[0], Deposit)
    assert usdt_only[0].symbol == "USDT"
    assert isinstance(usdt_only[1], UpdateSettings)
    assert usdt_only[1].auto_borrow_settlements is True
    assert isinstance(usdt_only[2], PlaceOrder)
    assert usdt_only[2].market.endswith("_PERP")


def test_bind_writes_the_real_subaccount_into_every_command() -> None:
    for plan in generate_population(1, len(Role), demo_market()):
        assert {getattr(command, "subaccount_id", None) for command in plan.commands} == {PLACEHOLDER}
        bound = plan.bind(SubaccountId(42))
        assert len(bound) == len(plan.commands)
        assert {getattr(command, "subaccount_id", None) for command in bound} == {42}
