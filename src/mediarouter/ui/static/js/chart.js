// A stacked bar chart in plain SVG: one bar per day, one colour per series (a key).

import { h } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";
// Distinguishable in both themes, and against each other for the common kinds of colour blindness.
export const PALETTE = ["#6366f1", "#f59e0b", "#10b981", "#ec4899", "#0ea5e9", "#a855f7", "#84cc16", "#f97316"];

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  for (const child of children.flat(Infinity)) if (child) node.append(child);
  return node;
}

function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((s) => s * power >= value);
  return step * power;
}

/**
 * `labels`: one per bar; `series`: [{name, color, values}] with one value per label.
 * `format` renders tooltip values; `tick(step)` returns the axis formatter for a grid step; `width` is the space it gets, in CSS pixels, so text
 * keeps its size. Returns an <svg> with a <title> per segment.
 */
export function stackedBars({ labels, series, format = String, tick = null, title = "Chart", width = 760 }) {
  const height = Math.round(Math.min(300, Math.max(200, width * 0.36)));
  const pad = { top: 12, right: 8, bottom: 30, left: 64 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const totals = labels.map((_, i) => series.reduce((s, item) => s + item.values[i], 0));
  const max = niceMax(Math.max(0, ...totals));
  const y = (v) => pad.top + plotH - (v / max) * plotH;
  const slot = plotW / labels.length;
  const barW = Math.max(3, Math.min(42, slot * 0.66));
  const label = tick ? tick(max / 4) : format;
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => svg("g", {},
    svg("line", { x1: pad.left, x2: width - pad.right, y1: y(max * f), y2: y(max * f) }),
    svg("text", { x: pad.left - 8, y: y(max * f) + 4, "text-anchor": "end" }, document.createTextNode(label(max * f)))));
  const every = Math.ceil(labels.length / Math.max(2, Math.floor(plotW / 70)));
  const ticks = labels.map((label, i) => (i % every === 0 || i === labels.length - 1)
    ? svg("text", { x: pad.left + slot * i + slot / 2, y: height - 10, "text-anchor": "middle" }, document.createTextNode(label))
    : null);
  const bars = labels.map((label, i) => {
    let base = 0;
    return series.map((item) => {
      const value = item.values[i];
      if (!value) return null;
      const top = y(base + value);
      const rect = svg("rect", { class: "bar", x: pad.left + slot * i + (slot - barW) / 2, y: top, width: barW,
        height: Math.max(1, y(base) - top), fill: item.color, rx: 2 },
        svg("title", {}, document.createTextNode(`${label} · ${item.name}: ${format(value)}`)));
      base += value;
      return rect;
    });
  });
  return svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title },
    svg("g", { class: "grid axis" }, grid), svg("g", { class: "axis" }, ticks), svg("g", {}, bars));
}

export function legend(series) {
  return h("ul", { class: "legend" }, series.map((s) =>
    h("li", {}, h("span", { class: "swatch", style: { background: s.color }, "aria-hidden": "true" }), s.name)));
}
