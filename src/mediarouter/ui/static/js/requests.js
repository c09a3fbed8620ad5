// Requests: the log (`GET /v1/requests`, filters and cursor pages) and one request's detail.

import { api, localPath, withQuery } from "./api.js";
import { dots, providerNames, timeline } from "./attempts.js";
import { $, badge, h, option, replace, shapeIcon } from "./dom.js";
import { ago, bytes, clock, money, ms, ratioOf, STATUS_LABELS, STATUS_TONES, when } from "./format.js";
import { recall } from "./journal.js";
import { loadModels } from "./models.js";
import { gallery } from "./result.js";
import { run, startSession } from "./session.js";

const PAGE = 25;
const filters = $("#filters");
const state = { path: null, rows: [], selected: null, live: null, session: null };

function filterValues() {
  const values = Object.fromEntries(new FormData(filters));
  const query = { status: values.status, model: values.model, key_id: values.key_id };
  const range = values.range;
  if (range === "custom") {
    if (values.created_after) query.created_after = new Date(values.created_after).toISOString();
    if (values.created_before) query.created_before = new Date(values.created_before).toISOString();
  } else if (range) {
    query.created_after = String(Math.floor(Date.now() / 1000 - Number(range)));
  }
  if (values.provider) query.provider = values.provider;
  return query;
}

/** Every filter is the API's: the provider matches the one that served a request or any attempt. */
async function load(path = null) {
  state.path = path || withQuery("/v1/requests", { ...filterValues(), limit: PAGE });
  const body = await api(state.path);
  state.rows = body.data;
  renderRows();
  $("#log-summary").textContent = body.data.length
    ? `${state.rows.length} request${state.rows.length === 1 ? "" : "s"} on this page${body.has_more ? ", more on older pages" : ""}`
    : "No requests match these filters yet.";
  const older = $("#older");
  const newer = $("#newer");
  older.disabled = !body.next_page_url;
  newer.disabled = !body.previous_page_url;
  older.onclick = () => load(localPath(body.next_page_url));
  newer.onclick = () => load(localPath(body.previous_page_url));
}

/** A dry run is logged as a completed request that called no provider and made no image. */
export const isDryRun = (row) => row.status === "completed" && !row.attempts.length && !row.image_count;

function statusCell(row) {
  if (isDryRun(row)) return badge("Estimate", "info", "A dry run (?dryRun=true): no provider was called");
  return badge(STATUS_LABELS[row.status] || row.status, STATUS_TONES[row.status]);
}

function renderRows() {
  const rows = state.rows.map((row) => {
    const created = new Date(row.created_at);
    const select = () => showDetail(row.id, true);
    return h("tr", { dataset: { id: row.id }, "aria-current": row.id === state.selected ? "true" : null, onclick: select },
      h("td", {}, h("a", { class: "row-link", href: `?id=${encodeURIComponent(row.id)}`, title: when(created),
        onclick: (e) => { e.preventDefault(); select(); } }, clock(created)),
        h("span", { class: "cell-sub" }, ago(created))),
      h("td", {}, statusCell(row),
        row.status !== "completed" && row.error_code ? h("span", { class: "cell-sub cell-sub--mono" }, row.error_code) : null),
      h("td", { class: "cell-model" }, row.model || "—",
        h("span", { class: "cell-sub" }, row.provider ? `via ${providerNames[row.provider] || row.provider}` : "no provider")),
      h("td", {}, dots(row.attempts)),
      h("td", { class: "num" }, money(row.cost), h("span", { class: "cell-sub" }, ms(row.duration_ms))),
      h("td", { class: "key-col" }, row.key_id ? h("span", { class: "key-name", title: row.key_id }, keyName(row.key_id)) : "—"));
  });
  replace($("#log-rows"), rows.length ? rows : h("tr", {}, h("td", { colspan: 6, class: "muted" }, "Nothing here yet: generate something in the Playground.")));
}

function keyName(id) {
  const key = (state.session.keys || []).find((k) => k.id === id);
  return key ? key.name : id === "admin" ? "admin" : id;
}

