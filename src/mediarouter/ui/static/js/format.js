// How numbers, money and times read on every page.

export function money(usd) {
  if (usd === null || usd === undefined || Number.isNaN(usd)) return "—";
  if (usd === 0) return "$0";
  const abs = Math.abs(usd);
  const digits = abs >= 1 ? 2 : abs >= 0.01 ? 3 : abs >= 0.0001 ? 4 : 6;
  return `$${usd.toFixed(digits)}`;
}

export function ms(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60000) return `${(value / 1000).toFixed(value < 10000 ? 2 : 1)} s`;
  return `${Math.floor(value / 60000)} min ${Math.round((value % 60000) / 1000)} s`;
}

export function percent(rate) {
  if (rate === null || rate === undefined) return "—";
  return `${(rate * 100).toFixed(rate === 1 || rate === 0 ? 0 : 1)}%`;
}

export function bytes(n) {
  if (!n) return "0 B";
  const units = ["B", "KB", "MB", "GB"];
  const i = Math.min(units.length - 1, Math.floor(Math.log(n) / Math.log(1024)));
  return `${(n / 1024 ** i).toFixed(i ? 1 : 0)} ${units[i]}`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export function ago(date) {
  const seconds = (Date.now() - date.getTime()) / 1000;
  if (seconds < 45) return "just now";
  for (const [unit, size] of [["day", 86400], ["hour", 3600], ["minute", 60]]) {
    if (seconds >= size) return relative.format(-Math.round(seconds / size), unit);
  }
  return relative.format(-Math.round(seconds), "second");
}

export function when(date) {
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

export function clock(date) {
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" })
    : date.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

/** "1536x1024" or "16:9" as width / height, or null for "auto" and the unknown. */
export function ratioOf(size) {
  const m = /^(\d+(?:\.\d+)?)\s*[x:×]\s*(\d+(?:\.\d+)?)$/i.exec(String(size || "").trim());
  return m ? Number(m[1]) / Number(m[2]) : null;
}

export const STATUS_TONES = { completed: "ok", upstream_failure: "bad", rejected: "warn", cancelled: "" };
export const STATUS_LABELS = {
  completed: "Completed", upstream_failure: "Upstream failure", rejected: "Rejected", cancelled: "Cancelled",
};
