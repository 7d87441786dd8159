"""Hypothesis strategies shared by the property and stateful suites.

Values are drawn in the engine's own units: atoms (int), ratios scaled by WAD, indices scaled by
RAY, prices in USD per whole unit scaled by WAD. Ranges are wide enough to reach the rounding
edges (tiny amounts, indices far above 1) and bounded so sums stay within AMOUNT_ATOMS_MAX.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from crossmargin.asset_config import load_asset_specs
from crossmargin.core.assets import AssetSpec, HaircutFunction, HaircutKind, RateCurve, SqrtFunction
from crossmargin.core.margin import Holding
from crossmargin.core.numbers import RAY, WAD, Ratio

DEMO_SPECS: dict[str, AssetSpec] = {spec.symbol: spec for spec in load_asset_specs()}
DEMO_SYMBOLS: tuple[str, ...] = tuple(sorted(DEMO_SPECS))

# Round-number USD prices the demo starts from; price moves multiply these.
DEMO_PRICES_WAD: dict[str, int] = {
    "USDC": WAD,
    "USDT": WAD,
    "BTC": 60_000 * WAD,
    "ETH": 3_000 * WAD,
    "SOL": 150 * WAD,
}

ATOMS_MAX = 10**30


def atoms(max_value: int = ATOMS_MAX) -> st.SearchStrategy[int]:
    """Return non-negative atom counts, biased towards both tiny and large values."""
    return st.one_of(st.integers(0, 1_000), st.integers(0, max_value))


def positive_atoms(max_value: int = ATOMS_MAX) -> st.SearchStrategy[int]:
    """Return positive atom counts, biased towards both tiny and large values."""
    return st.one_of(st.integers(1, 1_000), st.integers(1, max_value))


def ratios_wad(max_wad: int = WAD) -> st.SearchStrategy[int]:
    """Return WAD-scaled ratios in [0, max], with the ends and round values likely."""
    return st.one_of(
        st.sampled_from([0, max_wad, max_wad // 2, max_wad // 10]),
        st.integers(0, max_wad),
    )


def indices_ray() -> st.SearchStrategy[int]:
    """Return interest indices: at least RAY (1.0), up to 100, mostly close to 1."""
    return st.one_of(
        st.just(RAY),
        st.integers(RAY, RAY + RAY // 100),
        st.integers(RAY, 100 * RAY),
    )


def annual_rates_wad() -> st.SearchStrategy[int]:
    """Return APRs from 0 to 500%, as WAD."""
    return st.one_of(st.sampled_from([0, WAD // 100, WAD // 10, WAD]), st.integers(0, 5 * WAD))


def prices_wad() -> st.SearchStrategy[int]:
    """Return positive USD prices per unit, from 1e-9 to 1e7, as WAD."""
    return st.one_of(
        st.sampled_from(sorted(DEMO_PRICES_WAD.values())),
        st.integers(10**9, 10**7 * WAD),
    )


def scales() -> st.SearchStrategy[int]:
    """Return decimal scales an asset or a ratio may use (0 to 27)."""
    return st.integers(0, 27)


def sqrt_functions(min_base_wad: int = 0) -> st.SearchStrategy[SqrtFunction]:
    """Return margin-fraction functions max(base, factor * sqrt(notional))."""
    return st.builds(
        SqrtFunction,
        base=st.integers(min_base_wad, WAD).map(Ratio),
        factor=st.integers(0, WAD // 100).map(Ratio),
    )


def haircut_functions() -> st.SearchStrategy[HaircutFunction]:
    """Return identity and inverseSqrt haircut functions."""
    identity = st.builds(HaircutFunction, weight=ratios_wad().map(Ratio))
    inverse_sqrt = st.builds(
        HaircutFunction,
        weight=ratios_wad().map(Ratio),
        kind=st.just(HaircutKind.INVERSE_SQRT),
        base=ratios_wad().map(Ratio),
        positive_curve_penalty=st.integers(0, WAD // 1_000).map(Ratio),
    )
    return st.one_of(identity, inverse_sqrt)


def rate_curves() -> st.SearchStrategy[RateCurve]:
    """Return two-slope rate curves with the kink strictly inside (0, 1)."""
    return st.builds(
        RateCurve,
        base=st.integers(0, WAD // 10).map(Ratio),
        slope1=st.integers(0, WAD).map(Ratio),
        optimal_utilization=st.integers(1, WAD - 1).map(Ratio),
        slope2=st.integers(0, 5 * WAD).map(Ratio),
    )


@st.composite
def demo_specs_with_haircuts(draw: st.DrawFn) -> dict[str, AssetSpec]:
    """Return the demo asset specs with haircut functions redrawn."""
    return {symbol: replace(spec, haircut=draw(haircut_functions())) for symbol, spec in DEMO_SPECS.items()}


def holdings() -> st.SearchStrategy[Holding]:
    """Return what a subaccount may hold of one asset: spot and lend, or spot and debt."""
    amount = atoms(10**20)
    lender = st.builds(Holding, spot_atoms=amount, lend_atoms=amount)
    borrower = st.builds(Holding, spot_atoms=amount, debt_atoms=amount)
    return st.one_of(lender, borrower)


def holdings_by_symbol() -> st.SearchStrategy[dict[str, Holding]]:
    """Return a subaccount's holdings across some of the demo assets."""
    return st.dictionaries(st.sampled_from(DEMO_SYMBOLS), holdings(), max_size=len(DEMO_SYMBOLS))


def leverage_limits() -> st.SearchStrategy[Ratio]:
    """Return leverage limits the engine accepts (1x to 100x), as ratios."""
    return st.one_of(
        st.sampled_from([1, 2, 3, 5, 10, 20, 50, 100]).map(lambda times: Ratio(times * WAD)),
        st.integers(WAD, 100 * WAD).map(Ratio),
    )


def clock_jumps_ms() -> st.SearchStrategy[int]:
    """Return clock advances from one millisecond to three days, crossing hours often."""
    second, hour, day = 1_000, 3_600_000, 86_400_000
    return st.one_of(
        st.integers(1, 60 * second),
        st.integers(1, 2 * hour),
        st.sampled_from([hour, day]),
        st.integers(hour, 3 * day),
    )
