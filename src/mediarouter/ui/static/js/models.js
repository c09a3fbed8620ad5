// The model catalog as this gateway serves it (`GET /v1/models`, `?schema=true` per model).

import { api } from "./api.js";
import { providerNames } from "./attempts.js";
import { h, option } from "./dom.js";
import { money } from "./format.js";

let listing = null;
const schemas = new Map();

export async function loadModels() {
  listing ??= api("/v1/models").then((body) => {
    for (const model of body.data) for (const p of model.providers) providerNames[p.provider] = p.provider_name;
    return body.data.filter((m) => m.modality === "image");
  });
  return listing;
}

export async function loadSchema(id) {
  if (!schemas.has(id)) schemas.set(id, api(`/v1/models/${encodeURIComponent(id)}?schema=true`));
  return schemas.get(id);
}

/** Models grouped by maker, as `<optgroup>`s; `filter` narrows them (e.g. to those that can edit). */
export function modelOptions(models, selected, filter = () => true) {
  const groups = new Map();
  for (const model of models.filter(filter)) {
    if (!groups.has(model.owned_by)) groups.set(model.owned_by, []);
    groups.get(model.owned_by).push(model);
  }
  return [...groups].map(([owner, items]) =>
    h("optgroup", { label: owner }, items.map((m) => option(m.id, `${m.name} (${m.id})`, m.id === selected))),
  );
}

/** A provider's price in words: "$0.003 / image", "$5 in + $32 out / 1M tokens". */
export function priceText(price) {
  if (!price) return "";
  if (price.per === "token" || (!price.usd && (price.input_per_million || price.output_per_million))) {
    return `${money(price.input_per_million)} in + ${money(price.output_per_million)} out / 1M tokens`;
  }
  return `${money(price.usd)} / ${String(price.per || "image").replace(/_/g, " ")}`;
}

/** "Automatic" plus every provider serving the model; values are "" or a provider slug. */
export function providerOptions(model, selected = "") {
  const items = [option("", "Automatic: route and fail over", selected === "")];
  for (const p of model ? model.providers : []) {
    items.push(option(p.provider, `${p.provider_name} only (${priceText(p.price)})`, p.provider === selected));
  }
  return items;
}

/** The `model` field of a request: `provider/model` forces a provider. */
export function modelField(modelId, provider) {
  return provider ? `${provider}/${modelId}` : modelId;
}

/** Models that at least two providers serve: the ones failover can be watched on. */
export function multiProvider(models) {
  return models.filter((m) => m.providers.length > 1 && m.capabilities.modes.includes("generate"));
}
