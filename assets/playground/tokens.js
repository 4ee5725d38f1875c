// The Tokens panel: a text's tokens as coloured chips in order (POST /tokenize), each with its
// id; its vocabulary piece and character offsets on hover or focus; token and character counts.

import { post } from "./api.js";
import { byId, el, handleSubmit, showError } from "./dom.js";

/** Whitespace made visible, so a lone space token is not an empty chip. */
const visible = (text) => text.replace(/ /g, "␣").replace(/\n/g, "⏎").replace(/\t/g, "⇥");

function chip(token, position) {
  const shown = token.text === "" ? token.token : token.text;
  const details = [
    `id ${token.id}`,
    `piece ${JSON.stringify(token.token)}`,
    `characters ${token.start}–${token.end}`,
    token.special ? "special token" : null,
  ].filter(Boolean).join(" · ");
  return el(
    "li",
    {
      class: `chip c${position % 6}${token.special ? " special" : ""}`,
      tabindex: 0,
      "data-testid": "token-chip",
      "data-id": token.id,
      "data-token": token.token,
      "data-text": token.text,
      "data-start": token.start,
      "data-end": token.end,
    },
    el("span", { class: "chip-text" }, visible(shown)),
    el("span", { class: "chip-id" }, String(token.id)),
    el("span", { class: "chip-details" }, details),
  );
}

/** Wires the Tokens panel; `start(info)` tokenizes the example once the server is known. */
export function tokensPanel() {
  const form = byId("tokenize-form");
  const input = byId("tokenize-input");
  const special = byId("tokenize-special");
  const chips = byId("tokenize-chips");
  const counts = byId("tokenize-counts");
  const error = document.querySelector('[data-testid="tokenize-error"]');

  const run = handleSubmit(form, async () => {
    const text = input.value;
    try {
      const answer = await post("/tokenize", { inputs: text, add_special_tokens: special.checked });
      const { tokens } = answer.data[0];
      showError(error, null);
      const characters = [...text].length;
      counts.textContent = `${tokens.length} token${tokens.length === 1 ? "" : "s"} · ${characters} character${characters === 1 ? "" : "s"}`;
      chips.replaceChildren(...tokens.map(chip));
    } catch (failure) {
      showError(error, failure);
      counts.textContent = "";
      chips.replaceChildren();
    }
  });
  special.addEventListener("change", run);
  return { needs: "model", start: run };
}
