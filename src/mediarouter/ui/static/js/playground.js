// Playground: one request at a time, built from the chosen model's schema.

import { request } from "./api.js";
import { $, badge, chip, h, replace } from "./dom.js";
import { money } from "./format.js";
import { recall, recent, remember } from "./journal.js";
import { loadModels, loadSchema, modelField, modelOptions, priceText, providerOptions } from "./models.js";
import { readParams, renderExtras, renderFormats, renderShape, requestedRatio } from "./params.js";
import { estimate, failure, imageSources, progress, success } from "./result.js";
import { run, startSession } from "./session.js";

const PREFERRED = ["gpt-image-1-mini", "flux.1-schnell", "gpt-image-1.5"];
const form = $("#play-form");
const state = { models: [], model: null, schema: null, running: null };

const mode = () => form.elements.mode.value;
const supports = (model, m) => model.capabilities.modes.includes(m) || (m === "edit" && model.capabilities.modes.includes("upscale"));

function modelInfo(model) {
  const prices = model.providers.map((p) => `${p.provider_name}: ${priceText(p.price)}`).join(" · ");
  return [
    model.description ? h("p", {}, model.description) : null,
    h("div", { class: "chips" },
      badge(`${model.providers.length} provider${model.providers.length > 1 ? "s" : ""}`, model.providers.length > 1 ? "ok" : ""),
      model.capabilities.modes.map((m) => badge(m, "info")),
      model.capabilities.mask ? badge("mask", "info") : null),
    h("p", {}, prices),
  ];
}

async function chooseModel(id) {
  const model = state.models.find((m) => m.id === id) || state.models[0];
  state.model = model;
  $("#model").value = model.id;
  replace($("#model-info"), modelInfo(model));
  replace($("#provider"), providerOptions(model));
  const schema = await loadSchema(model.id);
  if (state.model !== model) return; // another model was chosen meanwhile
  state.schema = schema.schema;
  renderShape($("#shape-fields"), state.schema);
  renderExtras($("#extra-fields"), state.schema);
  renderFormats($("#output_format"), $("#format-hint"), state.schema);
  const n = state.schema.parameters.n;
  $("#n").max = n.maximum;
  $("#n-hint").textContent = n.native_maximum >= n.maximum
    ? `Up to ${n.maximum} per request.`
    : `Up to ${n.native_maximum} per call natively; more are made in parallel.`;
  $("#mask-field").hidden = !state.schema.parameters.mask;
  $("#mode-edit").disabled = !state.models.some((m) => supports(m, "edit"));
  sessionStorage.setItem("mediarouter.playground.model", model.id);
}

function fillModels(preferred) {
  const wanted = mode();
  replace($("#model"), modelOptions(state.models, preferred, (m) => supports(m, wanted)));
  const still = state.models.find((m) => m.id === preferred && supports(m, wanted));
  const first = state.models.find((m) => supports(m, wanted));
  return chooseModel(still ? still.id : first && first.id);
}

function showThumbs() {
  const files = [...$("#images").files];
  $("#images-text").textContent = files.length
    ? `${files.length} image${files.length > 1 ? "s" : ""} chosen`
    : "Choose images to edit (PNG, JPEG, WebP)";
  replace($("#image-thumbs"), files.map((f) => h("li", {}, h("img", { src: URL.createObjectURL(f), alt: f.name }))));
}

function fields() {
  const body = { model: modelField(state.model.id, $("#provider").value), prompt: $("#prompt").value.trim() };
  const n = Number($("#n").value || 1);
  if (n !== 1) body.n = n;
  if ($("#output_format").value) body.output_format = $("#output_format").value;
  Object.assign(body, readParams($("#shape-fields")), readParams($("#extra-fields")));
  return body;
}

function validate(body) {
  if (!body.prompt) return ["Write a prompt first.", $("#prompt")];
  if (mode() === "edit" && !$("#images").files.length) return ["Choose at least one image to edit.", $("#images")];
  const n = Number($("#n").value);
  if (!Number.isInteger(n) || n < 1 || n > Number($("#n").max)) return [`n must be between 1 and ${$("#n").max}.`, $("#n")];
  return null;
}

function payload(body) {
  if (mode() !== "edit") return { json: body };
  const data = new FormData();
  for (const [name, value] of Object.entries(body)) data.append(name, String(value));
  for (const file of $("#images").files) data.append("image[]", file, file.name);
  if ($("#mask").files[0]) data.append("mask", $("#mask").files[0], $("#mask").files[0].name);
  return { form: data };
}

