// Building DOM safely: text always goes in as text nodes, never as HTML, because prompts, error
// messages and names come from users and upstream providers.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "style") for (const [k, v] of Object.entries(value)) node.style.setProperty(k, v);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

export function option(value, label, selected = false) {
  return h("option", { value, selected }, label);
}

export function chip(label, value, extra = {}) {
  return h("div", { class: `chip ${extra.class || ""}`.trim() }, h("span", { class: "chip__label" }, label),
    h("span", { class: "chip__value", ...(extra.attrs || {}) }, value));
}

export function badge(text, tone = "", title = null) {
  return h("span", { class: `badge${tone ? ` badge--${tone}` : ""}`, title }, text);
}

/** A small rectangle drawn in the proportions of `ratio` (width / height), for sizes and shapes. */
export function shapeIcon(ratio, box = 16) {
  const w = ratio >= 1 ? box : Math.max(6, Math.round(box * ratio));
  const hgt = ratio >= 1 ? Math.max(6, Math.round(box / ratio)) : box;
  return h("span", { class: "shape", "aria-hidden": "true", style: { width: `${w}px`, height: `${hgt}px` } });
}