function kv(pairs) {
  return h("dl", { class: "kv" }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "").map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

/** What was asked, from the log's own params (any client), else from this tab's journal. */
function askedSize(row, seen) {
  const params = row.params || {};
  const requested = (seen && seen.requested) || {};
  return params.size || params.aspect_ratio || params.resolution
    || requested.size || requested.aspect_ratio || requested.resolution || null;
}

function sizes(row, seen) {
  const used = row.image_sizes[0];
  const asked = askedSize(row, seen);
  if (!used) return asked ? `${asked} asked` : null;
  const served = h("span", { class: "mapping" }, shapeIcon(ratioOf(used) || 1, 14), row.image_sizes.join(", "));
  if (!asked || asked === used) return served;
  return h("span", { class: "mapping" }, `${asked}`, h("span", { "aria-label": "mapped to" }, "→"), served);
}

/** The gateway's own changes to the request (params.applied): ignored fields, format conversion. */
function applied(row) {
  const done = (row.params && row.params.applied) || {};
  const conversion = done.format_conversion;
  return [
    ["Ignored parameters", done.ignored_params && done.ignored_params.length ? done.ignored_params.join(", ") : null],
    ["Format converted", conversion ? `${conversion.from} → ${conversion.to}` : null],
  ];
}

function detail(row) {
  const seen = recall(row.id);
  const created = new Date(row.created_at);
  const prompt = row.prompt || (seen && seen.prompt);
  return [
    h("div", { class: "detail__hero" },
      statusCell(row),
      badge(`HTTP ${row.http_status}`),
      h("code", {}, row.id)),
    row.error_message ? h("p", { class: "error-message" }, h("strong", {}, row.error_code || "Error"), ": ", row.error_message) : null,
    seen && seen.images && seen.images.length ? gallery(seen.images, prompt) : null,
    kv([
      ["When", `${when(created)} (${ago(created)})`],
      ["Endpoint", h("code", {}, row.endpoint)],
      ["Model asked", row.model],
      ["Executed as", row.executed_model ? h("code", {}, row.executed_model) : null],
      ["Provider", row.provider],
      ["Cost", money(row.cost)],
      ["Total time", ms(row.duration_ms)],
      ["Gateway overhead", ms(row.overhead_ms)],
      ["Images", String(row.image_count)],
      ["Size", sizes(row, seen)],
      ...applied(row),
      ["Key", row.key_id ? [keyName(row.key_id), " ", h("code", {}, row.key_id)] : null],
      ["End user", row.user],
      ["Trace id", row.trace_id ? h("code", {}, row.trace_id) : null],
      ["Bytes in / out", `${bytes(row.request_size_bytes)} / ${bytes(row.response_size_bytes)}`],
    ]),
    h("h3", {}, "Attempts"),
    isDryRun(row) ? h("p", { class: "muted small" }, "A dry run: the gateway estimated the cost and called no provider.") : timeline(row.attempts, { failed: row.status !== "completed" }),
    prompt ? [h("h3", {}, "Prompt"), h("p", { class: "prompt-box" }, prompt)] : null,
    h("details", { class: "more" }, h("summary", {}, "Raw log entry"), h("pre", { class: "prompt-box mono" }, JSON.stringify(row, null, 2))),
  ];
}

async function showDetail(id, focus = false) {
  state.selected = id;
  for (const tr of $("#log-rows").children) {
    if (tr.dataset.id === id) tr.setAttribute("aria-current", "true");
    else tr.removeAttribute("aria-current");
  }
  history.replaceState(null, "", withQuery(location.pathname, { id }));
  const body = $("#detail-body");
  replace(body, h("p", { class: "muted" }, "Loading…"));
  try {
    replace(body, detail(await api(`/v1/requests/${encodeURIComponent(id)}`)));
  } catch (err) {
    replace(body, h("p", { class: "error-message" }, err.message));
  }
  if (focus) $("#detail").focus({ preventScroll: innerWidth > 1080 });
  if (focus && innerWidth <= 1080) $("#detail").scrollIntoView({ behavior: "smooth" });
}

function setLive(on) {
  clearInterval(state.live);
  // Only the newest page follows the log; an older page stays put while it is being read.
  state.live = on ? setInterval(() => { if (!document.hidden && $("#newer").disabled) load(); }, 3000) : null;
}

async function fillFilters(session) {
  const models = await loadModels();
  $("#f-model").append(...models.map((m) => option(m.id, m.id)));
  const providers = [...new Set(models.flatMap((m) => m.providers.map((p) => p.provider)))].sort();
  $("#f-provider").append(...providers.map((p) => option(p, p)));
  if (session.isAdmin && session.keys) {
    $("#f-key-field").hidden = false;
    $("#f-key").append(option("admin", "admin (configured key)"), ...session.keys.map((k) => option(k.id, `${k.name} (${k.id})`)));
  }
  const params = new URLSearchParams(location.search);
  for (const name of ["status", "model", "provider", "key_id"]) {
    if (params.get(name) && filters.elements[name]) filters.elements[name].value = params.get(name);
  }
}

async function main() {
  state.session = await startSession();
  filters.addEventListener("change", (e) => {
    if (e.target.id === "live") return setLive(e.target.checked);
    if (e.target.id === "f-range") for (const f of document.querySelectorAll("[data-custom-range]")) f.hidden = e.target.value !== "custom";
    load();
  });
  filters.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  $("#refresh").addEventListener("click", () => load(state.path));
  await fillFilters(state.session);
  await load();
  // A deep link opens its request; otherwise the newest one, so the page shows what it is for.
  const newest = state.rows.find((row) => !isDryRun(row)) || state.rows[0];
  const id = new URLSearchParams(location.search).get("id") || (newest && newest.id);
  if (id) await showDetail(id);
}

run(main);
