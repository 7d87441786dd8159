// @ts-check
/**
 * Models → Margin: for the selected borrow-lend asset, the curve of max initial leverage (1 / IMF)
 * against a borrow's notional, and the pool's interest-rate curve against utilization with the
 * utilization now marked. The curves are the server's own points (GET /api/v1/models/margin and
 * /api/v1/models/interestRate); the tooltips show the server's strings for the point nearest the
 * pointer. The rate curve and the signed-in subaccount's leverage limit refresh on every change.
 */

import { lineChart } from "./chart.js";
import { h, fill } from "./dom.js";
import { amount, leverage, percent } from "./format.js";

/**
 * @typedef {import("./main.js").Ctx} Ctx
 *
 * @typedef {{notional: string, imf: string, maxLeverage: string | null}} MarginPoint
 * @typedef {{symbol: string, imfFunction: {type?: string, base?: string, factor?: string}, points: MarginPoint[]}} MarginModel
 * @typedef {{utilization: string, borrowInterestRate: string, lendInterestRate: string}} RatePoint
 * @typedef {{symbol: string, utilization: string, borrowInterestRate: string, lendInterestRate: string,
 *   optimalUtilization: string, maxUtilization: string, fee: string, points: RatePoint[]}} RateModel
 */

/** @param {string} notional */
const dollars = (notional) => `$${amount(notional)}`;

/** Axis label for a power of ten of dollars: 1000 → "$1K". @param {number} value */
function compactDollars(value) {
  const units = /** @type {[number, string][]} */ ([[1e9, "B"], [1e6, "M"], [1e3, "K"]]);
  for (const [size, suffix] of units) if (value >= size) return `$${Number((value / size).toPrecision(6))}${suffix}`;
  return `$${Number(value.toPrecision(6))}`;
}

/** Axis label for a fraction as a percentage: 0.05 → "5%". @param {number} value */
const percentTick = (value) => `${Number((value * 100).toPrecision(6))}%`;

/** The server's points that have a leverage (an IMF of zero has none). @param {MarginModel} model */
const leveragePoints = (model) => model.points.filter((p) => p.maxLeverage !== null);

/** @param {MarginPoint} point */
const describeLeverage = (point) => `${dollars(point.notional)} → ${point.maxLeverage}× max initial leverage`;

/**
 * The leverage chart's data, with the subaccount's leverage limit as a dashed line.
 * @param {MarginModel} model @param {MarginPoint[]} points non-empty @param {string | null} limit
 * @returns {import("./chart.js").ChartData}
 */
function leverageData(model, points, limit) {
  const [first, last] = [points[0], points[points.length - 1]];
  /** @type {import("./chart.js").Rule[]} */
  const rules = [];
  if (limit) {
    const label = `Your leverage limit ${leverage(limit, 4)}`;
    const data = { testid: "leverage-limit", value: limit };
    rules.push({ axis: "y", value: Number(limit), label, className: "chart-rule-limit", data });
  }
  const ys = points.map((p) => Number(p.maxLeverage));
  return {
    xs: points.map((p) => Number(p.notional)),
    series: [{ name: "Max initial leverage (1 / IMF)", ys, className: "series-leverage" }],
    rules,
    describe: (i) => describeLeverage(points[i]),
    label:
      `Max initial leverage of ${model.symbol} borrows against their notional size: ` +
      `${first.maxLeverage}× at ${dollars(first.notional)}, ${last.maxLeverage}× at ${dollars(last.notional)}.`,
  };
}

/**
 * The rate chart's data: borrow and lend APR, with utilization now, the optimal kink and the maximum marked.
 * @param {RateModel} model
 * @returns {import("./chart.js").ChartData}
 */
