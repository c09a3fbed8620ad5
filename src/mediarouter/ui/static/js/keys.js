// Keys & usage: create, limit and revoke keys (`/v1/keys`, admin), and spend per key per day
// (`GET /v1/usage`; a user key sees its own).

import { api } from "./api.js";
import { legend, PALETTE, stackedBars } from "./chart.js";
import { $, badge, h, replace } from "./dom.js";
import { money, percent } from "./format.js";
import { editLimits, limitsText } from "./limits.js";
import { run, startSession } from "./session.js";

const DAY_MS = 86400000;
const state = { session: null, keys: [], usage: [] };

const isoDay = (date) => date.toISOString().slice(0, 10);

function names() {
  const map = { admin: "admin (configured key)" };
  for (const key of state.keys) map[key.id] = key.name;
  if (!state.session.isAdmin) map[state.session.keyId] = "this key";
  return map;
}

function periodStart(period) {
  const now = new Date();
  if (period === "day") return isoDay(now);
  if (period === "month") return `${isoDay(now).slice(0, 8)}01`;
  return "0000-00-00";
}

function spent(keyId, sinceDay) {
  return state.usage.filter((r) => r.key_id === keyId && r.date >= sinceDay).reduce((s, r) => s + r.cost, 0);
}

function budgetCell(key) {
  const limits = key.limits || {};
  const text = limitsText(limits);
  if (!limits.budget_usd) return text;
  const used = spent(key.id, periodStart(limits.budget_period));
  const share = Math.min(1, used / limits.budget_usd);
  const tone = share >= 1 ? " rate--low" : share >= 0.8 ? " rate--mid" : "";
  return h("div", { class: "budget" }, text, h("span", { class: `rate${tone}`, title: `${money(used)} of ${money(limits.budget_usd)} spent this period` },
    h("span", { class: "rate__track", "aria-hidden": "true" }, h("span", { class: "rate__fill", style: { width: `${share * 100}%` } })),
    `${percent(share)} used`));
}

function renderKeys() {
  const days = Number($("#usage-range").value);
  const since = isoDay(new Date(Date.now() - (days - 1) * DAY_MS));
  const rows = state.keys.map((key) => {
    const usage = state.usage.filter((r) => r.key_id === key.id && r.date >= since);
    const created = new Date(key.created_at * 1000);
    return h("tr", { class: key.revoked ? "revoked" : null, dataset: { keyId: key.id } },
      h("td", {}, h("strong", {}, key.name), key.revoked ? [" ", badge("revoked", "bad")] : null),
      h("td", {}, h("code", {}, key.id)),
      h("td", {}, badge(key.role, key.role === "admin" ? "accent" : "")),
      h("td", {}, created.toLocaleDateString()),
      h("td", { class: "num" }, String(usage.reduce((s, r) => s + r.requests, 0))),
      h("td", { class: "num" }, money(usage.reduce((s, r) => s + r.cost, 0))),
      h("td", {}, budgetCell(key)),
      h("td", { class: "num" }, key.revoked ? null : h("div", { class: "actions" },
        h("button", { type: "button", class: "button button--small", onclick: () => editLimits(key, refresh) },
          "Limits", h("span", { class: "visually-hidden" }, ` of ${key.name}`)),
        h("button", { type: "button", class: "button button--small button--danger", onclick: () => revoke(key) },
          "Revoke", h("span", { class: "visually-hidden" }, ` ${key.name}`)))));
  });
  replace($("#key-rows"), rows.length ? rows : h("tr", {}, h("td", { colspan: 8, class: "muted" }, "No keys yet besides the configured admin key.")));
}

