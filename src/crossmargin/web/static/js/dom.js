// @ts-check
/** Tiny DOM builders: elements from data, never from HTML strings, so server text is always escaped. */

/** @typedef {string | number | Node | null | undefined | false} Child */
/** @typedef {Record<string, unknown>} Attrs */

/**
 * Build an element. attrs: `class`, `text`, `on<Event>` (a listener), `aria-*`, `data-*` and any
 * other attribute; `true` sets an empty attribute, `false`/`null`/`undefined` leave it out.
 * @param {string} tag
 * @param {Attrs | null} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "text") el.textContent = String(value);
    else if (name === "class") el.className = String(value);
    else if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), /** @type {EventListener} */ (value));
    } else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/**
 * Append children (strings become text nodes; nested arrays are flattened; empty ones are skipped).
 * @param {Element} el
 * @param {(Child | Child[])[]} children
 */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * Remove every child of an element.
 * @param {Element} el
 */
export function clear(el) {
  el.replaceChildren();
}

/**
 * Replace an element's children.
 * @param {Element} el
 * @param {...(Child | Child[])} children
 */
export function fill(el, ...children) {
  clear(el);
  append(el, children);
}

/**
 * Give focus back to whatever opened a dialog when it closes.
 * @param {HTMLDialogElement} dialog
 */
export function returnFocusOnClose(dialog) {
  /** @type {HTMLElement | null} */
  let opener = null;
  const showModal = dialog.showModal.bind(dialog);
  dialog.showModal = () => {
    opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    showModal();
  };
  dialog.addEventListener("close", () => opener?.isConnected && opener.focus());
}

/** @typedef {{label: string, num?: boolean}} Column */
/** @typedef {{testid?: string, cells: (Child | Child[])[]}} Row */

/**
 * A data table: a header row of `columns`, one row per `rows` item (numeric columns right-aligned),
 * or one line saying `empty` when there are no rows.
 * @param {Column[]} columns
 * @param {Row[]} rows
 * @param {string} [empty]
 * @returns {HTMLElement}
 */
export function table(columns, rows, empty = "Nothing yet.") {
  const head = h("tr", null, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null, text: c.label })));
  const body = rows.length
    ? rows.map((row) => h("tr", { "data-testid": row.testid }, row.cells.map((cell, i) => h("td", { class: columns[i]?.num ? "num" : null }, cell))))
    : [h("tr", null, h("td", { class: "empty", colspan: String(columns.length), text: empty }))];
  return h("table", { class: "table" }, h("thead", null, head), h("tbody", null, body));
}

/**
 * Join the Tab order (with a focus ring, so arrow keys can scroll it) only while `box` scrolls sideways.
 * @param {HTMLElement} box
 */
function syncScrollable(box) {
  const scrolls = box.scrollWidth > box.clientWidth + 1;
  if (scrolls) box.tabIndex = 0;
  else box.removeAttribute("tabindex");
}

/** @type {WeakMap<HTMLElement, ResizeObserver>} each scroll box's observer of its size and its content's */
const observers = new WeakMap();

/**
 * A box that scrolls its (wide) table sideways inside itself, so the page never does on a narrow
 * screen. It is a group named `label` and, while its content is wider than it, keyboard-focusable,
 * so arrow keys can scroll it (checked after layout, when it or its content resizes: never forcing
 * one). Fill it with `fillScroll`.
 * @param {string} label the accessible name ("Perpetual markets table")
 * @param {Attrs | null} [attrs] more attributes (data-testid, ...)
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function scrollBox(label, attrs, ...children) {
  const extra = attrs?.class ? ` ${attrs.class}` : "";
  const box = h("div", { ...attrs, class: `table-scroll${extra}`, role: "group", "aria-label": label });
  observers.set(box, new ResizeObserver(() => syncScrollable(box)));
  fillScroll(box, ...children);
  return box;
}

/**
 * Replace a scroll box's content in one go (the browser keeps how far it was scrolled sideways).
 * @param {HTMLElement} box made by scrollBox
 * @param {...(Child | Child[])} children
 */
export function fillScroll(box, ...children) {
  fill(box, ...children);
  const observer = observers.get(box);
  observer?.disconnect();
  for (const watched of [box, ...box.children]) observer?.observe(watched);
}
