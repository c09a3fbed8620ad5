// Compare: one prompt sent to two to four models or providers at once, results side by side.

import { request } from "./api.js";
import { timeline } from "./attempts.js";
import { $, $$, badge, chip, h, replace } from "./dom.js";
import { money, ms, ratioOf } from "./format.js";
import { remember } from "./journal.js";
import { loadModels, modelField, modelOptions, providerOptions } from "./models.js";
import { imageSources, sizeMapping } from "./result.js";
import { run, startSession } from "./session.js";

const MIN_LANES = 2;
const MAX_LANES = 4;
let models = [];
let laneCount = 0;

/** Two lanes that answer "which is best for this": the same model from two providers, then another model. */
function defaults() {
  const shared = models.find((m) => m.id === "flux.1-schnell" && m.providers.length > 1)
    || models.find((m) => m.providers.length > 1 && m.capabilities.modes.includes("generate"));
  const other = models.find((m) => m.id === "gpt-image-1-mini") || models.find((m) => m !== shared);
  if (shared) return [[shared.id, shared.providers[0].provider], [shared.id, shared.providers[1].provider], [other.id, ""]];
  return [[models[0].id, ""], [(models[1] || models[0]).id, ""]];
}

function addLane(modelId, provider = "") {
  if ($$(".lane").length >= MAX_LANES) return;
  const n = ++laneCount;
  const model = models.find((m) => m.id === modelId) || models[0];
  const modelSelect = h("select", { id: `lane-${n}-model`, class: "lane-model" },
    modelOptions(models, model.id, (m) => m.capabilities.modes.includes("generate")));
  const providerSelect = h("select", { id: `lane-${n}-provider`, class: "lane-provider" }, providerOptions(model, provider));
  modelSelect.addEventListener("change", () => {
    replace(providerSelect, providerOptions(models.find((m) => m.id === modelSelect.value)));
  });
  const lane = h("section", { class: "panel lane", "aria-label": `Column ${n}` },
    h("div", { class: "lane__head" }, h("h2", { class: "lane__title" }, `Column ${n}`),
      h("button", { type: "button", class: "button button--ghost button--small lane-remove", "aria-label": `Remove column ${n}`,
        onclick: () => removeLane(lane) }, "Remove")),
    h("div", { class: "lane__picks" },
      h("div", { class: "field" }, h("label", { for: modelSelect.id }, "Model"), modelSelect),
      h("div", { class: "field" }, h("label", { for: providerSelect.id }, "Provider"), providerSelect)),
    h("div", { class: "lane__frame", style: { "--ratio": String(ratioOf($("#compare-shape").value) || 1) } },
      h("p", { class: "placeholder" }, "The image appears here.")),
    h("div", { class: "lane__badges" }),
    h("div", { class: "lane__stats" }),
    h("div", { class: "lane__attempts" }));
  $("#lanes").append(lane);
  layout();
}

function removeLane(lane) {
  if ($$(".lane").length <= MIN_LANES) return;
  lane.remove();
  layout();
  $(".lane select")?.focus();
}

function layout() {
  const count = $$(".lane").length;
  $("#lanes").style.setProperty("--lanes", String(count));
  $("#add-lane").disabled = count >= MAX_LANES;
  for (const button of $$(".lane-remove")) button.hidden = count <= MIN_LANES;
}

async function runLane(lane, prompt, shape) {
  const modelId = $(".lane-model", lane).value;
  const provider = $(".lane-provider", lane).value;
  const frame = $(".lane__frame", lane);
  const timer = h("span", { class: "lane__timer" }, "0.0 s");
  frame.style.setProperty("--ratio", String(ratioOf(shape) || 1));
  replace(frame, h("div", { class: "skeleton", style: { position: "absolute", inset: "0", "--ratio": "auto" } }), timer);
  replace($(".lane__badges", lane));
  replace($(".lane__stats", lane));
  replace($(".lane__attempts", lane));
  lane.classList.remove("lane--winner-cost", "lane--winner-time");
  lane.setAttribute("aria-busy", "true");
  const started = performance.now();
  const tick = setInterval(() => { timer.textContent = `${((performance.now() - started) / 1000).toFixed(1)} s`; }, 100);
  const body = { model: modelField(modelId, provider), prompt, size: shape };
  try {
    const { data } = await request("/v1/images/generations", { method: "POST", json: body });
    const elapsed = performance.now() - started;
    const meta = data.metadata || {};
    const [src] = imageSources(data);
    replace(frame, h("img", { src, alt: `${modelId} from ${meta.provider_name}: ${prompt}` }));
    replace($(".lane__badges", lane), badge(meta.provider_name || meta.provider, "accent"),
      (meta.attempts || []).some((a) => a.status === "failed") ? badge("failed over", "warn") : null);
    replace($(".lane__stats", lane),
      chip("Cost", money(meta.cost), { class: "chip--cost" }),
      chip("Time", ms(elapsed), { class: "chip--time" }),
      chip("Size", sizeMapping(data)));
    replace($(".lane__attempts", lane), timeline(meta.attempts || []));
    remember({ id: data.id, prompt, requested: body, images: data.data.map((d) => d.url).filter(Boolean), response: { ...data, data: undefined }, elapsed });
    return { lane, cost: meta.cost, elapsed };
  } catch (err) {
    replace(frame, h("p", { class: "placeholder" }, "No image"));
    replace($(".lane__badges", lane), badge(err.code, "bad"));
    replace($(".lane__stats", lane), h("p", { class: "error-message" }, err.message));
    replace($(".lane__attempts", lane), err.attempts.length ? timeline(err.attempts, { failed: true }) : "");
    return null;
  } finally {
    clearInterval(tick);
    lane.removeAttribute("aria-busy");
  }
}

function crown(results) {
  const done = results.filter(Boolean);
  if (done.length < 2) return;
  const cheapest = done.reduce((a, b) => (b.cost < a.cost ? b : a));
  const fastest = done.reduce((a, b) => (b.elapsed < a.elapsed ? b : a));
  cheapest.lane.classList.add("lane--winner-cost");
  fastest.lane.classList.add("lane--winner-time");
  $(".lane__badges", cheapest.lane).append(badge("Cheapest", "ok"));
  $(".lane__badges", fastest.lane).append(badge("Fastest", "ok"));
}

async function compareAll(event) {
  event.preventDefault();
  const prompt = $("#compare-prompt").value.trim();
  $("#compare-error").textContent = prompt ? "" : "Write a prompt first.";
  if (!prompt) return $("#compare-prompt").focus();
  $("#run-compare").disabled = true;
  const shape = $("#compare-shape").value;
  try {
    crown(await Promise.all($$(".lane").map((lane) => runLane(lane, prompt, shape))));
  } finally {
    $("#run-compare").disabled = false;
  }
}

async function main() {
  await startSession();
  models = (await loadModels()).filter((m) => m.capabilities.modes.includes("generate"));
  for (const [id, provider] of defaults()) addLane(id, provider);
  $("#add-lane").addEventListener("click", () => addLane(models[0].id));
  $("#compare-form").addEventListener("submit", compareAll);
  $("#compare-shape").addEventListener("change", () => {
    for (const frame of $$(".lane__frame")) frame.style.setProperty("--ratio", String(ratioOf($("#compare-shape").value) || 1));
  });
}

run(main);
