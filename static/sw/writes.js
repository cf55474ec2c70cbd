/* Writing: Complete (both steps), Reschedule, Create Touchpoint and Record response go to the
   server when they can, and are queued when not (no network, a 401, a refused CSRF token, a
   502-504), each with its Idempotency-Key, the version it was based on and its time; htmx then
   gets a 202 saying so, made by the page (static/offline/pending.js) from the server's own
   <template>s (/offline/shell's `pending`) and the write's data in X-Offline-Pending. */
import { idIn, urlFor, writeKind } from "./config.js";
import { FRAGMENTS, fromKept } from "./kept.js";
import { SERVER_TROUBLE, isCsrfRefusal, ownedBy, unavailable, versionOf } from "./queue.js";

// A write waits longer than a read for its answer: it may already be saved when it times out, and
// then it is queued and sent again, which its Idempotency-Key makes harmless.
const WRITE_TIMEOUT = 10000;

// What each queueable write is, in the words of the forms.
export const ACTIONS = { complete: "Call log", edit: "Touchpoint", record: "Touchpoint record", response: "Response" };

const SAVED = {
  offline: "Saved on this phone — will send when online.",
  signin: "Saved on this phone — sign in to send it.",
  soon: "Saved on this phone — sending it in a moment.",
  busy: "Saved on this phone — the server is busy; sending it again shortly.",
};

export function uuid() {
  if (self.crypto.randomUUID) return self.crypto.randomUUID();
  const bytes = self.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => (b + 256).toString(16).slice(1)).join("");
}

// What the page said of the form (static/offline/forms.js): its heading, its fields' labels.
function described(request) {
  try {
    return JSON.parse(decodeURIComponent(request.headers.get("X-Tpweb-Offline") || "")) || {};
  } catch {
    return {};
  }
}

// "Mon, Nov 23, 2026", as the cards say a date.
function longDate(iso) {
  const [year, month, day] = iso.split("-").map(Number);
  return new Date(year, month - 1, day).toLocaleDateString("en-US", {
    weekday: "short", month: "short", day: "numeric", year: "numeric",
  });
}

// The write's fields as the rep saw them: each field's label, a chosen option's words.
function fieldsOf(body, about) {
  const names = about.names || {};
  const choices = about.choices || {};
  const fields = [];
  new URLSearchParams(body).forEach((value, name) => {
    if (!(name in names)) return; // the CSRF token, the version: not the rep's words
    if (name in choices) value = choices[name];
    else if (value === "y") value = "Yes";
    else if (/^\d{4}-\d{2}-\d{2}$/.test(value)) value = longDate(value);
    fields.push([names[name], value]);
  });
  return fields;
}

export function send(item, token, extraHeaders) {
  const body = new URLSearchParams(item.body);
  if (token) body.set("csrf_token", token);
  const headers = new Headers(extraHeaders || {});
  headers.set("Content-Type", "application/x-www-form-urlencoded");
  headers.set("HX-Request", "true");
  headers.set("Idempotency-Key", item.key);
  if (token) headers.set("X-CSRFToken", token);
  headers.delete("X-Tpweb-Offline");
  return fetch(item.url, { method: "POST", headers, body: body.toString(), credentials: "same-origin" });
}

// What htmx swaps in for a queued write: it says so at once, in the place of the saved form.
// Step one of Complete comes with step two's form as kept, on whose version it is based.
async function answerPending(config, item, why) {
  const pending = {
    key: item.key, kind: item.kind, label: item.label, action: ACTIONS[item.kind], touchpoint: item.touchpoint,
    fields: item.fields.filter((pair) => pair[1] !== ""), text: SAVED[why],
  };
  let body = config.pending;
  if (item.kind === "complete") {
    const stepTwo = new URL(urlFor(config.step_two, item.touchpoint), self.location.origin).href;
    const kept = await fromKept(FRAGMENTS, stepTwo);
    item.basedOn = kept ? versionOf(kept) : null;
    pending.text = "Call log " + pending.text.charAt(0).toLowerCase() + pending.text.slice(1);
    pending.calledOn = item.calledOn;
    if (kept) body += await kept.text();
  }
  return new Response(body, {
    status: 202,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "X-Offline-Queued": item.key,
      "X-Offline-Pending": encodeURIComponent(JSON.stringify(pending)),
    },
  });
}

