// Form controls from a model's schema (`GET /v1/models/{id}?schema=true`), and the request fields
// they add up to. Only parameters the schema lists are offered, so nothing is silently ignored.

import { $, h, option, replace, shapeIcon } from "./dom.js";
import { ratioOf } from "./format.js";

// Parameters with controls of their own elsewhere on the form.
const HANDLED = new Set(["prompt", "n", "output_format", "image", "mask", "size", "aspect_ratio", "resolution"]);
const LABELS = {
  quality: "Quality", background: "Background", moderation: "Moderation", style: "Style",
  input_fidelity: "Input fidelity", scale_factor: "Scale factor", response_format: "Response format",
  output_compression: "Compression (0–100)", user: "End-user id",
};

function labelOf(name) {
  return LABELS[name] || name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

function sizeLabel(value) {
  if (value === "auto") return "Auto (the model decides)";
  const ratio = ratioOf(value);
  if (!ratio) return value;
  const shape = ratio > 1.05 ? "landscape" : ratio < 0.95 ? "portrait" : "square";
  return `${value.replace("x", " × ")} · ${shape}`;
}

function enumField(name, descriptor, { withDefault = true, labeller = (v) => v } = {}) {
  const id = `p-${name}`;
  const select = h("select", { id, name, dataset: { param: name } },
    withDefault ? option("", "Default") : null,
    descriptor.values.map((v) => option(v, labeller(v), !withDefault && v === descriptor.default)));
  return h("div", { class: "field" }, h("label", { for: id }, labelOf(name)), select);
}

/** Size, aspect ratio and resolution controls, with a custom size box where any WxH is accepted. */
export function renderShape(container, schema) {
  const params = schema.parameters;
  const fields = [];
  if (params.size && params.size.values) { // a list of its own; sizes mapped onto aspect ratios have none
    const select = h("select", { id: "p-size", name: "size", dataset: { param: "size" }, "aria-describedby": "size-hint" },
      params.size.values.map((v) => option(v, sizeLabel(v), v === params.size.default)),
      option("custom", "Custom…"));
    const custom = h("input", { id: "p-size-custom", type: "text", placeholder: "e.g. 1200x800 or 4:3", hidden: true,
      "aria-label": "Custom size (width x height, or W:H)", spellcheck: "false" });
    select.addEventListener("change", () => {
      custom.hidden = select.value !== "custom";
      if (!custom.hidden) custom.focus();
    });
    custom.addEventListener("input", () => container.dispatchEvent(new Event("shapechange", { bubbles: true })));
    fields.push(h("div", { class: "field" }, h("label", { for: "p-size" }, "Size"), select, custom,
      h("p", { class: "hint", id: "size-hint" }, "Other sizes are mapped to the closest the model supports.")));
  }
  if (params.aspect_ratio && params.aspect_ratio.values) fields.push(enumField("aspect_ratio", params.aspect_ratio, { labeller: (v) => v }));
  if (params.resolution) fields.push(enumField("resolution", params.resolution));
  for (const f of fields) f.addEventListener("change", () => container.dispatchEvent(new Event("shapechange", { bubbles: true })));
  replace(container, fields);
}

/** Every other enum the model accepts, plus the response format, compression and end-user id. */
export function renderExtras(container, schema) {
  const params = schema.parameters;
  const fields = [];
  for (const [name, descriptor] of Object.entries(params)) {
    if (HANDLED.has(name) || name === "response_format") continue;
    if (descriptor.type === "enum") fields.push(enumField(name, descriptor));
  }
  if (params.response_format) {
    fields.push(enumField("response_format", params.response_format, {
      labeller: (v) => (v === "url" ? "URL (served by the gateway)" : "Base64 in the response"),
    }));
  }
  if (params.output_compression) {
    fields.push(h("div", { class: "field" }, h("label", { for: "p-output_compression" }, labelOf("output_compression")),
      h("input", { id: "p-output_compression", type: "number", min: 0, max: 100, inputmode: "numeric",
        dataset: { param: "output_compression", type: "integer" } })));
  }
  if (params.user) {
    fields.push(h("div", { class: "field" }, h("label", { for: "p-user" }, labelOf("user")),
      h("input", { id: "p-user", type: "text", autocomplete: "off", dataset: { param: "user" } })));
  }
  replace(container, fields);
}

/** The output format select: native formats first; the others are converted by the gateway. */
export function renderFormats(select, hint, schema) {
  const formats = schema.parameters.output_format;
  const native = new Set(formats.native || []);
  replace(select, option("", "Default"),
    formats.values.map((v) => option(v, native.has(v) ? v.toUpperCase() : `${v.toUpperCase()} (converted)`)));
  hint.textContent = native.size ? `Native: ${[...native].join(", ")}.` : "";
}

/** The request fields the controls under `root` hold (empty ones left out). */
export function readParams(root) {
  const fields = {};
  for (const control of root.querySelectorAll("[data-param]")) {
    let value = control.value.trim();
    if (!value) continue;
    if (control.dataset.param === "size" && value === "custom") {
      value = $("#p-size-custom", root)?.value.trim() || "";
      if (!value) continue;
    }
    fields[control.dataset.param] = control.dataset.type === "integer" ? Number(value) : value;
  }
  return fields;
}

/** Width / height of what was asked for, for placeholders while waiting. */
export function requestedRatio(fields) {
  return ratioOf(fields.size) || ratioOf(fields.aspect_ratio) || 1;
}

export { shapeIcon };
