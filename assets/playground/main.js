// Starts the page: asks /info what the server serves, marks the panels it cannot serve, asks for
// an API key when the API wants one, then runs each panel's example.

import { apiKey, forgetApiKey, get, onUnauthorized, setApiKey } from "./api.js";
import { byId, showError } from "./dom.js";
import { embeddingPanel } from "./embedding.js";
import { mapPanel } from "./map.js";
import { neighboursPanel } from "./neighbours.js";
import { tokensPanel } from "./tokens.js";

const UNAVAILABLE = {
  model: "This server was started without a model (model_dir is empty), so there is nothing to tokenize or embed.",
  word2vec: "This server was started without a word2vec store (word2vec is empty), so there are no word neighbours to show.",
};

const panels = [tokensPanel(), embeddingPanel(), neighboursPanel(), mapPanel()];
const modelInfo = byId("model-info");
const keyPanel = byId("key-panel");
const keyReason = byId("key-reason");
const keyForm = byId("key-form");
const keyInput = byId("key-input");

function askForKey(error) {
  keyPanel.hidden = false;
  showError(keyReason, error);
}

onUnauthorized(askForKey);

keyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const key = keyInput.value.trim();
  if (!key) return;
  setApiKey(key);
  keyInput.value = "";
  start();
});

byId("key-forget").addEventListener("click", () => {
  forgetApiKey();
  showError(keyReason, null);
  keyInput.focus();
});

/** Shows which resource each panel needs when the server lacks it, and disables its forms. */
function markAvailability(info) {
  const present = { model: Boolean(info.model), word2vec: Boolean(info.word2vec) };
  for (const node of document.querySelectorAll("[data-needs]")) {
    const available = present[node.dataset.needs];
    if (node.classList.contains("unavailable")) {
      node.hidden = available;
      node.textContent = available ? "" : UNAVAILABLE[node.dataset.needs];
    } else {
      for (const control of node.querySelectorAll("input, textarea, select, button")) control.disabled = !available;
    }
  }
  return present;
}

function describe(info) {
  const parts = [];
  if (info.model) {
    const kind = info.model.kind === "transformer" ? "input embeddings" : `static embeddings (${info.model.kind})`;
    parts.push(`model ${info.model.name}: ${kind}, ${info.model.rows} × ${info.model.hidden_size} ${info.model.dtype}`);
  }
  if (info.word2vec) parts.push(`word2vec: ${info.word2vec.words} words × ${info.word2vec.dimension}`);
  modelInfo.textContent = parts.length ? `Serving ${parts.join("; ")}.` : "This server has neither a model nor a word2vec store.";
}

async function start() {
  let info;
  try {
    info = await get("/info");
  } catch (failure) {
    modelInfo.textContent = `The server did not describe itself: ${failure.message}`;
    return;
  }
  showError(keyReason, null);
  keyPanel.hidden = !apiKey();
  describe(info);
  const present = markAvailability(info);
  await Promise.all(panels.filter((panel) => present[panel.needs]).map((panel) => panel.start()));
  document.body.dataset.ready = "true";
}

start();
