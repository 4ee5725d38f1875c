// The one way the page talks to the server: the public API, with the session's key if any.
// Every failure becomes an ApiError carrying the API's own message and `type`.

const KEY_STORAGE = "embedserve.apiKey";

/** An API error: the server's `{"error": {message, type, param, code}}`, or a network failure. */
export class ApiError extends Error {
  constructor(status, type, message, param) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.type = type;
    this.param = param ?? null;
  }
}

const unauthorizedListeners = [];

/** Calls `listener(error)` whenever the API refuses a call for want of a valid key. */
export function onUnauthorized(listener) {
  unauthorizedListeners.push(listener);
}

/** The key of this browser session (sessionStorage only: gone when the tab closes). */
export function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

/** Keeps `key` for this session. */
export function setApiKey(key) {
  sessionStorage.setItem(KEY_STORAGE, key);
}

/** Drops the session's key. */
export function forgetApiKey() {
  sessionStorage.removeItem(KEY_STORAGE);
}

async function call(path, method, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const key = apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (failure) {
    throw new ApiError(0, "network_error", `The server did not answer (${failure.message}).`);
  }
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON: reported below with the start of the body.
  }
  if (response.ok && json !== null) return json;
  const detail = json && json.error;
  const error = detail
    ? new ApiError(response.status, detail.type, detail.message, detail.param)
    : new ApiError(response.status, "http_error", `HTTP ${response.status}: ${text.slice(0, 200)}`);
  if (response.status === 401) unauthorizedListeners.forEach((listener) => listener(error));
  throw error;
}

/** `GET path?params`; list values are sent comma-joined, as the API reads them. */
export function get(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    query.set(name, Array.isArray(value) ? value.join(",") : String(value));
  }
  const suffix = query.toString();
  return call(suffix ? `${path}?${suffix}` : path, "GET");
}

/** `POST path` with a JSON body. */
export function post(path, body) {
  return call(path, "POST", body);
}
