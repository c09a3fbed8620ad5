// A finished image request as people want to see it: the images, who served them, what it cost,
// how long it took, the size actually used, and every attempt. Shared by the Playground, Compare
// and the failover lab.

import { timeline } from "./attempts.js";
import { badge, chip, h, shapeIcon } from "./dom.js";
import { money, ms, ratioOf } from "./format.js";

/** Image sources from a response's `data` (URLs, or base64 turned into data URLs). */
export function imageSources(body) {
  const mime = `image/${body.output_format === "jpg" ? "jpeg" : body.output_format || "png"}`;
  return (body.data || []).map((item) => item.url || (item.b64_json ? `data:${mime};base64,${item.b64_json}` : null)).filter(Boolean);
}

export function sizeMapping(body) {
  const mapping = body.metadata && body.metadata.size_mapping;
  const used = body.size || (mapping && mapping.used);
  if (!used) return "—";
  const ratio = ratioOf(used) || 1;
  if (mapping && mapping.requested && mapping.requested !== used) {
    return h("span", { class: "mapping", title: "The size asked for, and the closest the model supports" },
      mapping.requested, h("span", { "aria-label": "mapped to" }, "→"), shapeIcon(ratio, 14), used);
  }
  return h("span", { class: "mapping" }, shapeIcon(ratio, 14), used);
}

export function gallery(sources, prompt, { format = "png" } = {}) {
  return h("div", { class: `gallery${sources.length === 1 ? " gallery--single" : ""}` },
    sources.map((src, i) => h("figure", { class: "tile" },
      h("img", { src, alt: `Generated image ${i + 1} of ${sources.length}${prompt ? `: ${prompt}` : ""}`, loading: "lazy" }),
      h("figcaption", {}, h("span", {}, `${i + 1} / ${sources.length}`),
        h("span", {}, h("a", { href: src, target: "_blank", rel: "noopener" }, "Open"), " · ",
          h("a", { href: src, download: `mediarouter-${i + 1}.${format}` }, "Download"))))));
}

/** The summary panel for a 200 response; `elapsed` is the time the browser waited. */
export function success(body, { elapsed, prompt } = {}) {
  const meta = body.metadata || {};
  const attempts = meta.attempts || [];
  const failed = attempts.filter((a) => a.status === "failed").length;
  const sources = imageSources(body);
  return h("section", { class: "panel summary", "aria-label": "Result", dataset: { requestId: body.id } },
    h("div", { class: "summary__head" },
      h("div", { class: "summary__title" },
        h("h3", {}, `Served by ${meta.provider_name || meta.provider}`),
        badge(meta.executed_model || meta.model, "accent"),
        failed ? badge(`${failed} failed attempt${failed > 1 ? "s" : ""} before`, "warn") : badge("first try", "ok"),
        meta.format_conversion ? badge(`converted ${meta.format_conversion.from} → ${meta.format_conversion.to}`, "info") : null),
      body.id ? h("a", { class: "button button--small", href: `/ui/requests?id=${encodeURIComponent(body.id)}` }, "Open in request log") : null),
    h("div", { class: "chips" },
      chip("Cost", money(meta.cost), { attrs: { "data-testid": "cost" } }),
      chip("Time", ms(elapsed), { attrs: { "data-testid": "elapsed" } }),
      chip("Size", sizeMapping(body)),
      chip("Images", String(sources.length)),
      chip("Attempts", String(attempts.length))),
    gallery(sources, prompt, { format: body.output_format }),
    h("div", {}, h("h4", { class: "subhead" }, "Attempts"), timeline(attempts)));
}

/** The panel for an API error, with the attempts that were made before it. */
export function failure(err, { elapsed } = {}) {
  return h("section", { class: "panel error-box summary", role: "alert", dataset: { requestId: err.requestId || "" } },
    h("div", { class: "summary__head" },
      h("div", { class: "summary__title" }, h("h3", {}, "The request failed"), badge(err.code, "bad"),
        err.status ? badge(`HTTP ${err.status}`) : null),
      err.requestId ? h("a", { class: "button button--small", href: `/ui/requests?id=${encodeURIComponent(err.requestId)}` }, "Open in request log") : null),
    h("p", { class: "message" }, err.message),
    elapsed !== undefined ? h("p", { class: "muted small" }, `After ${ms(elapsed)}${err.param ? ` · field: ${err.param}` : ""}`) : null,
    err.attempts && err.attempts.length ? h("div", {}, h("h4", { class: "subhead" }, "Attempts"), timeline(err.attempts, { failed: true })) : null);
}

/** A dry run's estimate: who would serve it, what it would cost and which size would be used. */
export function estimate(body) {
  return h("section", { class: "panel estimate", "aria-label": "Estimate" },
    h("div", { class: "summary__title" }, h("h3", {}, "Estimate"), badge("dry run: no provider called", "info")),
    h("div", { class: "chips" },
      chip("Would be served by", body.provider),
      chip("Estimated cost", money(body.total_cost)),
      chip("Size", sizeMapping({ size: body.size, metadata: { size_mapping: body.size_mapping } }))),
    body.components && body.components.length
      ? h("p", { class: "muted small" }, body.components.map((c) =>
          `${c.billable_quantity ?? c.quantity} × ${c.metric} at ${money(c.unit_price)}`).join(" + "))
      : null);
}

/** Progress while waiting: a ticking clock (updated by `tick`) and placeholders in the asked shape. */
export function progress({ n = 1, ratio = 1, label = "Generating", onCancel } = {}) {
  const elapsed = h("span", { class: "progress__elapsed" }, "0.0 s");
  const node = h("div", { class: "summary", "aria-busy": "true" },
    h("div", { class: "progress" },
      h("span", { class: "progress__spinner", "aria-hidden": "true" }),
      h("span", { class: "progress__text" }, `${label}… `, h("span", { class: "muted" }, "elapsed "), elapsed),
      onCancel ? h("button", { type: "button", class: "button button--small", onclick: onCancel }, "Cancel") : null),
    h("div", { class: `gallery${n === 1 ? " gallery--single" : ""}` },
      Array.from({ length: Math.min(n, 10) }, () => h("div", { class: "skeleton", style: { "--ratio": String(ratio) } }))));
  const started = performance.now();
  const timer = setInterval(() => { elapsed.textContent = `${((performance.now() - started) / 1000).toFixed(1)} s`; }, 100);
  return { node, stop: () => clearInterval(timer), elapsed: () => performance.now() - started };
}
