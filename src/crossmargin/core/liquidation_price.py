"""Estimated liquidation price: the price of one asset at which a subaccount becomes liquidatable.

For a subaccount S and an asset X, the estimate is the mark price of X, every other price fixed,
at which S's maintenance margin ratio reaches 100% (`MarginSummary.is_liquidatable`), found with
the engine's own margin rules on a what-if transaction: the mark of X and the marks of the perp
markets on X are set to a candidate price together (a perp's mark follows its index).

Why a binary search is exact. As a function of X's price p, slack(p) = net equity - maintenance
is concave: spot and lent X, debts of X and perp PnL are linear in p; the collateral value
min(w N, b N / (1 + k sqrt N)) is concave in N = q p; maintenance MMF(N) N with MMF(N) =
max(base, factor sqrt N) is convex, so it enters with a minus sign as a concave term. A concave
slack that is positive at the mark is positive on one interval around it: walking away from the
mark on either side, liquidation, once reached, holds further out. So a borrow of X or a short
perp (slack falls as X rises) is liquidated above the mark, collateral in X or a long perp below
it, and an account with both kinds may have a threshold on each side: the one nearer the mark
(as a ratio) is reported. The engine rounds each term to a wei or an atom, so slack is concave
only up to a few wei; that can move a threshold by far less than one grid step.

Precision and rounding. Candidates are multiples of a grid step of 10^(d - 9) wei, d the digits
of the mark in wei: 9 significant digits at the mark, a step between 1e-9 and 1e-8 of it. The
estimate is the grid price next to the first liquidatable one, on the mark's side: the subaccount
is not liquidatable there, and one step further it is. That rounds in the direction that warns
early (the price reaches the estimate before the exact threshold). Thresholds below one step or
above `UPSIDE_RANGE` times the mark count as none.

The search. Each probe computes the subaccount's margin and so its slack, not only whether it is
liquidatable; the next probe is where the line through the last two probes crosses zero (a
secant step), kept strictly inside the bracket of the last safe and the first liquidatable
index, and a bisection whenever a step did not at least halve the bracket. The answer is where
the bracket closes, as with bisection alone (the bracket only ever holds a safe and a liquidatable
index); slack is nearly linear near a threshold, so the steps land within a grid step or two of
it after about five probes.

Cost: for a USDC borrow against BTC, the BTC estimate took 32 margin computations with bisection
alone and takes 7, the USDC one 39 and 5; the worst case is about twice bisection's (two probes,
then about 30 bisections below the mark and 37 above): fine for a position view of one
subaccount, not for a sweep over every account.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Final

from crossmargin.core.accounts import Subaccount
from crossmargin.core.commands import ExecuteBorrowLend
from crossmargin.core.engine import preview
from crossmargin.core.ids import SubaccountId
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.rejections import Rejection
from crossmargin.core.transaction import Transaction

SIGNIFICANT_DIGITS: Final = 9
# Liquidation more than 1024 times above the mark is not an estimate anyone acts on (a long perp
# far from its downside reaches MMF >= 100% somewhere up there): it counts as none.
UPSIDE_RANGE: Final = 1024


def grid_step_wad(mark_price_wad: int) -> int:
    """Return the price grid the search walks: 9 significant digits of the mark, in wei."""
    step: int = 10 ** max(0, len(str(mark_price_wad)) - SIGNIFICANT_DIGITS)
    return step


Probe = Callable[[int], tuple[bool, int]]
"""A grid index -> whether the subaccount is liquidatable there, and its slack (net equity - maintenance)."""


def is_liquidatable_at(tx: Transaction, subaccount: Subaccount, symbol: str, price_wad: int) -> bool:
    """Return whether the subaccount is liquidatable with `symbol` and its perp markets marked at `price_wad`."""
    return _prober(tx, subaccount, symbol)(price_wad)[0]


def _prober(tx: Transaction, subaccount: Subaccount, symbol: str) -> Callable[[int], tuple[bool, int]]:
    perps = [market for market, spec in sorted(tx.all_markets().items()) if spec.is_perp and spec.base == symbol]

    def liquidatable(price_wad: int) -> tuple[bool, int]:
        trial = Transaction(tx, tx.now_ms)
        trial.mark_prices_wad[symbol] = price_wad
        for market in perps:
            trial.perp_marks_wad[market] = price_wad
        summary = compute_subaccount_margin(trial, subaccount)
        return summary.is_liquidatable, summary.net_equity_wad - summary.maintenance_wad

    return liquidatable


def estimate_liquidation_price(tx: Transaction, subaccount_id: SubaccountId, symbol: str) -> int | None:
    """Return the WAD price of `symbol` next to where the subaccount becomes liquidatable, or None.

    None: no such subaccount, no mark price for the asset, or no threshold within the searched
    range (below one grid step or above `UPSIDE_RANGE` times the mark). A subaccount already
    liquidatable with the asset at its mark (on the grid) gets the mark itself.
    """
    subaccount = tx.subaccount(subaccount_id)
    mark = tx.mark_price(symbol)
    if subaccount is None or mark == 0:
        return None
    step = grid_step_wad(mark)
    center = mark // step
    probe_price = _prober(tx, subaccount, symbol)

    def probe(index: int) -> tuple[bool, int]:
        return probe_price(index * step)

    at_center = probe(center)
    if at_center[0]:
        return mark
    found = []
    for danger in (1, center * UPSIDE_RANGE):
        at_danger = probe(danger)
        if at_danger[0]:
            found.append(last_safe_index(probe, (danger, at_danger[1]), (center, at_center[1])))
    if not found:
        return None
    return nearest_to(center, found) * step


def nearest_to(center: int, indices: list[int]) -> int:
    """Return the index nearest `center` as a ratio (2x above is as far as half below); on a tie, the first."""
    return min(indices, key=lambda index: Fraction(max(index, center), min(index, center)))


def last_safe_index(probe: Probe, danger: tuple[int, int], safe: tuple[int, int]) -> int:
    """Return the grid index next to the first liquidatable one, walking from the safe index towards danger.

    `danger` and `safe` are (index, slack): on entry the first is liquidatable and the second is
    not; liquidation is monotone between them. Each probe is a secant step on the last two
    probes' slack, moved inside the bracket where it falls on or past an end, or a bisection when
    the last step did not halve the bracket (module docstring).
    """
    danger_at, safe_at = danger[0], safe[0]
    previous, latest = danger, safe
    halved = True
    while abs(danger_at - safe_at) > 1:
        width = abs(danger_at - safe_at)
        guess = _secant(previous, latest) if halved else None
        if guess is None:
            guess = (danger_at + safe_at) // 2
        else:  # strictly inside the bracket: at a bracket's end, the line says the threshold is right there
            guess = min(max(guess, min(danger_at, safe_at) + 1), max(danger_at, safe_at) - 1)
        liquidatable, slack = probe(guess)
        if liquidatable:
            danger_at = guess
        else:
            safe_at = guess
        halved = 2 * abs(danger_at - safe_at) <= width
        previous, latest = latest, (guess, slack)
    return safe_at


def _secant(first: tuple[int, int], second: tuple[int, int]) -> int | None:
    """Return the grid index where the line through two (index, slack) points crosses zero (None: it does not)."""
    (x1, y1), (x2, y2) = first, second
    if y1 == y2:
        return None
    return x2 - (y2 * (x2 - x1)) // (y2 - y1)


def estimate_after_borrow_lend(tx: Transaction, command: ExecuteBorrowLend) -> Rejection | int | None:
    """Return the estimate for the command's asset as if the borrow or lend were executed now.

    The command runs through `engine.preview`, the same steps `execute` runs (what fell due, the
    handler, the re-mark), never committed: a borrow the engine would refuse (margin, pool,
    settings) is refused here with the same reason and message.
    """
    outcome = preview(tx, command, tx.now_ms)
    if outcome.rejection is not None:
        return outcome.rejection
    return estimate_liquidation_price(outcome.after, command.subaccount_id, command.symbol)
