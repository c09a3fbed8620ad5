// The failover lab (sandbox mode, admin key): inject a fault into an emulator through
// `POST /sandbox/_faults`, send a request, and see the attempts the gateway made around it.

import { api, request } from "./api.js";
import { timeline } from "./attempts.js";
import { $, badge, h, option, replace } from "./dom.js";
import { money, ms, percent } from "./format.js";
import { remember } from "./journal.js";
import { loadModels, multiProvider } from "./models.js";
import { imageSources } from "./result.js";

// The emulators' fault modes (mediarouter.sandbox.faults.MODES; a test keeps the two in step).
export const MODES = {
  error: "Answer with an HTTP error in the provider's own error format.",
  timeout: "Never answer: the gateway gives up after its attempt timeout.",
  reset: "Start a response, then drop the connection mid-body.",
  malformed: "Answer 200 with a body that is not valid JSON.",
  empty: "Answer 200 in the provider's success shape, with no image.",
  content_policy: "Refuse the prompt the way the provider's safety system does (not retried elsewhere).",
  slow: "Answer normally, after the delay below.",
  job_failed: "Accept the job, then report it failed.",
  job_stuck: "Accept the job, then never finish it.",
};
export const JOB_PROVIDERS = ["alibaba", "fal", "fireworks", "replicate", "runware"];
const JOB_MODES = new Set(["job_failed", "job_stuck"]);

const form = () => $("#fault-form");
// `touched`: the user chose the fault's provider; until then it follows the test model.
const state = { providers: [], ready: false, models: [], touched: false };

function describeFault(f) {
  const bits = [f.mode + (f.status ? ` ${f.status}` : ""), f.model ? `model ${f.model}` : "every model"];
  if (f.rate < 1) bits.push(`${percent(f.rate)} of calls`);
  if (f.count !== null && f.count !== undefined) bits.push(`${f.count} more`);
  if (f.latency_ms) bits.push(`+${ms(f.latency_ms)}`);
  return bits.join(" · ");
}

function syncModeFields() {
  const mode = $("#fault-mode").value;
  $("#fault-status-field").hidden = mode !== "error";
  $("#fault-latency-field").hidden = !["slow", "error", "empty", "malformed", "content_policy"].includes(mode);
  $("#fault-mode-hint").textContent = MODES[mode] || "";
  if (mode === "slow" && Number($("#fault-latency").value) <= 0) $("#fault-latency").value = "1500";
}

function fillModes() {
  const job = JOB_PROVIDERS.includes($("#fault-provider").value);
  const current = $("#fault-mode").value || "error";
  replace($("#fault-mode"), Object.keys(MODES).filter((m) => job || !JOB_MODES.has(m)).map((m) => option(m, m.replace("_", " "), m === current)));
  syncModeFields();
}

function fillFaultModels() {
  const provider = state.providers.find((p) => p.id === $("#fault-provider").value);
  replace($("#fault-model"), option("", "Every model"),
    (provider ? provider.models : []).map((m) => option(m.provider_model_id, `${m.model} (${m.provider_model_id})`)));
}

function faultBody() {
  const data = Object.fromEntries(new FormData(form()));
  const body = { provider: data.provider, mode: data.mode, rate: Math.min(100, Math.max(0, Number(data.rate || 100))) / 100 };
  if (data.model) body.model = data.model;
  if (data.mode === "error" && data.status) body.status = Number(data.status);
  if (!$("#fault-latency-field").hidden && Number(data.latency_ms) > 0) body.latency_ms = Number(data.latency_ms);
  return body;
}

function inject(event, onChange) {
  event.preventDefault();
  return change(() => api("/sandbox/_faults", { method: "POST", json: faultBody() }), onChange);
}

/** Run a fault-book change, showing what went wrong under the form. */
async function change(action, onChange) {
  $("#fault-error").textContent = "";
  try {
    await action();
  } catch (err) {
    $("#fault-error").textContent = err.message;
  }
  await onChange();
}

/** The API clears faults all at once; removing one is clearing and setting the others again. */
function removeFault(fault, faults, onChange) {
  return change(async () => {
    await api("/sandbox/_faults", { method: "DELETE" });
    for (const other of faults.filter((f) => f !== fault)) {
      const body = Object.fromEntries(Object.entries(other).filter(([, v]) => v !== null));
      await api("/sandbox/_faults", { method: "POST", json: body });
    }
  }, onChange);
}

