// @ts-check
/**
 * A small SVG line chart: axes with round ticks, a linear or logarithmic x scale, one or more
 * series sharing the same x values, labelled marker lines, and a cursor that snaps to the data
 * points. The cursor follows the pointer (crosshair + tooltip) and the keyboard: the chart is
 * focusable, Left/Right move point by point, Home/End jump to the ends, PageUp/PageDown by ten,
 * Escape hides it. The tooltip is an HTML element (role="status") so a screen reader reads each
 * point as the cursor moves; its text comes from the caller (`describe`), so exact server strings
 * can be shown. Numbers here are floats only for pixel positions.
 */

const SVG = "http://www.w3.org/2000/svg";

/**
 * @typedef {Object} Series
 * @property {string} name
 * @property {number[]} ys          one value per x (same length as ChartData.xs)
 * @property {string} [className]   styles the line and its cursor dot
 *
 * @typedef {Object} Rule           a labelled marker line across the plot
 * @property {"x"|"y"} axis         "x": vertical line at an x value; "y": horizontal line at a y value
 * @property {number} value
 * @property {string} label
 * @property {string} [className]
 * @property {number} [row]         label row from the top (vertical rules), to keep labels apart
 * @property {Record<string, string>} [data]   data-* attributes for the rule's group
 *
 * @typedef {Object} ChartData
 * @property {number[]} xs                      increasing; positive on a log scale
 * @property {Series[]} series
 * @property {Rule[]} [rules]
 * @property {[number, number]} [yDomain]      default: 0 to a round number above every value and y rule
 * @property {(index: number) => string} describe   the tooltip's text for a point
 * @property {string} label                     the chart's accessible name
 *
 * @typedef {Object} ChartOptions
 * @property {string} testId                    data-testid of the svg
 * @property {"linear"|"log"} [xScale]
 * @property {(x: number) => string} xTick      axis tick label
 * @property {(y: number) => string} yTick
 * @property {string} xTitle
 * @property {string} yTitle
 * @property {number} [height]                  at most this tall (px); the width follows the container
 *
 * @typedef {Object} Chart
 * @property {HTMLElement} element              a <figure> holding the svg, the tooltip and the legend
 * @property {(data: ChartData) => void} update
 * @property {(index: number | null) => void} select   move the cursor (null hides it)
 * @property {() => number | null} selected
 * @property {() => void} destroy                stop following the container's size
 */

/**
 * @typedef {Object} Scale
 * @property {(value: number) => number} map      data → pixel
 * @property {(pixel: number) => number} invert   pixel → data
 */

/**
 * @param {number} d0 @param {number} d1 @param {number} r0 @param {number} r1
 * @returns {Scale}
 */
export function linearScale(d0, d1, r0, r1) {
  const k = (r1 - r0) / (d1 - d0 || 1);
  return { map: (v) => r0 + (v - d0) * k, invert: (p) => d0 + (p - r0) / k };
}

/**
 * @param {number} d0 @param {number} d1 @param {number} r0 @param {number} r1
 * @returns {Scale}
 */
export function logScale(d0, d1, r0, r1) {
  const inner = linearScale(Math.log10(d0), Math.log10(d1), r0, r1);
  return { map: (v) => inner.map(Math.log10(v)), invert: (p) => 10 ** inner.invert(p) };
}

/**
 * A round step (1, 2 or 5 times a power of ten) giving about `count` intervals over `span`.
 * @param {number} span @param {number} count
 */
