// A matrix drawn as a heatmap on a canvas: one row per token (labelled), one column per
// dimension, the diverging scale symmetric around 0, and the value under the pointer (or under
// the keyboard cursor: arrow keys, Home, End) read out below it.

import { el } from "./dom.js";
import { divergingCss, legend } from "./colour.js";

const ROW_HEIGHT = 20;
const TARGET_WIDTH = 720;
/** Rows beyond this are left out (a note says so): a canvas of thousands of rows helps no one. */
const MAX_ROWS = 64;

function largestMagnitude(rows) {
  let limit = 0;
  for (const row of rows) {
    for (const value of row) limit = Math.max(limit, Math.abs(value));
  }
  return limit > 0 ? limit : 1;
}

/**
 * The heatmap of `rows` (arrays of numbers, equally long) labelled by `labels`, named `name`
 * for assistive technology, with `testid` on the canvas. The canvas carries `data-rows`,
 * `data-cols`, `data-cell-width` and `data-cell-height` so scripts can address a cell.
 */
export function heatmap({ rows, labels, name, testid }) {
  const shown = rows.slice(0, MAX_ROWS);
  const width = shown[0].length;
  const cell = Math.max(2, Math.min(14, Math.floor(TARGET_WIDTH / width)));
  const limit = largestMagnitude(shown);
  const canvas = el("canvas", {
    width: width * cell,
    height: shown.length * ROW_HEIGHT,
    tabindex: 0,
    role: "img",
    "aria-label": `${name}: ${shown.length} rows by ${width} dimensions; arrow keys read the values`,
    "data-testid": testid,
    "data-rows": shown.length,
    "data-cols": width,
    "data-cell-width": cell,
    "data-cell-height": ROW_HEIGHT,
  });
  const context = canvas.getContext("2d");
  shown.forEach((row, r) => {
    row.forEach((value, c) => {
      context.fillStyle = divergingCss(value / limit);
      context.fillRect(c * cell, r * ROW_HEIGHT, cell, ROW_HEIGHT);
    });
  });

  const readout = el(
    "p",
    { class: "readout", "aria-live": "polite", "data-testid": `${testid}-readout` },
    "Point at a cell, or focus the heatmap and use the arrow keys, to read its value.",
  );
  const point = (r, c) => {
    const value = shown[r][c];
    readout.textContent = `row ${r + 1} “${labels[r]}” · dimension ${c} · ${value}`;
    readout.dataset.row = r;
    readout.dataset.col = c;
    readout.dataset.value = value;
  };
  const cursor = { r: 0, c: 0 };
  canvas.addEventListener("pointermove", (event) => {
    const box = canvas.getBoundingClientRect();
    const c = Math.floor(((event.clientX - box.left) / box.width) * width);
    const r = Math.floor(((event.clientY - box.top) / box.height) * shown.length);
    if (r >= 0 && r < shown.length && c >= 0 && c < width) point(r, c);
  });
  canvas.addEventListener("focus", () => point(cursor.r, cursor.c));
  canvas.addEventListener("keydown", (event) => {
    const moves = {
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      Home: [0, -width],
      End: [0, width],
    };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    cursor.r = Math.max(0, Math.min(shown.length - 1, cursor.r + move[0]));
    cursor.c = Math.max(0, Math.min(width - 1, cursor.c + move[1]));
    point(cursor.r, cursor.c);
  });

  const rowLabels = el("ol", { class: "heatmap-labels", "aria-hidden": "true" }, ...shown.map((_, r) => el("li", {}, labels[r])));
  const parts = [
    el("div", { class: "heatmap" }, rowLabels, el("div", { class: "heatmap-scroll" }, canvas)),
    legend(limit, "colour:"),
    readout,
  ];
  if (rows.length > shown.length) {
    parts.push(el("p", { class: "hint" }, `The first ${shown.length} of ${rows.length} rows are shown.`));
  }
  return el("div", {}, ...parts);
}
