// Attempts as a timeline: one row per provider call, in order, with a bar placed where it ran
// (bars start where the previous attempt ended; hedged or cancelled attempts share the time).
// A failed attempt is marked three ways: a cross, a hatched red bar and the word "failed".

import { h } from "./dom.js";
import { money, ms } from "./format.js";

const MARKS = { success: "✓", failed: "✕", cancelled: "–" };
const VERDICTS = {
  next: "moved on to the next provider",
  retry: "retried the same provider",
  stop: "stopped here",
};

function describe(attempt) {
  if (attempt.status === "success") return null;
  const parts = [];
  if (attempt.http_status) parts.push(`HTTP ${attempt.http_status}`);
  if (attempt.error_code) parts.push(attempt.error_code);
  const head = parts.join(" · ");
  return [head, attempt.message].filter(Boolean).join(": ");
}

function statusBadge(attempt) {
  if (attempt.status === "success") return h("span", { class: "badge badge--ok" }, "succeeded");
  if (attempt.status === "failed") return h("span", { class: "badge badge--bad" }, "failed");
  return h("span", { class: "badge" }, attempt.status);
}

/** Display names by provider slug, filled in by models.js once the catalog is loaded. */
export const providerNames = {};

/** The timeline element for `attempts` (as in `metadata.attempts`, an error's `attempts`, or a log row). */
export function timeline(attempts, { failed = false } = {}) {
  if (!attempts || !attempts.length) {
    return h("p", { class: "muted small" }, "No provider was called for this request.");
  }
  const total = Math.max(1, attempts.reduce((sum, a) => sum + (a.status === "cancelled" ? 0 : a.latency_ms || 0), 0));
  let start = 0;
  const items = attempts.map((attempt, index) => {
    const width = Math.max(1.5, ((attempt.latency_ms || 0) / total) * 100);
    const left = Math.min(start, 100 - width);
    if (attempt.status !== "cancelled") start += ((attempt.latency_ms || 0) / total) * 100;
    const detail = describe(attempt);
    const last = failed && index === attempts.length - 1;
    let verdict = attempt.status === "failed" && attempt.verdict ? VERDICTS[attempt.verdict] || attempt.verdict : null;
    if (last && attempt.verdict === "next") verdict = "no other provider was left to try";
    return h("li", { class: `attempt attempt--${attempt.status}`, dataset: { provider: attempt.provider, status: attempt.status } },
      h("span", { class: "attempt__marker", "aria-hidden": "true" }, MARKS[attempt.status] || "•"),
      h("div", { class: "attempt__body" },
        h("div", { class: "attempt__head" },
          h("span", { class: "visually-hidden" }, `Attempt ${index + 1}: `),
          h("strong", {}, providerNames[attempt.provider] || attempt.provider),
          h("span", { class: "attempt__model" }, attempt.model),
          statusBadge(attempt),
          attempt.cost ? h("span", { class: "badge badge--accent" }, money(attempt.cost)) : null,
          h("span", { class: "attempt__latency" }, ms(attempt.latency_ms))),
        h("div", { class: "attempt__track", "aria-hidden": "true" },
          h("span", { class: "attempt__bar", style: { left: `${left}%`, width: `${width}%` } })),
        detail || verdict
          ? h("p", { class: "attempt__message" }, detail,
              verdict ? h("span", { class: "attempt__verdict" }, `${detail ? " → " : ""}${verdict}`) : null)
          : null));
  });
  return h("div", { class: "timeline-wrap" },
    h("ol", { class: "timeline", "aria-label": `${attempts.length} attempt${attempts.length > 1 ? "s" : ""}` }, items),
    attempts.length > 1 ? h("div", { class: "timeline-scale", "aria-hidden": "true" }, h("span", {}, "0"), h("span", {}, ms(total))) : null);
}

/** A compact row of dots, one per attempt, for tables; with a text equivalent for screen readers. */
export function dots(attempts) {
  if (!attempts.length) return h("span", { class: "muted", title: "No provider was called" }, "none");
  const failed = attempts.filter((a) => a.status === "failed").length;
  const label = `${attempts.length} attempt${attempts.length === 1 ? "" : "s"}${failed ? `, ${failed} failed` : ""}`;
  return h("span", { class: "dots", role: "img", "aria-label": label, title: label },
    attempts.map((a) => h("span", { class: `dot--${a.status}` })));
}
