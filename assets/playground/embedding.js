// The Embedding panel: each text's token rows as a heatmap (POST /embed, pooling none), its
// pooled vector (pooling mean), and the cosine-similarity matrix of the pooled vectors.

import { post } from "./api.js";
import { byId, el, formatNumber, handleSubmit, showError } from "./dom.js";
import { divergingCss, legend, textOn } from "./colour.js";
import { heatmap } from "./heatmap.js";

function cosine(a, b) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i += 1) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

const shorten = (text) => (text.length > 28 ? `${text.slice(0, 27)}…` : text);

function similarityTable(texts, vectors) {
  // Columns are numbered (the rows name the texts) so the matrix stays narrow.
  const header = el("tr", {}, el("td", {}), ...texts.map((text, j) => el("th", { scope: "col", title: text }, String(j + 1))));
  const rows = texts.map((text, i) => {
    const cells = vectors.map((other, j) => {
      const score = cosine(vectors[i], other);
      const cell = el("td", { "data-score": score }, formatNumber(score, 3));
      cell.style.background = divergingCss(score);
      cell.style.color = textOn(score);
      return cell;
    });
    return el("tr", {}, el("th", { scope: "row", title: text }, `${i + 1}. ${shorten(text)}`), ...cells);
  });
  return el(
    "div",
    {},
    el("table", { class: "similarity", "data-testid": "embed-similarity" }, el("caption", { class: "hint" }, "cosine of the mean vectors"), header, ...rows),
    legend(1, "cosine:"),
  );
}

/** Wires the Embedding panel; `start(info)` runs the example once the server is known. */
export function embeddingPanel() {
  const form = byId("embed-form");
  const input = byId("embed-input");
  const error = document.querySelector('[data-testid="embed-error"]');
  const result = byId("embed-result");
  const which = byId("embed-which");
  const heatmapSlot = byId("embed-heatmap-slot");
  const pooledSlot = byId("embed-pooled-slot");
  const similarityBox = byId("embed-similarity-box");
  const similaritySlot = byId("embed-similarity-slot");
  let rows = [];
  let pooledVectors = [];

  const showText = (index) => {
    const { tokens, embedding } = rows[index];
    const labels = tokens ?? embedding.map((_, r) => `#${r}`);
    heatmapSlot.replaceChildren(heatmap({ rows: embedding, labels, name: `token rows of text ${index + 1}`, testid: "embed-heatmap" }));
    pooledSlot.replaceChildren(heatmap({ rows: [pooledVectors[index]], labels: ["mean"], name: `pooled vector of text ${index + 1}`, testid: "embed-pooled" }));
  };
  which.addEventListener("change", () => showText(Number(which.value)));

  const run = handleSubmit(form, async () => {
    const texts = input.value.split("\n").map((line) => line.trim()).filter(Boolean);
    try {
      const [tokenRows, pooled] = await Promise.all([
        post("/embed", { inputs: texts, pooling: "none" }),
        post("/embed", { inputs: texts, pooling: "mean" }),
      ]);
      showError(error, null);
      rows = tokenRows.data;
      pooledVectors = pooled.data.map((item) => item.embedding);
      which.replaceChildren(...texts.map((text, i) => el("option", { value: i }, `${i + 1}. ${shorten(text)}`)));
      which.disabled = texts.length < 2;
      showText(0);
      similarityBox.hidden = texts.length < 2;
      similaritySlot.replaceChildren(texts.length < 2 ? "" : similarityTable(texts, pooledVectors));
      result.hidden = false;
    } catch (failure) {
      showError(error, failure);
      result.hidden = true;
    }
  });
  return { needs: "model", start: run };
}
