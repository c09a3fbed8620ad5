// Providers: `GET /v1/providers` every two seconds, one card per provider with its models' health.

import { api } from "./api.js";
import { $, badge, chip, h, replace } from "./dom.js";
import { ms, percent } from "./format.js";
import { startLab } from "./lab.js";
import { loadModels } from "./models.js";
import { run, startSession } from "./session.js";

const EVERY_MS = 2000;
const STATUS = {
  healthy: ["Healthy", "ok"],
  degraded: ["Degraded", "warn"],
  probing: ["Probing (half-open)", "info"],
  open_breaker: ["Breaker open", "bad"],
};
const BREAKER = { closed: ["closed", "ok"], half_open: ["half-open", "info"], open: ["open", "bad"] };
const state = { timer: null, last: "", faults: null, lab: null, open: new Set() };

function totals(models) {
  const seen = models.filter((m) => m.samples > 0);
  const samples = seen.reduce((s, m) => s + m.samples, 0);
  if (!samples) return { samples: 0, success: null, p50: null, p95: null };
  const weighted = (field) => seen.filter((m) => m[field] !== null).reduce((s, m) => s + m[field] * m.samples, 0) / samples;
  return {
    samples,
    success: weighted("success_rate"),
    p50: weighted("p50_ms"),
    p95: Math.max(...seen.map((m) => m.p95_ms || 0)),
  };
}

function rate(value) {
  if (value === null || value === undefined) return h("span", { class: "muted" }, "—");
  const tone = value < 0.5 ? " rate--low" : value < 0.9 ? " rate--mid" : "";
  return h("span", { class: `rate${tone}` },
    h("span", { class: "rate__track", "aria-hidden": "true" }, h("span", { class: "rate__fill", style: { width: `${value * 100}%` } })),
    percent(value));
}

function faultLine(provider) {
  const faults = (state.faults?.faults || []).filter((f) => f.provider === provider.id);
  const calls = state.faults?.requests?.[provider.id];
  if (!faults.length && !calls) return null;
  return h("p", { class: "provider__fault" },
    faults.map((f) => badge(`Fault: ${f.mode}${f.status ? ` ${f.status}` : ""}${f.model ? ` on ${f.model}` : ""}${f.rate < 1 ? ` (${percent(f.rate)})` : ""}`, "bad")),
    calls ? h("span", { class: "muted" }, ` ${calls} emulator call${calls === 1 ? "" : "s"}`) : null);
}

function card(provider) {
  const [label, tone] = STATUS[provider.status] || [provider.status, ""];
  const sum = totals(provider.models);
  const faulty = (state.faults?.faults || []).some((f) => f.provider === provider.id);
  const models = [...provider.models].sort((a, b) => b.samples - a.samples || a.model.localeCompare(b.model));
  const details = h("details", { open: state.open.has(provider.id) },
    h("summary", { id: `models-${provider.id}` }, `${provider.models.length} model${provider.models.length === 1 ? "" : "s"}`),
    h("div", { class: "table-wrap" }, h("table", { class: "table" },
      h("caption", { class: "visually-hidden" }, `${provider.name}: health per model`),
      h("thead", {}, h("tr", {}, ["Model", "Breaker", "Success", "p50", "p95", "Calls"].map((t, i) =>
        h("th", { scope: "col", class: i > 2 ? "num" : null }, t)))),
      h("tbody", {}, models.map((m) => {
        const [bLabel, bTone] = BREAKER[m.breaker] || [m.breaker, ""];
        return h("tr", {},
          h("td", {}, m.model, h("span", { class: "cell-sub cell-sub--mono" }, m.provider_model_id)),
          h("td", {}, badge(bLabel, bTone)),
          h("td", {}, rate(m.success_rate)),
          h("td", { class: "num" }, ms(m.p50_ms)),
          h("td", { class: "num" }, ms(m.p95_ms)),
          h("td", { class: "num" }, String(m.samples)));
      })))));
  details.addEventListener("toggle", () => (details.open ? state.open.add(provider.id) : state.open.delete(provider.id)));
  return h("article", { class: `panel provider provider--${provider.status}${faulty ? " provider--faulty" : ""}`,
    "aria-labelledby": `name-${provider.id}`, dataset: { provider: provider.id, status: provider.status } },
    h("div", { class: "provider__head" },
      h("div", {}, h("h2", { class: "provider__name", id: `name-${provider.id}` }, provider.name),
        h("span", { class: "provider__slug" }, provider.id)),
      h("div", { class: "chips" }, badge(label, tone),
        provider.status_page ? h("a", { href: provider.status_page, class: "small", target: "_blank", rel: "noopener noreferrer" },
          "Status page", h("span", { class: "visually-hidden" }, ` of ${provider.name}`)) : null)),
    h("div", { class: "provider__stats" },
      chip("Calls", String(sum.samples)), chip("Success", percent(sum.success)),
      chip("p50", ms(sum.p50)), chip("p95", ms(sum.p95))),
    faultLine(provider),
    details);
}

async function refresh() {
  const [providers, faults] = await Promise.all([
    api("/v1/providers"),
    state.lab ? api("/sandbox/_faults").catch(() => null) : null,
  ]);
  const snapshot = JSON.stringify([providers, faults]);
  const now = new Date().toLocaleTimeString();
  $("#live-text").textContent = `Updated ${now}`;
  if (snapshot === state.last) return providers;
  state.last = snapshot;
  state.faults = faults;
  const focused = document.activeElement && document.activeElement.id;
  replace($("#provider-grid"), providers.data.map(card));
  if (focused && $("#provider-grid").contains(document.getElementById(focused))) document.getElementById(focused).focus();
  state.lab?.update(providers.data, faults);
  return providers;
}

function live(on) {
  clearInterval(state.timer);
  $("#live-status").classList.toggle("is-paused", !on);
  if (!on) {
    $("#live-text").textContent = "Paused";
    return;
  }
  state.timer = setInterval(() => { if (!document.hidden) refresh().catch((e) => { $("#live-text").textContent = e.message; }); }, EVERY_MS);
}

async function main() {
  const session = await startSession();
  await loadModels();
  const refreshShowingErrors = () => refresh().catch((err) => { $("#live-text").textContent = err.message; });
  if (session.sandbox && session.isAdmin) state.lab = startLab({ onChange: refreshShowingErrors });
  else if (session.sandbox) {
    $("#lab-note").hidden = false;
    $("#lab-note").textContent = "Sandbox mode: sign in with an admin key to inject faults and watch failover.";
  }
  const providers = await refresh();
  state.lab?.update(providers.data, state.faults);
  $("#live").addEventListener("change", (e) => live(e.target.checked));
  live(true);
}

run(main);