export function niceStep(span, count) {
  const raw = span / Math.max(1, count) || 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

/**
 * Round ticks from min to max inclusive (about `count` intervals).
 * @param {number} min @param {number} max @param {number} [count]
 * @returns {number[]}
 */
export function niceTicks(min, max, count = 5) {
  const step = niceStep(max - min, count);
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const ticks = [];
  for (let i = Math.ceil(min / step - 1e-9); i * step <= max + step * 1e-9; i += 1) {
    ticks.push(Number((i * step).toFixed(decimals)));
  }
  return ticks;
}

/**
 * The smallest round number (a tick of niceTicks) at or above `max`, for a y domain from 0.
 * @param {number} max @param {number} [count]
 */
export function niceCeiling(max, count = 5) {
  if (!(max > 0)) return 1;
  const step = niceStep(max, count);
  return Math.ceil(max / step - 1e-9) * step;
}

/**
 * Powers of ten inside [min, max] (a log axis); falls back to round linear ticks for a short range.
 * @param {number} min @param {number} max
 * @returns {number[]}
 */
export function logTicks(min, max) {
  const ticks = [];
  for (let e = Math.ceil(Math.log10(min) - 1e-9); e <= Math.floor(Math.log10(max) + 1e-9); e += 1) ticks.push(10 ** e);
  return ticks.length >= 2 ? ticks : niceTicks(min, max);
}

/**
 * Index of the value in the increasing array `sorted` nearest to `target`.
 * @param {number[]} sorted @param {number} target
 */
export function nearestIndex(sorted, target) {
  let lo = 0;
  let hi = sorted.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= target) lo = mid;
    else hi = mid;
  }
  return Math.abs(sorted[hi] - target) < Math.abs(sorted[lo] - target) ? hi : lo;
}

/**
 * @param {string} tag
 * @param {Record<string, string | number>} [attrs]
 * @returns {SVGElement}
 */
function svgEl(tag, attrs = {}) {
  const el = /** @type {SVGElement} */ (document.createElementNS(SVG, tag));
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  return el;
}

/** @param {number} n */
const px = (n) => n.toFixed(1);

const KEY_STEPS = /** @type {Record<string, (i: number, last: number) => number>} */ ({
  ArrowRight: (i) => i + 1,
  ArrowUp: (i) => i + 1,
  ArrowLeft: (i) => i - 1,
  ArrowDown: (i) => i - 1,
  PageUp: (i) => i + 10,
  PageDown: (i) => i - 10,
  Home: () => 0,
  End: (_, last) => last,
});

/**
 * Create a chart; call `update` with data to draw it.
 * @param {ChartOptions} options
 * @returns {Chart}
 */
