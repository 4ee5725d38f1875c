// The Neighbours panel: a word's most_similar as a bar chart (GET /similar), a trail of the words
// explored by picking a bar, an analogy builder (positive and negative words) and doesnt_match.

import { get } from "./api.js";
import { byId, el, formatNumber, handleSubmit, readInteger, showError, splitWords } from "./dom.js";

/** Bars of `neighbours` (`{word, score}`, best first); picking one calls `explore(word)`. */
function bars(list, neighbours, testid, explore) {
  list.replaceChildren(
    ...neighbours.map(({ word, score }) => {
      const fill = el("span", { class: "bar-fill" });
      // Cosine runs from -1 to 1; the bar shows the positive part, the number the exact value.
      fill.style.width = `${Math.max(0, Math.min(1, score)) * 100}%`;
      const button = el(
        "button",
        { type: "button", class: "bar", "data-testid": testid, "data-word": word, "data-score": score, title: `Explore “${word}”` },
        el("span", { class: "bar-word" }, word),
        el("span", { class: "bar-track", "aria-hidden": "true" }, fill),
        el("span", { class: "bar-score" }, formatNumber(score)),
      );
      button.addEventListener("click", () => explore(word));
      return el("li", {}, button);
    }),
  );
}

/** Wires the Neighbours panel; `start(info)` runs the examples once the server is known. */
export function neighboursPanel() {
  const similarForm = byId("similar-form");
  const word = byId("similar-input");
  const topn = byId("similar-topn");
  const trail = byId("similar-trail");
  const similarBars = byId("similar-bars");
  const similarError = document.querySelector('[data-testid="similar-error"]');
  let explored = [];

  const renderTrail = () => {
    trail.replaceChildren(
      ...explored.map((step, i) => {
        const current = i === explored.length - 1;
        const button = el("button", { type: "button", class: "secondary", "aria-current": current ? "step" : false }, step);
        button.addEventListener("click", () => {
          explored = explored.slice(0, i);
          word.value = step;
          searchWord();
        });
        return el("li", {}, button);
      }),
    );
  };

  const searchWord = handleSubmit(similarForm, async () => {
    const query = word.value.trim();
    try {
      const answer = await get("/similar", { word: query, topn: readInteger(topn, 10) });
      showError(similarError, null);
      if (explored[explored.length - 1] !== query) explored.push(query);
      renderTrail();
      bars(similarBars, answer.data, "similar-bar", explore);
    } catch (failure) {
      showError(similarError, failure);
      similarBars.replaceChildren();
    }
  });

  function explore(next) {
    word.value = next;
    word.scrollIntoView({ block: "nearest" });
    return searchWord();
  }

  const analogyForm = byId("analogy-form");
  const positive = byId("analogy-positive");
  const negative = byId("analogy-negative");
  const analogyBars = byId("analogy-bars");
  const analogyError = document.querySelector('[data-testid="analogy-error"]');
  const solve = handleSubmit(analogyForm, async () => {
    try {
      const answer = await get("/similar", {
        positive: splitWords(positive.value),
        negative: splitWords(negative.value),
        topn: 5,
      });
      showError(analogyError, null);
      bars(analogyBars, answer.data, "analogy-bar", explore);
    } catch (failure) {
      showError(analogyError, failure);
      analogyBars.replaceChildren();
    }
  });

  const oddForm = byId("doesnt-match-form");
  const oddInput = byId("doesnt-match-input");
  const oddResult = byId("doesnt-match-result");
  const oddError = document.querySelector('[data-testid="doesnt-match-error"]');
  const findOdd = handleSubmit(oddForm, async () => {
    try {
      const answer = await get("/doesnt_match", { words: splitWords(oddInput.value) });
      showError(oddError, null);
      oddResult.replaceChildren("The odd one out: ", el("strong", {}, answer.data[0].word));
    } catch (failure) {
      showError(oddError, failure);
      oddResult.replaceChildren();
    }
  });

  return { needs: "word2vec", start: () => Promise.all([searchWord(), solve(), findOdd()]) };
}
