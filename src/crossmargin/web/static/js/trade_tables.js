// @ts-check
/**
 * The account's part of a trading view: open orders (pending triggers among them) with Cancel;
 * on a perp, the position with its realized and unrealized PnL and Close (at market, or a limit
 * price; both reduce-only); on a spot market, the balances of its two assets; the fills in this
 * market; and the settlements (funding, fees, PnL settled into the balance), each with the amount
 * it moved. Histories show 50 rows and page on with "Show more". Orders, fills and the position or
 * balances are read once and then kept current by the signed account streams
 * (`account_stream.js`); a line above the tables says whether they are live, and when they are not
 * (reconnecting, or refused) the tables are read again after each change, as before.
 */

import { fillScroll, h, scrollBox, table } from "./dom.js";
import { applyMessage, followAccount } from "./account_stream.js";
import { amount, price as priceText, time } from "./format.js";
import { liquidationCell } from "./liquidation.js";

/** @typedef {import("./main.js").Ctx} Ctx */
/** @typedef {import("./trade_form.js").Market} Market */
/** @typedef {import("./account_stream.js").AccountState} AccountState */
/** @typedef {"orders" | "holding" | "fills" | "settlements"} Part */

const PAGE = 50;
/** @type {Part[]} */
const PARTS = ["orders", "holding", "fills", "settlements"];
/** engine.update kinds the account streams carry (an order, a trade, a position's size). */
const STREAMED = new Set(["orders", "trades", "position"]);

/** @param {unknown} value */
function signed(value) {
  const text = amount(value);
  return h("span", { class: text.startsWith("-") ? "neg" : text === "0" ? null : "pos", text });
}

/** @param {unknown} by a trigger's `triggerBy` */
const priceName = (by) => (by === "MarkPrice" ? "mark" : by === "IndexPrice" ? "index" : "last");

/** @param {any} o */
function orderStatus(o) {
  if (o.status === "TriggerPending") {
    const parts = [];
    if (o.triggerPrice) parts.push(`${priceName(o.triggerBy)} price reaches ${priceText(o.triggerPrice)}`);
    if (o.stopLossTriggerPrice) parts.push(`stop loss when the ${priceName(o.stopLossTriggerBy)} price reaches ${priceText(o.stopLossTriggerPrice)}${o.stopLossLimitPrice ? ` (limit ${priceText(o.stopLossLimitPrice)})` : ""}`);
    if (o.takeProfitTriggerPrice) parts.push(`take profit when the ${priceName(o.takeProfitTriggerBy)} price reaches ${priceText(o.takeProfitTriggerPrice)}${o.takeProfitLimitPrice ? ` (limit ${priceText(o.takeProfitLimitPrice)})` : ""}`);
    return `Waiting: ${parts.join("; ")}`;
  }
  if (o.status === "PartiallyFilled") return "Partly filled";
  return o.status === "New" ? "On the book" : String(o.status);
}

/**
 * @param {HTMLElement} where
 * @param {Ctx} ctx
 * @param {Market} market
 * @param {(lines: {title: string, price: string, colour: string}[]) => void} showLines the chart's entry / liquidation lines
 * @param {(() => void)[]} cleanups where its own cleanup goes (closing the streams)
 */
