"""Views of what a bot asks before it trades or moves funds: max order quantity, APY, wallets, deposit addresses.

- `GET /api/v1/account/limits/order` (`view_max_order`): the engine's own search
  (`engine.compute_max_order_quantity`), the same what-if as max borrow and max withdrawal, so
  the figure is an order the engine accepts and one step more is refused.
- `GET /api/v1/borrowLend/apy` (`view_apy`): each pool's borrow and lend APR at today's
  utilization (as `/borrowLend/markets` shows them), compounded hourly for a year as the pools
  charge it (`interest.compute_yearly_yield`). crossmargin has no staking: `staking` is empty.
- `GET /api/v1/wallets` (`view_wallets`) and `GET /wapi/v1/capital/deposit/address`
  (`view_deposit_address`): no chain moves paper money, but clients ask for addresses. The chains
  the server accepts are those its listed assets move on (`public.blockchain_of`); an address is
  SHA-256 of who it belongs to (the exchange, or a subaccount) and the chain, written the way that
  chain writes addresses (hex for EVM chains, base58 for Solana, bech32-style for Bitcoin), so
  it is the same across restarts and replicas and differs per subaccount and chain. Any other
  chain is refused (400), naming the accepted ones.
- `GET /wapi/v1/history/dust` (`view_dust_history`): the subaccount's dust conversions
  (`core/dust.py`); a conversion's id is its place in the state's list.
- `GET /wapi/v1/capital/withdrawals/delay` (`view_withdrawal_delay`): the delay in force and a
  change waiting to apply (`core/withdrawal_delay.py`); None (204) when none was ever set.
"""

from __future__ import annotations

import hashlib
from typing import Final

from crossmargin.api.errors import ApiError
from crossmargin.api.views.common import (
    JsonObject,
    JsonValue,
    SortDirection,
    amount,
    choice,
    naive_time,
    reader,
    require_subaccount,
    sort_newest_first,
    wad,
)
from crossmargin.api.views.public import blockchain_of
from crossmargin.core.borrow_lend import pool_supplied
from crossmargin.core.commands import PlaceOrder
from crossmargin.core.engine import compute_max_order_quantity
from crossmargin.core.ids import SubaccountId
from crossmargin.core.interest import compute_borrow_rate, compute_lend_rate, compute_utilization, compute_yearly_yield
from crossmargin.core.numbers import format_scaled
from crossmargin.core.state import EngineState
from crossmargin.core.withdrawal_delay import delay_hours_at, pending_delay

BASE58: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH32: Final = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
EXCHANGE_WALLET: Final = "exchange"


def accepted_blockchains(state: EngineState) -> list[str]:
    """Return the chains the server takes deposits and withdrawals on: those of its listed assets."""
    return sorted({blockchain_of(symbol) for symbol in state.specs})


