// The diverging colour scale of the heatmaps and the similarity matrix (blue, white, red, as
// ColorBrewer's RdBu), and a legend drawn with it.

import { el, formatNumber } from "./dom.js";

const STOPS = [
  [-1, [33, 102, 172]],
  [-0.5, [103, 169, 207]],
  [0, [247, 247, 247]],
  [0.5, [239, 138, 98]],
  [1, [178, 24, 43]],
];

/** The RGB colour of `t` in [-1, 1] (clamped; NaN is the neutral middle). */
export function divergingRgb(t) {
  const x = Number.isFinite(t) ? Math.max(-1, Math.min(1, t)) : 0;
  for (let i = 1; i < STOPS.length; i += 1) {
    const [high, to] = STOPS[i];
    if (x <= high) {
      const [low, from] = STOPS[i - 1];
      const f = (x - low) / (high - low);
      return from.map((channel, k) => Math.round(channel + f * (to[k] - channel)));
    }
  }
  return STOPS[STOPS.length - 1][1];
}

/** `rgb(...)` of `t` for CSS and canvas. */
export function divergingCss(t) {
  const [r, g, b] = divergingRgb(t);
  return `rgb(${r}, ${g}, ${b})`;
}

/** Black or white, whichever reads better on the colour of `t`. */
export function textOn(t) {
  const [r, g, b] = divergingRgb(t);
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#000000" : "#ffffff";
}

/** A legend: `-limit`, the gradient, `0`, `+limit`, with `label` for what the colour means. */
export function legend(limit, label) {
  const canvas = el("canvas", { width: 160, height: 12, "aria-hidden": "true" });
  const context = canvas.getContext("2d");
  for (let x = 0; x < canvas.width; x += 1) {
    context.fillStyle = divergingCss((x / (canvas.width - 1)) * 2 - 1);
    context.fillRect(x, 0, 1, canvas.height);
  }
  const digits = limit >= 10 ? 1 : 3;
  return el(
    "div",
    { class: "legend", role: "note" },
    el("span", {}, label),
    el("span", {}, formatNumber(-limit, digits)),
    canvas,
    el("span", {}, formatNumber(limit, digits)),
    el("span", { class: "hint" }, "(blue negative, white 0, red positive)"),
  );
}