function renderUsage() {
  const days = Number($("#usage-range").value);
  const labels = Array.from({ length: days }, (_, i) => isoDay(new Date(Date.now() - (days - 1 - i) * DAY_MS)));
  const rows = state.usage.filter((r) => r.date >= labels[0]);
  const byName = names();
  const keyIds = [...new Set(rows.map((r) => r.key_id))].sort((a, b) => spentIn(rows, b) - spentIn(rows, a));
  const series = keyIds.map((id, i) => ({
    name: byName[id] || id,
    color: PALETTE[i % PALETTE.length],
    values: labels.map((day) => rows.filter((r) => r.key_id === id && r.date === day).reduce((s, r) => s + r.cost, 0)),
  }));
  const total = rows.reduce((s, r) => s + r.cost, 0);
  const requests = rows.reduce((s, r) => s + r.requests, 0);
  const failed = rows.reduce((s, r) => s + r.failed, 0);
  replace($("#usage-stats"),
    stat("Spend", money(total)), stat("Requests", String(requests)),
    stat("Images", String(rows.reduce((s, r) => s + r.images, 0))), stat("Failed", requests ? percent(failed / requests) : "—"));
  const short = labels.map((d) => new Date(`${d}T00:00:00Z`).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" }));
  replace($("#usage-chart"), rows.length
    ? [stackedBars({ labels: short, series, format: money, tick: dollarsFor, title: `Spend per key per day, last ${days} days`,
        width: $("#usage-chart").clientWidth || 760 }), legend(series)]
    : h("p", { class: "chart-empty" }, "No spend in this period yet."));
  $("#usage-source").textContent = `Per UTC day, from GET /v1/usage${state.session.isAdmin ? " (every key)" : " (this key only)"}.`;
  replace($("#usage-table"), h("table", { class: "table" },
    h("caption", { class: "visually-hidden" }, "Spend per key per day"),
    h("thead", {}, h("tr", {}, ["Day", "Key", "Requests", "Failed", "Images", "Spend"].map((t, i) => h("th", { scope: "col", class: i > 1 ? "num" : null }, t)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, h("td", {}, r.date), h("td", {}, byName[r.key_id] || r.key_id),
      h("td", { class: "num" }, String(r.requests)), h("td", { class: "num" }, String(r.failed)),
      h("td", { class: "num" }, String(r.images)), h("td", { class: "num" }, money(r.cost)))))));
}

/** Axis labels with as many decimals as the grid step needs (at least cents): $0.125, $0.25. */
function dollarsFor(step) {
  let digits = 2;
  while (digits < 6 && Math.abs(Math.round(step * 10 ** digits) - step * 10 ** digits) > 1e-9) digits += 1;
  return (value) => `$${value.toFixed(digits)}`;
}

const spentIn = (rows, id) => rows.filter((r) => r.key_id === id).reduce((s, r) => s + r.cost, 0);
const stat = (label, value) => h("div", { class: "stat" }, h("div", { class: "stat__label" }, label), h("div", { class: "stat__value" }, value));

async function refresh() {
  const [keys, usage] = await Promise.all([
    state.session.isAdmin ? api("/v1/keys") : { data: [] },
    api("/v1/usage"),
  ]);
  state.keys = keys.data;
  state.usage = usage.data;
  if (state.session.isAdmin) renderKeys();
  renderUsage();
}

async function revoke(key) {
  if (!confirm(`Revoke "${key.name}" (${key.id})? Apps using it stop working at once.`)) return;
  try {
    await api(`/v1/keys/${encodeURIComponent(key.id)}`, { method: "DELETE" });
    await refresh();
  } catch (err) {
    $("#key-error").textContent = err.message;
  }
}

function limitsFrom(data) {
  const limits = {};
  for (const name of ["rpm", "max_concurrency"]) if (data[name]) limits[name] = Number(data[name]);
  if (data.budget_usd) {
    limits.budget_usd = Number(data.budget_usd);
    limits.budget_period = data.budget_period;
  }
  return limits;
}

async function create(event) {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(event.target));
  $("#key-error").textContent = data.name.trim() ? "" : "Give the key a name, e.g. the app that will use it.";
  if (!data.name.trim()) return $("#key-name").focus();
  try {
    const key = await api("/v1/keys", { method: "POST", json: { name: data.name.trim(), role: data.role, ...limitsFrom(data) } });
    event.target.reset();
    const box = $("#new-secret");
    const copy = h("button", { type: "button", class: "button button--small" }, "Copy");
    copy.addEventListener("click", async () => {
      await navigator.clipboard?.writeText(key.key).catch(() => {});
      copy.textContent = "Copied";
    });
    replace(box, h("strong", {}, `Key "${key.name}" created. Copy it now: it is shown only once.`),
      h("div", { class: "secret__value" }, h("code", { id: "new-secret-value" }, key.key), copy));
    box.hidden = false;
    box.focus();
    await refresh();
  } catch (err) {
    $("#key-error").textContent = err.message;
  }
}

async function main() {
  state.session = await startSession();
  $("#keys-admin").hidden = !state.session.isAdmin;
  $("#keys-user-note").hidden = state.session.isAdmin;
  $("#key-form").addEventListener("submit", create);
  $("#usage-range").addEventListener("change", () => { if (state.session.isAdmin) renderKeys(); renderUsage(); });
  await refresh();
  let resizing = null;
  addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(renderUsage, 150);
  });
}

run(main);