function rateData(model) {
  const { points, utilization, optimalUtilization, maxUtilization } = model;
  return {
    xs: points.map((p) => Number(p.utilization)),
    series: [
      { name: "Borrow APR", ys: points.map((p) => Number(p.borrowInterestRate)), className: "series-borrow" },
      { name: "Lend APR", ys: points.map((p) => Number(p.lendInterestRate)), className: "series-lend" },
    ],
    rules: [
      {
        axis: "x", value: Number(utilization), label: `Now ${percent(utilization)}`, className: "chart-rule-now",
        row: 0, data: { testid: "current-utilization", value: utilization },
      },
      {
        axis: "x", value: Number(optimalUtilization), label: `Optimal ${percent(optimalUtilization, 0)}`,
        className: "chart-rule-kink", row: 1, data: { testid: "optimal-utilization", value: optimalUtilization },
      },
      {
        axis: "x", value: Number(maxUtilization), label: `Max ${percent(maxUtilization, 0)}`,
        className: "chart-rule-max", row: 2,
      },
    ],
    describe: (i) =>
      `${percent(points[i].utilization, 0)} utilization → ` +
      `borrow ${percent(points[i].borrowInterestRate)} APR, lend ${percent(points[i].lendInterestRate)} APR`,
    label:
      `${model.symbol} borrow and lend interest rates (APR) against pool utilization from 0% to 100%; ` +
      `utilization now ${percent(utilization)}, optimal ${percent(optimalUtilization, 0)}.`,
  };
}

/**
 * Where the curve leaves its flat base, in the server's words: the last point at the first point's leverage.
 * @param {MarginModel} model
 */
function leverageSummary(model) {
  const points = leveragePoints(model);
  if (points.length === 0) return `${model.symbol} borrows need no initial margin.`;
  const flat = points.filter((p) => p.maxLeverage === points[0].maxLeverage);
  const edge = flat[flat.length - 1];
  const last = points[points.length - 1];
  const base =
    `Up to ${dollars(edge.notional)}, ${model.symbol} borrows need ${percent(edge.imf)} initial margin: ` +
    `${edge.maxLeverage}× max leverage.`;
  if (edge === last) return base;
  return (
    `${base} Beyond that the IMF grows with the square root of the notional, ` +
    `so ${dollars(last.notional)} gets only ${last.maxLeverage}×.`
  );
}

/** @param {RateModel} model */
function rateSummary(model) {
  return (
    `Now ${percent(model.utilization)} of the lent ${model.symbol} is borrowed: ` +
    `borrowers pay ${percent(model.borrowInterestRate)} APR, ` +
    `lenders earn ${percent(model.lendInterestRate)} APR. The borrow rate rises gently up to the optimal utilization ` +
    `(${percent(model.optimalUtilization, 0)}) and steeply after it; borrows stop at ${percent(model.maxUtilization, 0)}.`
  );
}

/**
 * @param {HTMLElement} root
 * @param {Ctx} ctx
 * @returns {() => void}
 */