export function createAccountTables(where, ctx, market, showLines, cleanups) {
  const perp = market.marketType === "PERP";
  const error = h("p", { class: "error", role: "alert", "data-testid": "account-error" });
  const box = (/** @type {string} */ label, /** @type {string} */ testid) => scrollBox(label, { "data-testid": testid });
  const orders = box("Open orders table", "open-orders");
  const holding = box(perp ? "Position table" : "Balances table", perp ? "trade-position" : "trade-balances");
  const fills = box("Fills table", "fills");
  const settlements = box("Settlements table", "settlements");
  let fillsLimit = PAGE;
  let settlementsLimit = PAGE;
  const more = (/** @type {string} */ testid, /** @type {() => void} */ fn) => h("button", { type: "button", class: "link", "data-testid": testid, text: "Show more", onclick: fn });
  const fillsMore = more("fills-more", () => ((fillsLimit += PAGE), read(["fills"])));
  const settlementsMore = more("settlements-more", () => ((settlementsLimit += PAGE), read(["settlements"])));
  const card = (/** @type {string} */ title, /** @type {HTMLElement} */ content, /** @type {HTMLElement | null} */ extra = null) =>
    h("section", { class: "card", "aria-label": title }, h("h2", { text: title }), content, extra);
  const live = h("p", { class: "hint live-state", role: "status", "data-testid": "account-live", hidden: true });
  where.append(error, live, card("Open orders", orders), card(perp ? "Position" : "Balances", holding), card("Fills", fills, fillsMore), card("Settlements", settlements, settlementsMore));

  /** @param {() => Promise<unknown>} action */
  const act = async (action) => {
    error.textContent = "";
    try {
      await action();
      if (streamState !== "on") await read();
    } catch (failure) {
      error.textContent = failure instanceof Error ? failure.message : String(failure);
    }
  };

  /** @param {any[]} own */
  const ordersTable = (own) =>
    table(
      [{ label: "Side" }, { label: "Type" }, { label: "Price", num: true }, { label: "Size", num: true }, { label: "Filled", num: true }, { label: "Status" }, { label: "Action" }],
      own.map((o) => ({
        testid: `open-order-${o.id}`,
        cells: [
          h("span", { class: o.side === "Bid" ? "pos" : "neg", text: o.side === "Bid" ? "Buy" : "Sell" }),
          `${o.orderType}${o.reduceOnly ? " · reduce only" : ""}${o.postOnly ? " · post only" : ""}`,
          o.price ? priceText(o.price) : "Market",
          amount(o.quantity ?? o.triggerQuantity),
          amount(o.executedQuantity),
          orderStatus(o),
          h("button", { type: "button", "data-testid": "cancel-order", text: "Cancel", "aria-label": `Cancel order ${o.id}`, onclick: () => act(() => ctx.api.signed("orderCancel", "DELETE", "/api/v1/order", { symbol: market.symbol, orderId: o.id })) }),
        ],
      })),
      "No open orders in this market.",
    );

  /** @param {any} p */
  const closeControls = (p) => {
    const size = String(p.netQuantity).replace(/^-/, "");
    const side = String(p.netQuantity).startsWith("-") ? "Bid" : "Ask";
    const close = (/** @type {Record<string, unknown>} */ extra) => act(() => ctx.api.signed("orderExecute", "POST", "/api/v1/order", { symbol: market.symbol, side, quantity: size, reduceOnly: true, ...extra }));
    const limit = h("input", { type: "text", inputmode: "decimal", class: "close-price", "aria-label": `Limit price to close ${market.symbol}`, placeholder: "Limit price", "data-testid": "close-limit-price" });
    return h(
      "div",
      { class: "close" },
      h("button", { type: "button", "data-testid": "close-market", text: "Close at market", onclick: () => close({ orderType: "Market" }) }),
      limit,
      h("button", {
        type: "button",
        "data-testid": "close-limit",
        text: "Close at limit",
        onclick: () => {
          const price = limit instanceof HTMLInputElement ? limit.value.trim() : "";
          if (!price) return void (error.textContent = "Enter the limit price to close at.");
          close({ orderType: "Limit", price });
        },
      }),
    );
  };

  /** @param {any[]} positions */
  const positionTable = (positions) =>
    table(
      [{ label: "Size", num: true }, { label: "Entry price", num: true }, { label: "Mark price", num: true }, { label: "Liquidation price", num: true }, { label: "Unrealized PnL", num: true }, { label: "Realized PnL", num: true }, { label: "Funding paid/received", num: true }, { label: "Close" }],
      positions.map((p) => ({
        testid: `position-${p.symbol}`,
        cells: [signed(p.netQuantity), priceText(p.entryPrice), priceText(p.markPrice), liquidationCell("span", market.baseSymbol, p.estLiquidationPrice, p.markPrice), signed(p.pnlUnrealized), signed(p.pnlRealized), signed(p.cumulativeFundingPayment), closeControls(p)],
      })),
      "No position in this market.",
    );

  /** @param {Record<string, any>} capital */
  const balanceTable = (capital) =>
    table(
      [{ label: "Asset" }, { label: "Available", num: true }, { label: "Locked", num: true }],
      [market.baseSymbol, market.quoteSymbol].map((asset) => ({ testid: `trade-balance-${asset}`, cells: [asset, amount(capital[asset]?.available ?? "0"), amount(capital[asset]?.locked ?? "0")] })),
    );

  /** @param {any[]} rows */
  const fillsTable = (rows) =>
    table(
      [{ label: "Time" }, { label: "Side" }, { label: "Price", num: true }, { label: "Size", num: true }, { label: "Fee", num: true }, { label: "Role" }],
      rows.map((f) => ({ testid: "fill-row", cells: [time(f.timestamp), f.side === "Bid" ? "Buy" : "Sell", priceText(f.price), amount(f.quantity), `${amount(f.fee)} ${f.feeSymbol}`, f.isMaker ? "Maker" : "Taker"] })),
      "No fills in this market yet.",
    );

  const SOURCES = /** @type {Record<string, string>} */ ({ FundingPayment: "Funding", TradingFees: "Trading fees", TradingFeesSystem: "Trading fees", RealizePnl: "PnL settled" });
  /** @param {any[]} rows */
  const settlementsTable = (rows) =>
    table(
      [{ label: "Time" }, { label: "What" }, { label: "Amount (USDC)", num: true }, { label: "Position" }],
      rows.map((s) => ({ testid: "settlement-row", cells: [time(s.timestamp), SOURCES[s.source] ?? String(s.source), signed(s.quantity), s.positionId ? `#${s.positionId}` : "—"] })),
      "No settlements yet: funding, fees and PnL moved into your balance show here.",
    );

  /** The rows shown, from the REST reads and then the account streams. */
  /** @type {AccountState} */
  let state = { orders: new Map(), positions: new Map(), balances: {}, fills: [] };
  /** @type {any[]} */
  let settledRows = [];
  /** @type {"connecting" | "off" | "on" | "refused"} */
  let streamState = "connecting";
  let readAt = "";
  /** @type {(() => void) | null} */
  let unfollow = null;
  /** Messages heard while a read is in flight: applied on top of what it read (the last message of a row is its state). */
  /** @type {[string, any][] | null} */
  let pending = null;
  /** @type {Set<Part>} */
  let reading = new Set();
  let generation = 0;
  let rendering = false;

  let refusal = "";
  /** The line above the tables: whether they are live, and if not, how old they may be. */
  const showLive = () => {
    const rows = perp ? "orders, position and fills" : "orders, balances and fills";
    const read = readAt ? `; last read ${readAt}` : "";
    const words = {
      on: `Live: your ${rows} update as they happen.`,
      connecting: `Connecting to the live updates of your ${rows}…`,
      off: `Offline, reconnecting: your ${rows} below may be out of date${read}.`,
      refused: `Live updates refused (${refusal}): your ${rows} are read again after each change instead${read}.`,
    };
    live.dataset.state = ctx.session.signedIn ? streamState : "";
    live.hidden = !ctx.session.signedIn;
    live.className = `hint live-state ${streamState}`;
    live.textContent = words[streamState];
  };

  const render = () => {
    rendering = false;
    if (!ctx.session.signedIn) return;
    fillScroll(orders, ordersTable([...state.orders.values()]));
    if (perp) {
      const here = [...state.positions.values()];
      fillScroll(holding, positionTable(here));
      const p = here[0];
      showLines(p ? [{ title: "Entry", price: p.entryPrice, colour: "#4f8cff" }, { title: "Liquidation", price: p.estLiquidationPrice, colour: "#f7576c" }] : []);
    } else fillScroll(holding, balanceTable(state.balances));
    fillScroll(fills, fillsTable(state.fills.slice(0, fillsLimit)));
    fillsMore.hidden = state.fills.length < fillsLimit;
    // A settlement that moved nothing is left out: only money that moved is shown.
    fillScroll(settlements, settlementsTable(settledRows.filter((/** @type {any} */ s) => amount(s.quantity) !== "0")));
    settlementsMore.hidden = settledRows.length < settlementsLimit;
  };
  const renderSoon = () => {
    if (rendering) return;
    rendering = true;
    queueMicrotask(render);
  };

  /**
   * Read parts of the account over REST (all of them: the resync on each (re)subscription and on a
   * gap), then apply the stream messages heard meanwhile.
   * @param {Iterable<Part>} parts
   */
  async function read(parts = PARTS) {
    if (!ctx.session.signedIn) return;
    const mine = ++generation;
    reading = new Set([...reading, ...parts]); // a read still in flight is dropped: this one reads its parts too
    const wanted = reading;
    pending ??= [];
    try {
      const ask = (/** @type {Part} */ part, /** @type {() => Promise<any>} */ fn) => (wanted.has(part) ? fn() : Promise.resolve(null));
      const [open, hold, fillRows, settled] = await Promise.all([
        ask("orders", () => ctx.api.signed("orderQueryAll", "GET", "/api/v1/orders", { symbol: market.symbol })),
        ask("holding", () => (perp ? ctx.api.signed("positionQuery", "GET", "/api/v1/position") : ctx.api.signed("balanceQuery", "GET", "/api/v1/capital"))),
        ask("fills", () => ctx.api.signed("fillHistoryQueryAll", "GET", "/wapi/v1/history/fills", { symbol: market.symbol, limit: fillsLimit })),
        ask("settlements", () => ctx.api.signed("settlementHistoryQueryAll", "GET", "/wapi/v1/history/settlement", { limit: settlementsLimit })),
      ]);
      if (mine !== generation) return;
      /** @type {AccountState} */
      const next = { ...state };
      if (open) next.orders = new Map(open.map((/** @type {any} */ o) => [String(o.id), o]));
      if (hold && perp) next.positions = new Map(hold.filter((/** @type {any} */ p) => p.symbol === market.symbol).map((/** @type {any} */ p) => [p.symbol, p]));
      if (hold && !perp) next.balances = hold;
      if (fillRows) next.fills = fillRows;
      if (settled) settledRows = settled;
      const heard = pending ?? [];
      pending = null;
      reading = new Set();
      state = next;
      const gap = heard.map(([stream, data]) => applyMessage(state, stream, data)).includes("gap");
      readAt = time(Date.now());
      error.textContent = "";
      render();
      showLive();
      if (gap) read();
    } catch (failure) {
      if (mine !== generation) return;
      pending = null;
      reading = new Set();
      error.textContent = `Your orders could not be loaded: ${failure instanceof Error ? failure.message : String(failure)}`;
    }
  }

  /** @param {string} stream @param {any} data */
  const heard = (stream, data) => {
    if (pending) return void pending.push([stream, data]);
    const result = applyMessage(state, stream, data);
    if (result === "gap") read(); // a message shows one was missed: read everything again
    else if (result === "changed") renderSoon();
  };

  /** Whose streams are followed: a change of session follows another subaccount or key, or none. */
  let following = "";
  /** Follow the account's streams of whoever is signed in now (nothing changes for the same one), or stop when signed out. */
  function follow() {
    const who = ctx.session;
    const now = who.signedIn ? `${who.apiKey} ${who.subaccountId} ${who.remembered}` : "";
    if (now && now === following) return;
    unfollow?.();
    unfollow = null;
    following = now;
    streamState = "connecting";
    readAt = "";
    ++generation;
    pending = null;
    state = { orders: new Map(), positions: new Map(), balances: {}, fills: [] };
    if (!now) {
      const hint = h("p", { class: "hint", text: "Sign in to see your orders, position, fills and settlements." });
      for (const b of [orders, holding, fills, settlements]) fillScroll(b, hint.cloneNode(true));
      fillsMore.hidden = settlementsMore.hidden = true;
      showLines([]);
      showLive();
      return;
    }
    for (const b of [orders, holding, fills, settlements]) fillScroll(b, h("p", { class: "loading", text: "Loading…" }));
    showLive();
    const mine = () => following === now;
    // The tables are read once the subscription is in place (the resync); without it, at once.
    unfollow = followAccount(ctx.api, market, {
      message: (stream, data) => mine() && heard(stream, data),
      open: () => mine() && read(),
      status: (stage, why) => {
        if (!mine()) return;
        streamState = stage;
        refusal = why ?? "";
        showLive();
        if (stage === "refused" || (stage === "off" && !readAt)) read(); // a drop reads again once back
      },
    });
  }
  cleanups.push(() => unfollow?.());

  return {
    follow,
    /** Whether the account streams are live (else the view reads again after each change). */
    live: () => streamState === "on",
    /**
     * The engine changed (`kinds` from engine.update). Orders, fills and the position or balances
     * come by the streams while they are live; what they do not carry (marks, funding, interest,
     * settlements, the clock) is read again.
     * @param {import("./main.js").ChangeReason} reason
     * @param {string[]} kinds
     */
    changed(reason, kinds) {
      if (reason === "session") return follow();
      if (streamState === "connecting") return; // the subscription reads everything once in place
      if (streamState !== "on") return void read();
      if (reason === "engine" && kinds.some((kind) => !STREAMED.has(kind))) read(["holding", "settlements"]);
    },
    /** After the user's own order or cancel: the streams bring its outcome, else read. */
    acted: () => streamState !== "on" && read(),
  };
}
