"""SeedDemo: the demo's prices, lender and market maker arrive in one command, all or nothing."""

from __future__ import annotations

from engine_driver import Driver

from crossmargin.core.commands import CreateAccount, SeedDemo
from crossmargin.core.ledger import spot
from crossmargin.core.numbers import WAD
from crossmargin.core.rejections import RejectReason

MAKER_KEY = "demo-maker"


def _seed(driver: Driver, *, liquidity: str = "1000", maker: str = "50") -> SeedDemo:
    return SeedDemo(
        prices_wad=(("USDC", WAD), ("BTC", 60_000 * WAD)),
        liquidity_atoms=(("USDC", driver.atoms("USDC", liquidity)), ("BTC", driver.atoms("BTC", "2"))),
        market_maker_api_key=MAKER_KEY,
        market_maker_funds_atoms=(("USDC", driver.atoms("USDC", maker)),),
    )


def test_seed_demo_sets_prices_lends_every_pool_and_funds_the_market_maker() -> None:
    driver = Driver()
    driver.accept(_seed(driver))
    state = driver.state
    assert state.mark_prices_wad["BTC"] == 60_000 * WAD
    assert state.pools["USDC"].lend_scaled_total > 0
    assert state.pools["BTC"].lend_scaled_total > 0
    maker = state.api_keys[MAKER_KEY]
    assert state.ledger[(spot(maker), "USDC")] == driver.atoms("USDC", "50")


def test_seed_demo_is_refused_on_an_exchange_already_in_use() -> None:
    driver = Driver()
    driver.accept(CreateAccount())
    driver.refuse(_seed(driver), RejectReason.DEMO_ALREADY_SEEDED)


def test_seed_demo_failing_at_its_last_step_leaves_nothing_behind() -> None:
    driver = Driver()
    bad = SeedDemo(
        prices_wad=(("USDC", WAD),),
        liquidity_atoms=(("USDC", driver.atoms("USDC", "1000")),),
        market_maker_api_key=MAKER_KEY,
        market_maker_funds_atoms=(("NOPE", 1),),
    )
    driver.refuse(bad, RejectReason.ASSET_NOT_FOUND)
    assert not driver.state.subaccounts
    assert not driver.state.mark_prices_wad


def test_seed_demo_without_a_market_maker_opens_only_the_lender() -> None:
    driver = Driver()
    command = _seed(driver)
    driver.accept(SeedDemo(command.prices_wad, command.liquidity_atoms))
    assert len(driver.state.subaccounts) == 1


def test_seed_demo_refusals_at_each_step_leave_nothing_behind() -> None:
    driver = Driver()
    usdc = driver.atoms("USDC", "1000")
    driver.refuse(SeedDemo((("USDC", 0),), ()), RejectReason.PRICE_MUST_BE_POSITIVE)
    driver.refuse(SeedDemo((("USDC", WAD),), (("NOPE", usdc),)), RejectReason.ASSET_NOT_FOUND)
    too_much = driver.atoms("USDC", "2000000000")  # above the pool's open borrow-lend limit
    driver.refuse(SeedDemo((("USDC", WAD),), (("USDC", too_much),)), RejectReason.OPEN_BORROW_LEND_LIMIT_EXCEEDED)
    assert not driver.state.subaccounts
    assert not driver.state.mark_prices_wad
