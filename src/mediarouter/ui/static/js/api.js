// The console's only way to the gateway: the public HTTP API, with the key from this tab's session.

const KEY_ITEM = "mediarouter.key";
let unauthorized = () => {};

export function storedKey() {
  return sessionStorage.getItem(KEY_ITEM);
}

export function storeKey(key) {
  sessionStorage.setItem(KEY_ITEM, key);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_ITEM);
}

/** Called when the API answers 401 (a revoked or wrong key), so the page can ask for a key again. */
export function onUnauthorized(handler) {
  unauthorized = handler;
}

export class ApiError extends Error {
  constructor(status, body, headers) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || (status === 0 ? "NETWORK_ERROR" : "HTTP_ERROR");
    this.param = error.param || null;
    this.attempts = error.attempts || [];
    this.requestId = error.request_id || (headers && headers.get("x-mediarouter-request-id")) || null;
  }
}

/** One API call: `{data, headers, status}`; throws ApiError for any non-2xx answer. */
export async function request(path, { method = "GET", json, form, signal, key } = {}) {
  const headers = { Authorization: `Bearer ${key ?? storedKey() ?? ""}` };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // multipart: the browser writes the boundary
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, signal, cache: "no-store" });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, { error: { message: `Could not reach the gateway (${err.message})` } });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: { message: text.slice(0, 300) } };
  }
  if (!response.ok) {
    if (response.status === 401 && key === undefined) unauthorized();
    throw new ApiError(response.status, data, response.headers);
  }
  return { data, headers: response.headers, status: response.status };
}

export async function api(path, options) {
  return (await request(path, options)).data;
}

/** `path` with the query parameters that have a value. */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") query.set(name, value);
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** The path and query of a URL the API handed back (e.g. `next_page_url`), for a same-origin fetch. */
export function localPath(url) {
  const parsed = new URL(url, location.origin);
  return parsed.pathname + parsed.search;
}