async function send(event, dryRun = false) {
  event.preventDefault();
  const body = fields();
  const problem = validate(body);
  $("#form-error").textContent = problem ? problem[0] : "";
  if (problem) return problem[1].focus();
  state.running?.abort();
  const controller = new AbortController();
  state.running = controller;
  const path = `/v1/images/${mode() === "edit" ? "edits" : "generations"}${dryRun ? "?dryRun=true" : ""}`;
  const waiting = progress({ n: dryRun ? 0 : body.n || 1, ratio: requestedRatio(body),
    label: dryRun ? "Estimating" : mode() === "edit" ? "Editing" : "Generating", onCancel: () => controller.abort() });
  replace($("#result"), waiting.node);
  if (innerWidth <= 860) $("#result").scrollIntoView({ behavior: "smooth", block: "start" }); // below the form
  $("#status").textContent = dryRun ? "Estimating…" : "Request sent; waiting for the provider.";
  $("#generate").disabled = true;
  try {
    const { data } = await request(path, { method: "POST", ...payload(body), signal: controller.signal });
    const elapsed = waiting.elapsed();
    if (dryRun) {
      replace($("#result"), estimate(data));
      $("#status").textContent = `Estimate: ${money(data.total_cost)} with ${data.provider}.`;
      return;
    }
    replace($("#result"), success(data, { elapsed, prompt: body.prompt }));
    const meta = data.metadata || {};
    $("#status").textContent = `Done: ${imageSources(data).length} image(s) from ${meta.provider_name} for ${money(meta.cost)}.`;
    keep(data, body, elapsed);
  } catch (err) {
    if (err.name === "AbortError") {
      replace($("#result"), h("p", { class: "panel muted" }, "Cancelled. The gateway stops its provider calls when the browser hangs up."));
      $("#status").textContent = "Cancelled.";
      return;
    }
    replace($("#result"), failure(err, { elapsed: waiting.elapsed() }));
    $("#status").textContent = `Failed: ${err.message}`;
    remember({ id: err.requestId, prompt: body.prompt, requested: body, error: err.code });
  } finally {
    waiting.stop();
    $("#generate").disabled = false;
    if (state.running === controller) state.running = null;
  }
}

function keep(data, body, elapsed) {
  const urls = (data.data || []).map((d) => d.url).filter(Boolean); // base64 images are not kept
  const { data: _images, ...rest } = data;
  remember({ id: data.id, prompt: body.prompt, requested: body, images: urls, response: rest, elapsed });
  showHistory();
}

function showHistory() {
  const items = recent();
  $("#history-section").hidden = !items.length;
  replace($("#history"), items.map((entry) => h("li", {},
    h("button", { type: "button", title: entry.prompt, onclick: () => reopen(entry.id) },
      h("img", { src: entry.images[0], alt: `Earlier result: ${entry.prompt}` })))));
}

function reopen(id) {
  const entry = recall(id);
  if (!entry) return;
  const body = { ...entry.response, data: entry.images.map((url) => ({ url })) };
  replace($("#result"), success(body, { elapsed: entry.elapsed, prompt: entry.prompt }));
  $("#prompt").value = entry.prompt;
}

async function main() {
  await startSession();
  replace($("#result"), h("div", { class: "empty" }, h("p", {}, "Loading models…")));
  state.models = await loadModels();
  const saved = new URLSearchParams(location.search).get("model") || sessionStorage.getItem("mediarouter.playground.model");
  const preferred = [saved, ...PREFERRED].find((id) => state.models.some((m) => m.id === id));
  replace($("#result"), h("div", { class: "empty" },
    h("img", { src: "/ui/static/icon.svg", alt: "", width: 56, height: 56 }),
    h("p", {}, "Your images appear here, with the provider that made them, what they cost and every attempt on the way."),
    h("div", { class: "chips" }, chip("Models", String(state.models.length)),
      chip("Providers", String(new Set(state.models.flatMap((m) => m.providers.map((p) => p.provider))).size)))));
  $("#model").addEventListener("change", (e) => chooseModel(e.target.value));
  form.addEventListener("change", (e) => {
    if (e.target.name !== "mode") return;
    $("#edit-fields").hidden = mode() !== "edit";
    $("#generate").textContent = mode() === "edit" ? "Edit" : "Generate";
    fillModels(state.model && state.model.id);
  });
  $("#images").addEventListener("change", showThumbs);
  form.addEventListener("submit", (e) => send(e));
  $("#estimate").addEventListener("click", (e) => send(e, true));
  $("#prompt").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) form.requestSubmit();
  });
  await fillModels(preferred);
  showHistory();
}

run(main);
