// @ts-check
/**
 * Why a borrow-lend movement happened, in words. Borrows are explained from the server's
 * GET /api/v1/explain/borrows rows (the settlement and shortfall behind a Reconciliation borrow,
 * the orders behind a SpotMargin borrow), the way `crossmargin explain borrows` words them; other
 * movements from their source and event. Amounts are the server's strings, shown as given.
 */

/** @typedef {{eventType: string, positionId: string, positionQuantity: string, quantity: string, source: string, symbol: string, timestamp: string}} Movement */
/** @typedef {Record<string, any>} Explanation one row of GET /api/v1/explain/borrows */

const SETTLED_WORDS = /** @type {Record<string, string>} */ ({
  RealizePnl: "PnL",
  TradingFees: "trading fees",
  FundingPayment: "funding",
});
const SIDE_WORDS = /** @type {Record<string, string>} */ ({ Bid: "buy", Ask: "sell" });

/** Event types as a person says them. */
export const EVENT_WORDS = /** @type {Record<string, string>} */ ({
  Borrow: "Borrow",
  BorrowRepay: "Repay",
  Lend: "Lend",
  LendRedeem: "Redeem",
});

/**
 * @param {string} timestamp the server's naive UTC time "2026-11-24T00:00:20.5"
 * @returns {string} "2026-11-24 00:00:20 UTC"
 */
export function when(timestamp) {
  return `${String(timestamp).replace("T", " ").replace(/\.\d+$/, "")} UTC`;
}

/** @param {Explanation} row */
function feeWords(row) {
  const fee = row.entryFee;
  return fee && !/^0(\.0*)?$/.test(fee) ? ` (entry fee ${fee} ${row.symbol})` : "";
}

/** @param {any} value @returns {Explanation[]} */
function rows(value) {
  return Array.isArray(value) ? value.filter((row) => row && typeof row === "object") : [];
}

/** @param {Explanation[]} settlements @param {string} unit */
function settledWords(settlements, unit) {
  /** @type {Map<string, string[]>} */
  const byMarket = new Map();
  for (const settled of settlements) {
    const words = SETTLED_WORDS[settled.source] ?? String(settled.source);
    const amounts = byMarket.get(settled.symbol) ?? [];
    amounts.push(`${settled.quantity} ${unit} of ${words}`);
    byMarket.set(settled.symbol, amounts);
  }
  const parts = [...byMarket].map(([market, amounts]) => `of ${market} realized ${amounts.join(" and ")}`);
  return parts.length ? parts.join("; and ") : "of your perp positions";
}

/** @param {Explanation} shortfall @param {string} unit */
function coveredWords(shortfall, unit) {
  const words = [];
  if (shortfall.redeemedLend && shortfall.redeemedLend !== "0") {
    words.push(`your ${unit} lend covered ${shortfall.redeemedLend} ${unit} of it first`);
  }
  const converted = rows(shortfall.converted);
  if (converted.length) {
    const sold = converted.map((row) => `${row.quantity} ${row.symbol} for ${row.proceeds} ${unit}`).join(", ");
    words.push(`collateral was converted on the book (${sold})`);
  }
  if (shortfall.uncovered && shortfall.uncovered !== "0") {
    words.push(`${shortfall.uncovered} ${unit} could not be covered and is owed`);
  }
  return words.join("; ");
}

/** @param {Explanation} row @param {string} at */
function reconciliationWords(row, at) {
  const unit = row.symbol;
  const head = `At ${at} the 10-second settlement ${settledWords(rows(row.settlements), unit)}`;
  const shortfall = row.shortfall;
  if (!shortfall || typeof shortfall !== "object") {
    return `${head}; ${row.quantity} ${unit} was borrowed to cover it${feeWords(row)}.`;
  }
  let text = `${head}; your ${unit} balance was ${shortfall.short} short`;
  const covered = coveredWords(shortfall, unit);
  if (covered) text += `; ${covered}`;
  if (shortfall.autoBorrowSettlements === true) {
    return (
      `${text}; auto-borrow of settlements is on, so ${row.quantity} ${unit} was borrowed${feeWords(row)}. ` +
      "Turn off auto-borrow of settlements (in the overview) to have other collateral converted instead."
    );
  }
  return `${text}; so ${row.quantity} ${unit} was borrowed${feeWords(row)}.`;
}

/** @param {Explanation} order */
function orderWords(order) {
  const side = SIDE_WORDS[order.side] ?? String(order.side);
  const price = order.price == null ? " at market" : ` at ${order.price}`;
  return `order ${order.orderId} on ${order.symbol} (${side} ${order.quantity}${price})`;
}

