// @ts-check
/**
 * A trading view's account, kept current by the signed private streams: Backpack's
 * `account.orderUpdate.<symbol>`, on a perp `account.positionUpdate.<symbol>`, on a spot market
 * `account.balanceUpdate` (the server's `api/stream_requests.py`, signed as `instruction=subscribe`
 * with the session's signer: the pasted secret or the device key, `api.streamSignature`). The REST
 * reads give the starting point (on every (re)subscription, and on a gap); each message then
 * changes the rows as the same REST reads would show them, so nothing is read again after a trade.
 * The functions here only move the server's strings into the REST shapes: no arithmetic.
 */

import { subscribe } from "./trade_stream.js";

/** Statuses of an order still open (REST `GET /api/v1/orders` lists those). */
const OPEN = new Set(["New", "PartiallyFilled", "TriggerPending"]);
/** Events that may be the first we hear of an order. */
const FIRST = new Set(["orderAccepted"]);
const ORDER_TYPES = /** @type {Record<string, string>} */ ({ LIMIT: "Limit", MARKET: "Market" });
/** REST field of each `account.orderUpdate` trigger field. */
const TRIGGER_FIELDS = /** @type {Record<string, string>} */ ({
  P: "triggerPrice",
  B: "triggerBy",
  Y: "triggerQuantity",
  b: "stopLossTriggerPrice",
  k: "stopLossLimitPrice",
  g: "stopLossTriggerBy",
  a: "takeProfitTriggerPrice",
  j: "takeProfitLimitPrice",
  d: "takeProfitTriggerBy",
  I: "relatedOrderId",
});

/**
 * @typedef {object} AccountState the rows the tables show, as the REST reads give them
 * @property {Map<string, any>} orders open orders by id
 * @property {Map<string, any>} positions perp positions by symbol
 * @property {Record<string, {available: string, locked: string}>} balances spot balances by asset
 * @property {any[]} fills newest first
 */

/**
 * An `account.orderUpdate` message as a row of `GET /api/v1/orders`.
 * @param {any} d
 */
export function orderRow(d) {
  /** @type {Record<string, unknown>} */
  const row = { id: String(d.i), side: d.S, orderType: ORDER_TYPES[d.o] ?? d.o, quantity: d.q, executedQuantity: d.z, status: d.X, reduceOnly: Boolean(d.r), postOnly: Boolean(d.y), symbol: d.s };
  if (d.p !== undefined) row.price = d.p;
  for (const [key, name] of Object.entries(TRIGGER_FIELDS)) if (d[key] !== undefined) row[name] = String(d[key]);
  if (d.X === "TriggerPending" && d.Y !== undefined) delete row.quantity; // as REST: a trigger not yet fired has only its triggerQuantity
  return row;
}

/**
 * An `orderFill` message as a row of `GET /wapi/v1/history/fills`.
 * @param {any} d
 */
export function fillRow(d) {
  return { timestamp: Math.floor(Number(d.T) / 1000), side: d.S, price: d.L, quantity: d.l, fee: d.n, feeSymbol: d.N, isMaker: Boolean(d.m), tradeId: d.t, orderId: String(d.i), symbol: d.s };
}

/**
 * An `account.positionUpdate` message as a row of `GET /api/v1/position`. The message has no
 * funding paid: a position that goes on (the same id) keeps what was read, a new one starts at 0.
 * @param {any} d
 * @param {any} [before] the row it replaces
 */
export function positionRow(d, before) {
  const same = before && String(before.positionId) === String(d.i);
  return {
    symbol: d.s,
    positionId: String(d.i),
    netQuantity: d.q,
    entryPrice: d.B,
    breakEvenPrice: d.b,
    markPrice: d.M,
    estLiquidationPrice: d.l,
    pnlRealized: d.p,
    pnlUnrealized: d.P,
    cumulativeFundingPayment: same ? before.cumulativeFundingPayment : "0",
  };
}

/**
 * Apply one private message to the state.
 * @param {AccountState} state
 * @param {string} stream
 * @param {any} d
 * @returns {"changed" | "ignored" | "gap"} "gap": the message shows one before it was missed (read everything again)
 */
export function applyMessage(state, stream, d) {
  if (stream.startsWith("account.orderUpdate")) {
    const id = String(d.i);
    const known = state.orders.get(id);
    if (!known && !FIRST.has(d.e) && OPEN.has(d.X)) return "gap"; // an open order we never saw placed
    if (!known && d.e === "orderFill") return "gap"; // a fill of an order we never saw
    if (d.e === "orderFill" && !state.fills.some((f) => f.tradeId === d.t && f.orderId === id)) state.fills.unshift(fillRow(d));
    if (OPEN.has(d.X)) state.orders.set(id, orderRow(d));
    else state.orders.delete(id);
    return "changed";
  }
  if (stream.startsWith("account.positionUpdate")) {
    const before = state.positions.get(d.s);
    if (d.e === "positionAdjusted" && !before) return "gap";
    if (d.e === "positionClosed" || d.q === "0") state.positions.delete(d.s);
    else state.positions.set(d.s, positionRow(d, before));
    return "changed";
  }
  if (stream === "account.balanceUpdate") {
    state.balances[d.a] = { available: d.A, locked: d.L };
    return "changed";
  }
  return "ignored";
}

/**
 * Follow the account's private streams of one market.
 * @param {import("./api.js").Api} api
 * @param {{symbol: string, marketType: string}} market
 * @param {{message: (stream: string, data: any) => void, open: () => void, status: (state: "on" | "off" | "refused", why?: string) => void}} on
 *   `open` after each (re)subscription: read everything again; `status` when it goes live, drops or is refused
 * @returns {() => void} close for good
 */
export function followAccount(api, market, on) {
  const streams = [`account.orderUpdate.${market.symbol}`, market.marketType === "PERP" ? `account.positionUpdate.${market.symbol}` : "account.balanceUpdate"];
  return subscribe(
    streams,
    on.message,
    () => (on.status("on"), on.open()),
    () => on.status("off"),
    { signature: () => api.streamSignature(), onRefused: (why) => on.status("refused", why) },
  );
}