// A write the queue would not take (a second Complete of a touchpoint): nothing was stored, and
// the page says why (offline.js) rather than swapping anything in.
function refusal(reason) {
  return new Response(reason, {
    status: 409,
    headers: { "Content-Type": "text/plain; charset=utf-8", "X-Offline-Refused": encodeURIComponent(reason) },
  });
}

function withTimeout(promise, ms) {
  return Promise.race([promise, new Promise((resolve, reject) => setTimeout(() => reject(new Error("timeout")), ms))]);
}

// `app`: the worker's settings, store, enqueue, sync, syncLater, counted and signedOut (sw.js).
export function writeHandler(app) {
  async function hasWaiting(user) {
    return (await app.store.all("queue")).some((item) => ownedBy(item, user));
  }

  async function queueAndAnswer(config, item, why) {
    // The answer first: for step one of Complete it reads the version step two is based on.
    const answer = await answerPending(config, item, why);
    const { refused } = await app.enqueue(item);
    return refused ? refusal(refused) : answer;
  }

  async function handleWrite(event, config, kind) {
    const request = event.request;
    const body = await request.clone().text();
    const about = described(request);
    const params = new URLSearchParams(body);
    const item = {
      key: request.headers.get("Idempotency-Key") || uuid(),
      url: request.url,
      body,
      kind,
      label: about.label || "",
      fields: fieldsOf(body, about),
      user: String(about.user || (await app.store.meta()).user || ""),
      touchpoint: kind === "complete" || kind === "edit" ? idIn(config, kind, new URL(request.url).pathname) : null,
      basedOn: params.has("version") ? Number(params.get("version")) : null,
      calledOn: kind === "complete" ? params.get("called_on") : null,
      madeAt: new Date().toISOString(),
    };
    // Writes still waiting go first: this one must not overtake them.
    let waiting = await hasWaiting(item.user);
    if (waiting) waiting = await app.sync().catch(() => {}).then(() => hasWaiting(item.user));
    const response = waiting ? null : await withTimeout(app.counted(send(item, null, new Headers(request.headers))), WRITE_TIMEOUT).catch(() => null);
    if (!response) return queueAndAnswer(config, item, "offline");
    const text = await response.clone().text();
    // Signed out meanwhile: keep the write, and send it once the rep is back.
    if (response.status === 401) {
      await app.store.setMeta({ needsSignIn: true });
      return queueAndAnswer(config, item, "signin");
    }
    // The server (or its database) could not take it: nothing was saved. Kept, and sent again.
    if (unavailable(response)) {
      await app.store.setMeta({ lastError: SERVER_TROUBLE });
      const answer = await queueAndAnswer(config, item, "busy");
      event.waitUntil(app.syncLater(response));
      return answer;
    }
    // A form kept from an older session: nothing was saved. The queue sends it again with a
    // fresh token, or asks the rep to sign in if the session is gone too.
    if (isCsrfRefusal(response, text)) {
      const answer = await queueAndAnswer(config, item, "soon");
      app.sync().catch(() => {});
      return answer;
    }
    return response;
  }

  // A same-origin POST (the router's): signing out, a queueable write, or anything else as it is.
  return async function write({ event, request, url }) {
    const config = await app.settings().catch(() => null);
    if (!config) return fetch(request);
    if (url.pathname === config.logout) {
      // Signed out: this phone no longer keeps the user's pages. The queue stays, with its owner.
      const response = await fetch(request);
      if (response.ok) event.waitUntil(app.signedOut());
      return response;
    }
    const kind = writeKind(config, url.pathname);
    const type = request.headers.get("Content-Type") || "";
    if (!kind || !type.startsWith("application/x-www-form-urlencoded")) return fetch(request);
    return handleWrite(event, config, kind);
  };
}