/** @param {Explanation} row @param {string} at */
function spotMarginWords(row, at) {
  const which = rows(row.orders).map(orderWords).join(" and ") || "an order";
  return (
    `At ${at} your ${which} was placed with autoBorrow and the balance lacked ${row.symbol}, ` +
    `so ${row.quantity} ${row.symbol} was borrowed to lock what the order may spend${feeWords(row)}.`
  );
}

/**
 * @param {Explanation} row one explained borrow
 * @returns {string} the borrow and its cause as a sentence
 */
export function explainBorrow(row) {
  const at = when(row.timestamp);
  const { source, symbol, quantity } = row;
  if (source === "Reconciliation") return reconciliationWords(row, at);
  if (source === "SpotMargin") return spotMarginWords(row, at);
  if (source === "Manual") return `At ${at} you borrowed ${quantity} ${symbol} yourself${feeWords(row)}.`;
  if (source === "Withdrawal") {
    return `At ${at} a withdrawal with autoBorrow lacked ${symbol}, so ${quantity} ${symbol} was borrowed${feeWords(row)}.`;
  }
  if (source === "Liquidation") return `At ${at} a liquidation borrowed ${quantity} ${symbol}${feeWords(row)}.`;
  return `At ${at} ${quantity} ${symbol} was borrowed (source ${source})${feeWords(row)}.`;
}

/** @type {Record<string, Record<string, string> & {any?: string}>} */
const MOVEMENT_WORDS = {
  Manual: { any: "You did this yourself." },
  AutoLend: {
    Lend: "Auto-lend is on: your idle balance was lent.",
    BorrowRepay: "Auto-lend is on: your idle balance repaid the borrow.",
    any: "Auto-lend is on: it moved your idle balance.",
  },
  AutoBorrowRepay: {
    BorrowRepay: "Auto-repay borrows is on: the incoming balance repaid the borrow.",
    any: "Auto-repay borrows is on.",
  },
  Interest: { any: "Interest added to the position." },
  Withdrawal: {
    LendRedeem: "A withdrawal needed more than the free balance, so your lend was redeemed.",
    any: "A withdrawal needed more than the free balance.",
  },
  SpotMargin: {
    BorrowRepay: "A spot trade's proceeds repaid the borrow (the order's auto-repay).",
    Lend: "A spot trade's proceeds were lent (the order's auto-lend).",
    LendRedeem: "A spot order with auto-lend-redeem redeemed your lend to pay for it.",
    any: "A spot order's margin flags moved this.",
  },
  Reconciliation: {
    LendRedeem: "The 10-second futures settlement left your balance short, so your lend covered it first.",
    any: "The 10-second futures settlement left your balance short.",
  },
  Liquidation: { any: "Your account was being liquidated: the liquidation moved this." },
  LiquidationBackstop: { any: "The insurance fund took over this position (backstop liquidation)." },
  BackstopProvider: { any: "The insurance fund took over a liquidated position." },
  LiquidationAdl: { any: "Auto-deleveraging closed this against another account." },
  AdlProvider: { any: "Auto-deleveraging closed a liquidated position against this account." },
};

/**
 * @param {Movement} movement
 * @returns {string} why a movement that is not an explained borrow happened
 */
export function explainMovement(movement) {
  const words = MOVEMENT_WORDS[movement.source];
  if (!words) return `Source: ${movement.source}.`;
  return words[movement.eventType] ?? words.any ?? `Source: ${movement.source}.`;
}

/**
 * Pair each borrow movement with its explanation: same position, time, quantity and source (the
 * two lists come newest first, so equal keys pair in order).
 * @param {Movement[]} movements
 * @param {Explanation[]} explanations
 * @returns {(movement: Movement) => string}
 */
export function reasons(movements, explanations) {
  /** @type {Map<string, string[]>} */
  const byKey = new Map();
  const key = (/** @type {Record<string, any>} */ row) =>
    [row.positionId, row.timestamp, row.quantity, row.source, row.symbol].join("|");
  for (const row of explanations) {
    const list = byKey.get(key(row)) ?? [];
    list.push(explainBorrow(row));
    byKey.set(key(row), list);
  }
  /** @type {Map<Movement, string>} */
  const paired = new Map();
  for (const movement of movements) {
    if (movement.eventType !== "Borrow") continue;
    const sentence = byKey.get(key(movement))?.shift();
    if (sentence) paired.set(movement, sentence);
  }
  return (movement) => paired.get(movement) ?? explainMovement(movement);
}
