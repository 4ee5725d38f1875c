// The Map panel: a word's neighbourhood (GET /similar, then POST /vectors) or a list of words
// (POST /vectors) projected to 2-D by PCA in the page, one labelled point per word; and the
// shown vectors as the two TSV files the Embedding Projector loads.

import { get, post } from "./api.js";
import { byId, el, formatNumber, handleSubmit, readInteger, showError, splitWords, svgEl } from "./dom.js";
import { pca2 } from "./pca.js";

const WIDTH = 640;
const HEIGHT = 420;
const MARGIN = 36;

/** Scales `values` into [low, high]; a single distinct value lands in the middle. */
function scaler(values, low, high) {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min;
  return (value) => (span > 0 ? low + ((value - min) / span) * (high - low) : (low + high) / 2);
}

const LINE = 14;
const CHAR_WIDTH = 7;

/**
 * Label positions for points (`{x, y, word}`), right of each point (left near the right edge),
 * moved a line down or up at a time until clear of the labels already placed: the words of a
 * tight cluster stack instead of printing over each other.
 */
function placeLabels(points) {
  const placed = [];
  return points.map(({ x, y, word }) => {
    const width = word.length * CHAR_WIDTH;
    const end = x > WIDTH - 110;
    const left = end ? x - 10 - width : x + 10;
    let dy = 0;
    for (let step = 1; step < 60; step += 1) {
      const top = y + dy - LINE / 2;
      const clash = placed.some((box) => left < box.right && box.left < left + width && top < box.bottom && box.top < top + LINE);
      if (!clash) break;
      dy = (step % 2 ? 1 : -1) * Math.ceil(step / 2) * LINE;
    }
    placed.push({ left, right: left + width, top: y + dy - LINE / 2, bottom: y + dy + LINE / 2 });
    return { x: end ? x - 10 : x + 10, y: y + dy + 4, anchor: end ? "end" : "start", moved: dy !== 0 };
  });
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/tab-separated-values" }));
  const link = el("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Wires the Map panel; `start(info)` maps the example once the server is known. */
export function mapPanel() {
  const form = byId("map-form");
  const input = byId("map-input");
  const topn = byId("map-topn");
  const error = document.querySelector('[data-testid="map-error"]');
  const figure = byId("map-figure");
  const svg = byId("map-svg");
  const caption = byId("map-caption");
  const vectorsButton = byId("map-download-vectors");
  const metadataButton = byId("map-download-metadata");
  let shown = [];

  const draw = (words, vectors, query) => {
    const { points, explained } = pca2(vectors);
    const x = scaler(points.map((p) => p[0]), MARGIN, WIDTH - MARGIN);
    // SVG's y grows downwards; the second component is drawn upwards.
    const y = scaler(points.map((p) => p[1]), HEIGHT - MARGIN, MARGIN);
    const axes = [
      svgEl("line", { class: "map-axis", x1: MARGIN / 2, y1: HEIGHT - MARGIN / 2, x2: WIDTH - MARGIN / 2, y2: HEIGHT - MARGIN / 2 }),
      svgEl("line", { class: "map-axis", x1: MARGIN / 2, y1: MARGIN / 2, x2: MARGIN / 2, y2: HEIGHT - MARGIN / 2 }),
    ];
    const positions = words.map((word, i) => ({ x: x(points[i][0]), y: y(points[i][1]), word }));
    const labels = placeLabels(positions);
    const marks = words.map((word, i) => {
      const { x: px, y: py } = positions[i];
      const place = labels[i];
      const label = svgEl("text", { x: place.x, y: place.y, "text-anchor": place.anchor }, word);
      // A label moved off its point keeps a thin line back to it.
      const leader = place.moved ? svgEl("line", { class: "map-leader", x1: px, y1: py, x2: place.x, y2: place.y - 4 }) : null;
      const point = svgEl(
        "g",
        {
          class: `point${word === query ? " query" : ""}`,
          "data-testid": "map-point",
          "data-word": word,
          "data-x": points[i][0],
          "data-y": points[i][1],
          tabindex: 0,
          role: "button",
          "aria-label": `${word}: map its neighbours`,
        },
        svgEl("title", {}, `${word} (${formatNumber(points[i][0], 3)}, ${formatNumber(points[i][1], 3)})`),
        leader,
        svgEl("circle", { cx: px, cy: py, r: 5 }),
        label,
      );
      const explore = () => {
        input.value = word;
        run();
      };
      point.addEventListener("click", explore);
      point.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          explore();
        }
      });
      return point;
    });
    svg.replaceChildren(...axes, ...marks);
    const percent = (share) => `${(share * 100).toFixed(1)} %`;
    caption.textContent = `${words.length} words of ${vectors[0].length} dimensions; the horizontal axis explains ${percent(explained[0])} of the variance, the vertical ${percent(explained[1])}.`;
    figure.hidden = false;
  };

  const run = handleSubmit(form, async () => {
    const given = [...new Set(splitWords(input.value))];
    try {
      let words = given;
      let query = null;
      if (given.length === 1) {
        [query] = given;
        const neighbours = await get("/similar", { word: query, topn: readInteger(topn, 20) });
        words = [query, ...neighbours.data.map((item) => item.word)];
      }
      const answer = await post("/vectors", { words });
      showError(error, null);
      shown = answer.data.map((item) => ({ word: item.word, vector: item.embedding }));
      draw(words, shown.map((item) => item.vector), query);
      vectorsButton.disabled = false;
      metadataButton.disabled = false;
    } catch (failure) {
      showError(error, failure);
      shown = [];
      svg.replaceChildren();
      figure.hidden = true;
      vectorsButton.disabled = true;
      metadataButton.disabled = true;
    }
  });

  // The Projector's formats: vectors one per line, values tab-separated; metadata one label per
  // line (a single column has no header).
  vectorsButton.addEventListener("click", () => download("vectors.tsv", shown.map((item) => `${item.vector.join("\t")}\n`).join("")));
  metadataButton.addEventListener("click", () => download("metadata.tsv", shown.map((item) => `${item.word}\n`).join("")));
  return { needs: "word2vec", start: run };
}