def _base58(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits = ""
    while number:
        number, digit = divmod(number, 58)
        digits = BASE58[digit] + digits
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + digits


def chain_address(owner: str, blockchain: str) -> str:
    """Return the deterministic address of `owner` on `blockchain`, in that chain's usual form."""
    digest = hashlib.sha256(f"crossmargin:address:{owner}:{blockchain}".encode()).digest()
    if blockchain == "Solana":
        return _base58(digest)
    if blockchain == "Bitcoin":
        longer = digest + hashlib.sha256(digest).digest()  # 38 characters need more than 32 bytes
        return "bc1q" + "".join(BECH32[byte % 32] for byte in longer[:38])
    return "0x" + digest[:20].hex()


def _require_accepted(state: EngineState, blockchain: str) -> None:
    accepted = accepted_blockchains(state)
    if blockchain not in accepted:
        raise ApiError(
            f"blockchain {blockchain!r} is not supported for deposits here; supported: {', '.join(accepted)}"
        )


def view_wallets(state: EngineState) -> list[JsonValue]:
    """Return `GET /api/v1/wallets`: the exchange's wallet on each chain it accepts."""
    return [
        {"blockchain": chain, "address": chain_address(EXCHANGE_WALLET, chain)} for chain in accepted_blockchains(state)
    ]


def view_deposit_address(state: EngineState, subaccount_id: SubaccountId, blockchain: str) -> JsonObject:
    """Return `GET /wapi/v1/capital/deposit/address`: the subaccount's address on the chain."""
    require_subaccount(state, subaccount_id)
    _require_accepted(state, blockchain)
    return {"address": chain_address(f"subaccount:{subaccount_id}", blockchain)}


def view_apy(state: EngineState) -> JsonObject:
    """Return `GET /api/v1/borrowLend/apy`: every pool's borrow and lend APY at today's rates."""
    tx = reader(state)
    rows: list[JsonValue] = []
    for symbol, spec in sorted(state.specs.items()):
        pool = tx.pool(symbol)
        rate = compute_borrow_rate(spec.rate_curve, compute_utilization(pool.borrowed_atoms, pool_supplied(tx, symbol)))
        lend_rate = compute_lend_rate(rate, pool.borrowed_atoms, pool.lent_atoms, spec.fee.wad)
        rows.append(
            {
                "symbol": symbol,
                "borrowRate": wad(compute_yearly_yield(rate, borrower=True)),
                "lendRate": wad(compute_yearly_yield(lend_rate, borrower=False)),
            }
        )
    return {"borrowLend": rows, "staking": []}


def view_max_order(state: EngineState, order: PlaceOrder) -> JsonObject:
    """Return `GET /api/v1/account/limits/order`: the largest quantity of `order` the engine would accept now."""
    require_subaccount(state, order.subaccount_id)
    market = state.markets[order.market]
    atoms = compute_max_order_quantity(reader(state), order)
    body: JsonObject = {
        "maxOrderQuantity": format_scaled(atoms, market.base_decimals),
        "side": order.side.value,
        "symbol": order.market,
        "autoBorrow": order.flags.auto_borrow,
        "autoBorrowRepay": order.flags.auto_borrow_repay,
        "autoLendRedeem": order.flags.auto_lend_redeem,
        "reduceOnly": order.flags.reduce_only,
    }
    if order.price_wad is not None:
        body["price"] = wad(order.price_wad)
    return body


def view_dust_history(
    state: EngineState,
    subaccount_id: SubaccountId,
    conversion_id: int | None = None,
    symbol: str | None = None,
    sort_direction: str | None = None,
) -> list[JsonValue]:
    """Return `GET /wapi/v1/history/dust`: the subaccount's dust conversions, newest first unless `Asc`."""
    require_subaccount(state, subaccount_id)
    newest_first = sort_newest_first(choice(SortDirection, sort_direction, "sortDirection"))
    rows: list[JsonValue] = [
        {
            "id": index,
            "quantity": amount(converted.quantity_atoms, state.specs[converted.symbol]),
            "symbol": converted.symbol,
            "usdcReceived": amount(converted.usdc_atoms, state.specs["USDC"]),
            "timestamp": naive_time(converted.at_ms),
        }
        for index, converted in enumerate(state.dust_conversions)
        if converted.subaccount_id == subaccount_id
        and conversion_id in (None, index)
        and symbol in (None, converted.symbol)
    ]
    return rows[::-1] if newest_first else rows


def view_withdrawal_delay(state: EngineState, subaccount_id: SubaccountId) -> JsonObject | None:
    """Return `GET /wapi/v1/capital/withdrawals/delay`'s body, or None when no delay was ever set (204)."""
    require_subaccount(state, subaccount_id)
    subaccount = state.subaccounts[subaccount_id]
    if subaccount.withdrawal_delay_hours is None:
        return None
    body: JsonObject = {"currentWithdrawalDelayHours": delay_hours_at(subaccount, state.now_ms)}
    waiting = pending_delay(subaccount, state.now_ms)
    if waiting is not None:
        body["pendingWithdrawalDelayHours"] = waiting[0]
        body["pendingWithdrawalDelayHoursEnabledAt"] = naive_time(waiting[1])
    return body
