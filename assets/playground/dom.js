// Small DOM helpers shared by the panels: building elements, showing errors, reading inputs.

const SVG_NS = "http://www.w3.org/2000/svg";

function build(node, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

/** An HTML element with attributes and children (strings become text, never markup). */
export function el(tag, attributes = {}, ...children) {
  return build(document.createElement(tag), attributes, children);
}

/** An SVG element with attributes and children. */
export function svgEl(tag, attributes = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attributes, children);
}

/** The element with `id`; a missing one is a bug in the page, so it throws. */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node;
}

/** Shows `error` (an ApiError: the API's message, then its type and status) in `node`;
 * `null` hides it. */
export function showError(node, error) {
  node.replaceChildren();
  node.hidden = !error;
  if (!error) return;
  node.append(el("span", { class: "error-message" }, error.message));
  if (error.type) {
    const status = error.status ? `, HTTP ${error.status}` : "";
    node.append(el("span", { class: "error-kind" }, ` (${error.type}${status})`));
  }
}

/** Words typed in a box, split on commas and whitespace. */
export function splitWords(text) {
  return text.split(/[\s,]+/).filter(Boolean);
}

/** The integer in a number box, or `fallback` when it is empty (range checks are the API's). */
export function readInteger(input, fallback) {
  const value = input.value.trim();
  return value === "" ? fallback : Number(value);
}

/** A fixed-decimals number; non-finite values (a zero vector's cosine) as a dash. */
export function formatNumber(value, digits = 4) {
  return Number.isFinite(value) ? value.toFixed(digits) : "–";
}

/** Runs `work` for a form's submit unless the form is already busy; marks it busy meanwhile.
 * Buttons stay enabled so keyboard focus is never lost. */
export function handleSubmit(form, work) {
  const run = async () => {
    if (form.getAttribute("aria-busy") === "true") return;
    form.setAttribute("aria-busy", "true");
    try {
      await work();
    } finally {
      form.removeAttribute("aria-busy");
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  for (const area of form.querySelectorAll("textarea")) {
    area.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        run();
      }
    });
  }
  return run;
}
