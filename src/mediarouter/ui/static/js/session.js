// Signing in once per tab: the key is checked against the API, its role read from what it may do,
// and kept in sessionStorage. Every page starts with `startSession()`.

import { api, ApiError, forgetKey, onUnauthorized, request, storedKey, storeKey } from "./api.js";
import { $, h, replace } from "./dom.js";

/** The key id the gateway uses in logs: `mr_<id>.<secret>`; the configured admin key is "admin". */
export function keyIdOf(key) {
  const m = /^mr_([^.]+)\./.exec(key || "");
  return m ? m[1] : "admin";
}

async function probe(key) {
  // GET /v1/keys answers 200 to an admin key, 403 to a user key and 401 to anything else.
  try {
    const keys = await api("/v1/keys", { key });
    return { role: "admin", keys: keys.data };
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) return { role: "user", keys: null };
    throw err;
  }
}

function askForKey(message = "") {
  const dialog = $("#gate");
  const form = $("#gate-form");
  const input = $("#gate-key");
  const error = $("#gate-error");
  error.textContent = message;
  return new Promise((resolve) => {
    const submit = async (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (!key) {
        error.textContent = "Paste a key first.";
        input.focus();
        return;
      }
      $("#gate-submit").disabled = true;
      error.textContent = "";
      try {
        const found = await probe(key);
        storeKey(key);
        form.removeEventListener("submit", submit);
        dialog.close();
        input.value = "";
        resolve({ key, ...found });
      } catch (err) {
        error.textContent =
          err instanceof ApiError && err.status === 401
            ? "This key was not accepted: check that it was copied whole and has not been revoked."
            : err.message;
        input.select();
      } finally {
        $("#gate-submit").disabled = false;
      }
    };
    form.addEventListener("submit", submit);
    dialog.addEventListener("cancel", (event) => event.preventDefault()); // no page without a key
    dialog.showModal();
    input.focus();
  });
}

function showSession(session) {
  replace($("#session-key"), h("strong", {}, session.isAdmin ? "Admin" : "User"), " key ",
    h("code", {}, session.keyId));
  $("#sandbox-badge").hidden = !session.sandbox;
  $("#session").hidden = false;
  $("#sign-out").onclick = () => {
    forgetKey();
    location.reload();
  };
}

/**
 * Run a page's `main`, showing anything it fails with at the top of the page instead of nowhere.
 * `<body data-ready>` marks a page whose data and controls are all in place (tests wait for it).
 */
export function run(main) {
  main().then(() => { document.body.dataset.ready = "true"; }).catch((err) => {
    const box = h("div", { class: "panel error-box", role: "alert" },
      h("h2", { class: "section-title" }, "This page could not load"),
      h("p", { class: "message" }, err && err.message ? err.message : String(err)),
      h("p", { class: "muted small" }, "Check that the gateway is running, then reload the page."));
    $("#main .page__head").after(box);
  });
}

/** `{key, keyId, role, isAdmin, keys, sandbox, version}` once a working key is in the session. */
export async function startSession() {
  onUnauthorized(() => {
    forgetKey();
    location.reload();
  });
  const health = await request("/health", { key: "" }).then((r) => r.data).catch(() => ({}));
  let found = null;
  const saved = storedKey();
  if (saved) {
    try {
      found = { key: saved, ...(await probe(saved)) };
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) throw err; // keep the key through an outage
      forgetKey();
      found = await askForKey("Your key is no longer accepted: it may have been revoked.");
    }
  } else {
    found = await askForKey();
  }
  const session = {
    ...found,
    keyId: keyIdOf(found.key),
    isAdmin: found.role === "admin",
    sandbox: Boolean(health.sandbox),
    version: health.version,
  };
  showSession(session);
  return session;
}