export function lineChart(options) {
  let width = 720;
  let height = options.height ?? 300;
  const box = { left: 64, right: width - 20, top: 28, bottom: height - 44 };
  const svg = /** @type {SVGSVGElement} */ (
    svgEl("svg", {
      role: "img",
      tabindex: 0,
      class: "chart-svg",
      "data-testid": options.testId,
      "data-x-scale": options.xScale ?? "linear",
      // Named from the first moment, so a screen reader never meets an unnamed image while data loads.
      "aria-label": `${options.yTitle} against ${options.xTitle}: loading.`,
    })
  );
  const layers = {
    grid: svgEl("g", { class: "chart-grid" }),
    axes: svgEl("g", { class: "chart-axes" }),
    series: svgEl("g", { class: "chart-series" }),
    rules: svgEl("g", { class: "chart-rules" }),
    cursor: svgEl("g", { class: "chart-cursor", visibility: "hidden" }),
  };
  const plot = svgEl("rect", { class: "chart-plot" });
  svg.append(plot, layers.grid, layers.axes, layers.series, layers.rules, layers.cursor);
  const tooltip = document.createElement("div");
  tooltip.className = "chart-tooltip";
  tooltip.setAttribute("role", "status");
  tooltip.dataset.testid = "chart-tooltip";
  const legend = document.createElement("figcaption");
  legend.className = "chart-legend";
  const figure = document.createElement("figure");
  figure.className = "chart";
  figure.append(svg, tooltip, legend);

  /** @type {ChartData | null} */
  let data = null;
  /** @type {number[]} pixel x of each point */
  let xPixels = [];
  /** @type {Scale} */
  let yScale = linearScale(0, 1, box.bottom, box.top);
  /** @type {number | null} */
  let cursor = null;

  /** Size the drawing to the figure's width (1 unit = 1 CSS pixel, so text keeps its size). */
  function layout() {
    width = Math.max(280, Math.round(figure.clientWidth || 720));
    height = Math.min(options.height ?? 300, Math.max(220, Math.round(width * 0.45)));
    Object.assign(box, { right: width - 20, bottom: height - 44 });
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    const area = { x: box.left, y: box.top, width: box.right - box.left, height: box.bottom - box.top };
    for (const [name, value] of Object.entries(area)) plot.setAttribute(name, String(value));
  }

  /** @param {ChartData} next */
  function draw(next) {
    layout();
    const { xs } = next;
    const x0 = xs[0];
    const x1 = xs[xs.length - 1];
    const log = options.xScale === "log";
    const xScale = (log ? logScale : linearScale)(x0, x1, box.left, box.right);
    const ruleYs = (next.rules ?? []).filter((r) => r.axis === "y").map((r) => r.value);
    const yMax = Math.max(0, ...next.series.flatMap((s) => s.ys), ...ruleYs);
    const [y0, y1] = next.yDomain ?? [0, niceCeiling(yMax)];
    yScale = linearScale(y0, y1, box.bottom, box.top);
    xPixels = xs.map(xScale.map);
    svg.dataset.xMin = String(x0);
    svg.dataset.xMax = String(x1);
    svg.setAttribute("aria-label", `${next.label} Focus the chart and use the arrow keys, Home and End to read each point.`);
    drawGrid(log ? logTicks(x0, x1) : niceTicks(x0, x1), niceTicks(y0, y1), xScale);
    layers.series.replaceChildren(
      ...next.series.map((s) =>
        svgEl("path", {
          class: `chart-line ${s.className ?? ""}`,
          d: s.ys.map((y, i) => `${i ? "L" : "M"}${px(xPixels[i])},${px(yScale.map(y))}`).join(""),
        }),
      ),
    );
    layers.rules.replaceChildren(...(next.rules ?? []).map((rule) => drawRule(rule, xScale)));
    legend.replaceChildren(
      ...next.series.map((s) => {
        const item = document.createElement("span");
        item.className = `chart-legend-item ${s.className ?? ""}`;
        item.textContent = s.name;
        return item;
      }),
    );
  }

  /** @param {number[]} xTicks @param {number[]} yTicks @param {Scale} xScale */
  function drawGrid(xTicks, yTicks, xScale) {
    const grid = [];
    const labels = [];
    const every = Math.ceil((xTicks.length * 52) / (box.right - box.left)); // label every n-th tick when crowded
    for (const [i, t] of xTicks.entries()) {
      const x = px(xScale.map(t));
      grid.push(svgEl("line", { x1: x, x2: x, y1: box.top, y2: box.bottom }));
      if (i % every !== 0) continue;
      const label = svgEl("text", { x, y: box.bottom + 18, "text-anchor": "middle" });
      label.textContent = options.xTick(t);
      labels.push(label);
    }
    for (const t of yTicks) {
      const y = px(yScale.map(t));
      grid.push(svgEl("line", { x1: box.left, x2: box.right, y1: y, y2: y }));
      const label = svgEl("text", { x: box.left - 8, y, "text-anchor": "end", "dominant-baseline": "middle" });
      label.textContent = options.yTick(t);
      labels.push(label);
    }
    const middle = (box.left + box.right) / 2;
    const xTitle = svgEl("text", { x: middle, y: height - 6, "text-anchor": "middle", class: "chart-title" });
    xTitle.textContent = options.xTitle;
    const yTitle = svgEl("text", { x: box.left, y: box.top - 12, "text-anchor": "middle", class: "chart-title" });
    yTitle.textContent = options.yTitle;
    const frame = svgEl("path", { class: "chart-frame", d: `M${box.left},${box.top}V${box.bottom}H${box.right}` });
    layers.grid.replaceChildren(...grid);
    layers.axes.replaceChildren(...labels, xTitle, yTitle, frame);
  }

  /** @param {Rule} rule @param {Scale} xScale */
  function drawRule(rule, xScale) {
    const group = svgEl("g", { class: `chart-rule ${rule.className ?? ""}` });
    for (const [key, value] of Object.entries(rule.data ?? {})) group.setAttribute(`data-${key}`, value);
    const text = svgEl("text", {});
    text.textContent = rule.label;
    if (rule.axis === "x") {
      const x = Math.min(box.right, Math.max(box.left, xScale.map(rule.value)));
      const right = x > (box.left + box.right) / 2;
      group.append(svgEl("line", { x1: px(x), x2: px(x), y1: box.top, y2: box.bottom }), text);
      text.setAttribute("x", px(right ? x - 5 : x + 5));
      text.setAttribute("y", px(box.top + 14 + 16 * (rule.row ?? 0)));
      text.setAttribute("text-anchor", right ? "end" : "start");
    } else {
      const y = yScale.map(rule.value);
      group.append(svgEl("line", { x1: box.left, x2: box.right, y1: px(y), y2: px(y) }), text);
      text.setAttribute("x", px(box.right - 4));
      text.setAttribute("y", px(y - 5));
      text.setAttribute("text-anchor", "end");
    }
    return group;
  }

  /** @param {number | null} index */
  function select(index) {
    if (!data || index === null || xPixels.length === 0) {
      cursor = null;
      layers.cursor.setAttribute("visibility", "hidden");
      tooltip.textContent = "";
      tooltip.classList.remove("is-visible");
      return;
    }
    cursor = Math.max(0, Math.min(xPixels.length - 1, index));
    const x = xPixels[cursor];
    const dots = data.series.map((s) =>
      svgEl("circle", { class: `chart-dot ${s.className ?? ""}`, cx: px(x), cy: px(yScale.map(s.ys[cursor ?? 0])), r: 4 }),
    );
    layers.cursor.replaceChildren(svgEl("line", { x1: px(x), x2: px(x), y1: box.top, y2: box.bottom }), ...dots);
    layers.cursor.setAttribute("visibility", "visible");
    tooltip.textContent = data.describe(cursor);
    tooltip.classList.add("is-visible");
    placeTooltip(x, yScale.map(data.series[0].ys[cursor]));
  }

  /**
   * Put the tooltip beside the cursor point, on the side with room, inside the figure.
   * @param {number} x @param {number} y
   */
  function placeTooltip(x, y) {
    const frame = svg.getBoundingClientRect();
    const origin = figure.getBoundingClientRect();
    const scale = frame.width / width || 1;
    const at = frame.left - origin.left + x * scale;
    const room = figure.clientWidth;
    const wide = tooltip.offsetWidth;
    let left = at + 12;
    if (left + wide > room) left = at - 12 - wide;
    tooltip.style.left = `${Math.max(0, Math.min(left, room - wide))}px`;
    tooltip.style.top = `${frame.top - origin.top + Math.max(box.top, y - 44) * scale}px`;
  }

  /** @param {PointerEvent} event */
  function onPointer(event) {
    const matrix = svg.getScreenCTM();
    if (!data || !matrix) return;
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    if (point.x < box.left - 8 || point.x > box.right + 8) return;
    select(nearestIndex(xPixels, point.x));
  }

  function onLeave() {
    if (document.activeElement !== svg) select(null);
  }

  /** @param {KeyboardEvent} event */
  function onKey(event) {
    if (!data) return;
    const last = xPixels.length - 1;
    if (event.key === "Escape") {
      select(null);
      return;
    }
    const step = KEY_STEPS[event.key];
    if (!step) return;
    event.preventDefault();
    const from = cursor ?? (event.key === "ArrowLeft" || event.key === "ArrowDown" ? last + 1 : -1);
    select(step(from, last));
  }

  svg.addEventListener("pointermove", onPointer);
  svg.addEventListener("pointerdown", onPointer);
  svg.addEventListener("pointerleave", onLeave);
  svg.addEventListener("blur", () => select(null));
  svg.addEventListener("keydown", onKey);
  const resized = new ResizeObserver(() => {
    if (data && Math.round(figure.clientWidth) !== width) {
      draw(data);
      select(cursor);
    }
  });
  resized.observe(figure);

  return {
    element: figure,
    update(next) {
      const keep = data && cursor !== null && next.xs.length === data.xs.length ? cursor : null;
      data = next;
      draw(next);
      select(keep);
    },
    select,
    selected: () => cursor,
    destroy: () => resized.disconnect(),
  };
}