function fillFirst() {
  const model = state.models.find((m) => m.id === $("#probe-model").value);
  const fault = $("#fault-provider").value;
  const serves = model && model.providers.some((p) => p.provider === fault);
  replace($("#probe-first"), option("", "Whichever routing picks"),
    (model ? model.providers : []).map((p) => option(p.provider, p.provider_name, serves && p.provider === fault)));
}

async function probe(event, onChange) {
  event.preventDefault();
  const model = $("#probe-model").value;
  const first = $("#probe-first").value;
  const out = $("#probe-result");
  const started = performance.now();
  replace(out, h("div", { class: "progress" }, h("span", { class: "progress__spinner", "aria-hidden": "true" }), h("span", {}, `Sending to ${model}…`)));
  $("#probe").disabled = true;
  const body = { model, prompt: "failover test: a lighthouse in a storm", size: "1:1" };
  if (first) body.provider = { order: [first] };
  try {
    const { data } = await request("/v1/images/generations", { method: "POST", json: body });
    const meta = data.metadata;
    const failed = meta.attempts.filter((a) => a.status === "failed").length;
    replace(out, h("div", { class: "probe-result__row" },
      h("img", { class: "thumb", src: imageSources(data)[0], alt: `Test image from ${meta.provider_name}` }),
      h("div", {}, h("p", {}, h("strong", {}, `Served by ${meta.provider_name}`), " in ", ms(performance.now() - started), " for ", money(meta.cost)),
        failed ? badge(`Failed over after ${failed} failed attempt${failed > 1 ? "s" : ""}`, "warn") : badge("No failover needed", "ok"))),
    timeline(meta.attempts));
    remember({ id: data.id, prompt: body.prompt, requested: body, images: data.data.map((d) => d.url).filter(Boolean), response: { ...data, data: undefined } });
  } catch (err) {
    replace(out, h("p", { class: "error-message" }, h("strong", {}, err.code), ": ", err.message), timeline(err.attempts, { failed: true }));
  } finally {
    $("#probe").disabled = false;
    await onChange();
  }
}

async function setup(onChange) {
  state.models = multiProvider(await loadModels());
  replace($("#probe-model"), state.models.map((m) => option(m.id, `${m.name} · ${m.providers.map((p) => p.provider).join(", ")}`, m.id === "flux.1-schnell")));
  $("#fault-provider").addEventListener("change", () => { state.touched = true; fillModes(); fillFaultModels(); fillFirst(); });
  $("#fault-mode").addEventListener("change", syncModeFields);
  $("#probe-model").addEventListener("change", () => {
    aimAtModel();
    fillFirst();
  });
  form().addEventListener("submit", (e) => inject(e, onChange));
  $("#clear-faults").addEventListener("click", () => change(() => api("/sandbox/_faults", { method: "DELETE" }), onChange));
  $("#probe-form").addEventListener("submit", (e) => probe(e, onChange));
  aimAtModel();
  fillFirst();
}

/** Until the user picks a provider for the fault, offer one that serves the test model. */
function aimAtModel() {
  const model = state.models.find((m) => m.id === $("#probe-model").value);
  if (!state.ready || state.touched || !model) return;
  $("#fault-provider").value = model.providers[0].provider;
  fillModes();
  fillFaultModels();
  fillFirst();
}

export function startLab({ onChange }) {
  $("#lab").hidden = false;
  setup(onChange);
  return {
    update(providers, snapshot) {
      if (!state.ready && providers.length) {
        state.providers = providers;
        state.ready = true;
        replace($("#fault-provider"), providers.map((p) => option(p.id, p.name)));
        fillModes();
        fillFaultModels();
        aimAtModel();
      }
      const faults = (snapshot && snapshot.faults) || [];
      replace($("#fault-list"), faults.length
        ? faults.map((f) => h("li", { dataset: { provider: f.provider } }, h("span", {}, h("strong", {}, f.provider), " · ", describeFault(f)),
            h("button", { type: "button", class: "button button--small", onclick: () => removeFault(f, faults, onChange) },
              "Remove", h("span", { class: "visually-hidden" }, ` the ${f.mode} fault on ${f.provider}`))))
        : h("li", { class: "empty-item" }, "No faults: every emulator behaves."));
    },
  };
}
