// @ts-check
/**
 * The trading view's price chart: TradingView Lightweight Charts (vendored, see
 * static/vendor/lightweight-charts/README.md), one-minute candles of the Last price, the Mark and
 * Index prices as lines, and your entry and liquidation prices as price lines. Dragging, pinching
 * and the wheel pan and zoom (mouse and touch). The chart element says how many candles it holds
 * (`data-candles`), the time of the last one, where the view starts (`data-visible-from`) and
 * whether its candles have come (`data-loaded`: they are read once the chart has loaded), so
 * tests and assistive tools can read them.
 */

import { h } from "./dom.js";
import { chartPrice, chartTick, chartTime } from "./format.js";

const LIBRARY = "/static/vendor/lightweight-charts/lightweight-charts.standalone.production.mjs";
/** @typedef {typeof import("lightweight-charts")} Library */
/** @typedef {import("lightweight-charts").UTCTimestamp} Seconds */

/**
 * Seconds since the epoch of Backpack's candle time ("2026-12-06 13:58:00", UTC, no zone).
 * @param {string} text
 * @returns {Seconds}
 */
export function candleTime(text) {
  return /** @type {Seconds} */ (Math.floor(Date.parse(`${String(text).replace(" ", "T")}Z`) / 1000));
}

/** @param {any} k */
const candle = (k) => ({ time: candleTime(k.start), open: Number(k.open), high: Number(k.high), low: Number(k.low), close: Number(k.close) });
/** @param {any} k */
const point = (k) => ({ time: candleTime(k.start), value: Number(k.close) });

/**
 * @typedef {object} PriceChart
 * @property {HTMLElement} element
 * @property {(last: any[], mark: any[], index: any[]) => void} setData klines of each price type
 * @property {(k: any) => void} kline a `kline.1m.<symbol>` message
 * @property {(m: any) => void} mark a `markPrice.<symbol>` message
 * @property {(lines: {title: string, price: string, colour: string}[]) => void} lines entry / liquidation
 * @property {() => void} remove
 */

/**
 * Load the library and draw the chart at the end of `parent`: in place before the library sizes it,
 * so its canvases are sized once (a chart made in a detached element is sized again, and redrawn,
 * when it is attached).
 * @param {string} symbol
 * @param {HTMLElement} parent
 * @returns {Promise<PriceChart>}
 */
export async function createPriceChart(symbol, parent) {
  const lib = /** @type {Library} */ (await import(LIBRARY));
  const element = h("div", { class: "price-chart", role: "img", "aria-label": `${symbol} price chart: one-minute candles of the last price, with mark and index lines`, "data-testid": "price-chart", "data-candles": "0" });
  parent.append(element);
  const chart = lib.createChart(element, {
    autoSize: true,
    layout: { background: { color: "#161b24" }, textColor: "#c3cad6", attributionLogo: false /* its logo inserts a <style> element, which the CSP refuses: the link under the chart credits TradingView instead */ },
    grid: { vertLines: { color: "#222a36" }, horzLines: { color: "#222a36" } },
    // Our own time labels (UTC, as the candles): the library's own call Date.toLocaleString (format.js chartTick).
    timeScale: { timeVisible: true, secondsVisible: false, tickMarkFormatter: (/** @type {import("lightweight-charts").Time} */ time, /** @type {import("lightweight-charts").TickMarkType} */ kind) => chartTick(time, kind) },
    // Horizontal drags pan the chart; vertical ones scroll the page on a phone.
    handleScroll: { mouseWheel: true, pressedMouseMove: true, horzTouchDrag: true, vertTouchDrag: false },
    handleScale: { axisPressedMouseMove: true, mouseWheel: true, pinch: true },
    localization: { priceFormatter: chartPrice, timeFormatter: (/** @type {import("lightweight-charts").Time} */ time) => chartTime(time) },
  });
  const candles = chart.addSeries(lib.CandlestickSeries, { upColor: "#2ebd85", downColor: "#f7576c", borderVisible: false, wickUpColor: "#2ebd85", wickDownColor: "#f7576c" });
  const markLine = chart.addSeries(lib.LineSeries, { color: "#f0b90b", lineWidth: 1, title: "Mark", priceLineVisible: false });
  const indexLine = chart.addSeries(lib.LineSeries, { color: "#8d97a8", lineWidth: 1, lineStyle: lib.LineStyle.Dotted, title: "Index", priceLineVisible: false });
  // Where the view is (logical bar index of its left edge): says a drag or a swipe panned it.
  chart.timeScale().subscribeVisibleLogicalRangeChange((range) => {
    element.dataset.visibleFrom = range ? range.from.toFixed(2) : "";
  });
  /** @type {import("lightweight-charts").IPriceLine[]} */
  let priceLines = [];
  const count = () => {
    const data = candles.data();
    element.dataset.candles = String(data.length);
    element.dataset.lastTime = data.length ? String(data[data.length - 1].time) : "";
  };
  /** Update a series, ignoring a point older than its last (the library refuses those). */
  const safe = (/** @type {() => void} */ fn) => {
    try {
      fn();
    } catch {
      /* an out-of-order stream message: the next snapshot corrects it */
    }
  };
  return {
    element,
    setData(last, mark, index) {
      candles.setData(last.map(candle));
      markLine.setData(mark.map(point));
      indexLine.setData(index.map(point));
      count();
      element.dataset.loaded = "true"; // the candles came (after the chart: it loads once the book shows)
    },
    kline(k) {
      safe(() => candles.update({ time: candleTime(k.t), open: Number(k.o), high: Number(k.h), low: Number(k.l), close: Number(k.c) }));
      count();
    },
    mark(m) {
      const time = /** @type {Seconds} */ (Math.floor(Number(m.T) / 60_000_000) * 60);
      if (m.p) safe(() => markLine.update({ time, value: Number(m.p) }));
      if (m.i) safe(() => indexLine.update({ time, value: Number(m.i) }));
    },
    lines(wanted) {
      priceLines.forEach((line) => candles.removePriceLine(line));
      priceLines = wanted
        .filter((line) => Number(line.price) > 0)
        .map((line) => candles.createPriceLine({ price: Number(line.price), color: line.colour, lineWidth: 1, lineStyle: lib.LineStyle.Dashed, axisLabelVisible: true, title: line.title }));
      element.dataset.lines = wanted.filter((line) => Number(line.price) > 0).map((line) => line.title).join(",");
    },
    remove: () => chart.remove(),
  };
}
