// A key's limits in words, and the dialog that changes them (`PATCH /v1/keys/{id}`; empty clears).

import { api } from "./api.js";
import { $, h, option } from "./dom.js";
import { money } from "./format.js";

const PERIODS = { day: "per day", month: "per month", total: "in total" };

export function limitsText(limits = {}) {
  const parts = [];
  if (limits.rpm) parts.push(`${limits.rpm} req/min`);
  if (limits.max_concurrency) parts.push(`${limits.max_concurrency} at once`);
  if (limits.budget_usd) parts.push(`${money(limits.budget_usd)} ${PERIODS[limits.budget_period] || ""}`.trim());
  return parts.length ? parts.join(" · ") : "No limits";
}

function number(id, label, value, attrs = {}) {
  return h("div", { class: "field" }, h("label", { for: id }, label),
    h("input", { id, name: id.replace("limit-", ""), type: "number", value: value ?? "", ...attrs }));
}

/** Open a modal form for `key`'s limits; `done` runs after a successful save. */
export function editLimits(key, done) {
  const limits = key.limits || {};
  const error = h("p", { class: "form-error", role: "alert" });
  const form = h("form", { class: "gate__form", method: "dialog" },
    h("h2", { id: "limits-title" }, `Limits for "${key.name}"`),
    h("p", { class: "muted" }, "Leave a field empty for no limit. Requests over a limit get 429; over the budget, 402."),
    h("div", { class: "grid-2" },
      number("limit-rpm", "Requests per minute", limits.rpm, { min: 1, inputmode: "numeric" }),
      number("limit-max_concurrency", "Concurrent requests", limits.max_concurrency, { min: 1, inputmode: "numeric" }),
      number("limit-budget_usd", "Budget (USD)", limits.budget_usd, { min: 0, step: "0.01", inputmode: "decimal" }),
      h("div", { class: "field" }, h("label", { for: "limit-budget_period" }, "Budget period"),
        h("select", { id: "limit-budget_period", name: "budget_period" },
          Object.entries(PERIODS).map(([v, label]) => option(v, label, v === (limits.budget_period || "month")))))),
    error,
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "button button--primary" }, "Save limits"),
      h("button", { type: "button", class: "button", onclick: () => dialog.close() }, "Cancel")));
  const dialog = h("dialog", { class: "gate", "aria-labelledby": "limits-title" }, form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    const body = {
      rpm: data.rpm ? Number(data.rpm) : null,
      max_concurrency: data.max_concurrency ? Number(data.max_concurrency) : null,
      budget_usd: data.budget_usd ? Number(data.budget_usd) : null,
      budget_period: data.budget_usd ? data.budget_period : null,
    };
    try {
      await api(`/v1/keys/${encodeURIComponent(key.id)}`, { method: "PATCH", json: body });
      dialog.close();
      await done();
    } catch (err) {
      error.textContent = err.message;
    }
  });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  $("#limit-rpm", dialog).focus();
}
