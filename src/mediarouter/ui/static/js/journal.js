// What this tab got back from the API, by request id: the log does not keep the size asked for or
// the images, so the request detail view adds them from here for requests made in this session.

const ITEM = "mediarouter.journal";
const KEEP = 60;

function read() {
  try {
    return JSON.parse(sessionStorage.getItem(ITEM) || "[]");
  } catch {
    return [];
  }
}

export function remember(entry) {
  if (!entry || !entry.id) return;
  const entries = read().filter((e) => e.id !== entry.id);
  entries.unshift({ ...entry, at: Date.now() });
  sessionStorage.setItem(ITEM, JSON.stringify(entries.slice(0, KEEP)));
}

export function recall(id) {
  return read().find((e) => e.id === id) || null;
}

export function recent(limit = 12) {
  return read().filter((e) => e.images && e.images.length).slice(0, limit);
}