export function mount(root, ctx) {
  const leverageChart = lineChart({
    testId: "leverage-chart",
    xScale: "log",
    xTick: compactDollars,
    yTick: (y) => `${Number(y.toPrecision(6))}×`,
    xTitle: "Notional borrowed (USD, log scale)",
    yTitle: "Max leverage",
  });
  const rateChart = lineChart({
    testId: "rate-chart",
    xTick: percentTick,
    yTick: percentTick,
    xTitle: "Utilization (borrowed / lent)",
    yTitle: "APR",
  });
  const assets = h("div", { class: "models-assets", role: "group", "aria-label": "Asset" });
  const error = h("p", { class: "error models-error", role: "alert" });
  // Each heading says what its card is while the curves load; the asset's name replaces it then.
  const leverageTitle = h("h2", { id: "models-leverage-title", text: "Max initial leverage" });
  const leverageText = h("p", { class: "models-text", "data-testid": "leverage-summary" });
  const limitText = h("p", { class: "models-text", "data-testid": "leverage-limit-text" });
  const rateTitle = h("h2", { id: "models-rate-title", text: "Interest rates against utilization" });
  const rateText = h("p", { class: "models-text", "data-testid": "rate-summary" });
  fill(
    root,
    h(
      "div",
      { class: "models" },
      h("h1", { text: "Models → Margin" }),
      h("p", {
        class: "models-text",
        text:
          "Every borrow locks initial margin: its notional (USD value) times the initial margin fraction (IMF). " +
            "Max initial leverage is 1 / IMF. The IMF grows with the size of the borrow, " +
            "so larger positions get less leverage. " +
            "Hover a chart, or focus it and use the arrow keys, to read each point.",
      }),
      assets,
      error,
      h("section", { class: "card models-card", "aria-labelledby": "models-leverage-title" },
        leverageTitle, leverageText, leverageChart.element, limitText),
      h("section", { class: "card models-card", "aria-labelledby": "models-rate-title" },
        rateTitle, rateText, rateChart.element),
    ),
  );

  /** @type {Map<string, MarginModel>} */
  const margins = new Map();
  let symbol = new URLSearchParams(location.search).get("symbol");
  let symbols = /** @type {string[]} */ ([]);
  let shownLeverage = "";
  let sequence = 0;
  let disposed = false;

  function drawAssets() {
    fill(
      assets,
      symbols.map((s) => {
        const pressed = String(s === symbol);
        const attrs = { type: "button", class: "models-asset", text: s, "aria-pressed": pressed, "data-testid": `asset-${s}` };
        return h("button", { ...attrs, onclick: () => choose(s) });
      }),
    );
  }

  /** @param {string} next */
  function choose(next) {
    if (next === symbol) return;
    symbol = next;
    history.replaceState(history.state, "", `${location.pathname}?symbol=${encodeURIComponent(next)}`);
    for (const button of assets.querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(button.textContent === next));
    }
    leverageChart.select(null);
    rateChart.select(null);
    refresh();
  }

  /** @param {string} sym */
  async function marginModel(sym) {
    const cached = margins.get(sym);
    if (cached) return cached;
    const model = /** @type {MarginModel} */ (await ctx.api.get("/api/v1/models/margin", { symbol: sym }));
    margins.set(sym, model);
    return model;
  }

  /** The signed-in subaccount's leverage limit, or null (signed out, or the account cannot be read). */
  async function leverageLimit() {
    if (!ctx.session.signedIn) return null;
    try {
      const account = await ctx.api.signed("accountQuery", "GET", "/api/v1/account");
      return account && typeof account.leverageLimit === "string" ? account.leverageLimit : null;
    } catch {
      return null;
    }
  }

  async function refresh() {
    const mine = ++sequence;
    try {
      const markets = /** @type {{symbol: string}[]} */ (await ctx.api.get("/api/v1/borrowLend/markets"));
      if (disposed || mine !== sequence) return;
      const listed = markets.map((m) => m.symbol);
      if (listed.join() !== symbols.join() || !symbol || !listed.includes(symbol)) {
        symbols = listed;
        if (!symbol || !listed.includes(symbol)) symbol = listed.includes("BTC") ? "BTC" : (listed[0] ?? null);
        drawAssets();
      }
      if (!symbol) return;
      const sym = symbol;
      const [margin, rates, limit] = await Promise.all([
        marginModel(sym),
        /** @type {Promise<RateModel>} */ (ctx.api.get("/api/v1/models/interestRate", { symbol: sym })),
        leverageLimit(),
      ]);
      if (disposed || mine !== sequence) return;
      show(sym, margin, rates, limit);
      error.textContent = "";
    } catch (failure) {
      if (disposed || mine !== sequence) return;
      error.textContent = `The curves could not be loaded: ${failure instanceof Error ? failure.message : String(failure)}`;
    }
  }

  /**
   * @param {string} sym @param {MarginModel} margin @param {RateModel} rates @param {string | null} limit
   */
  function show(sym, margin, rates, limit) {
    const key = `${sym}|${limit}`;
    if (key !== shownLeverage) {
      shownLeverage = key;
      leverageTitle.textContent = `Max initial leverage of ${sym} borrows`;
      leverageText.textContent = leverageSummary(margin);
      limitText.textContent = limit
        ? `The dashed line is your subaccount's leverage limit (${leverage(limit, 4)}): ` +
          "your leverage never goes above it, even where the curve allows more."
        : "Sign in to see your subaccount's leverage limit on the chart.";
      const points = leveragePoints(margin);
      if (points.length > 0) leverageChart.update(leverageData(margin, points, limit));
    }
    rateTitle.textContent = `${sym} interest rates against utilization`;
    rateText.textContent = rateSummary(rates);
    rateChart.update(rateData(rates));
  }

  const unsubscribe = ctx.onChange(() => refresh());
  refresh();
  return () => {
    disposed = true;
    unsubscribe();
    leverageChart.destroy();
    rateChart.destroy();
  };
}
