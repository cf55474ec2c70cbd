/* The write queue's own rules, apart from the service worker's events so that Node tests them:
   which writes are the signed-in user's, the order they go in, the version each is based on,
   and what becomes of each answer. A 2xx takes a write off; 409, 422 and other refusals move it
   to "needs attention" with the server's answer; 401 or a refused CSRF token keeps the queue and
   asks the rep to sign in (after one more try with a fresh token); 5xx keeps it, first in line;
   a network failure keeps it for the next try. */

export const SERVER_TROUBLE = "The server could not take a change just now; it will be tried again.";

// A write belongs to the user signed in when it was made; one made with nobody known, to the
// next user who signs in (the forms that make writes are only shown to a signed-in user).
export function ownedBy(item, user) {
  return !item.user || String(item.user) === String(user);
}

// The user's writes, in the order they were made.
export async function waitingFor(store, user) {
  return (await store.all("queue")).filter((item) => ownedBy(item, user)).sort((a, b) => a.id - b.id);
}

export const ALREADY_COMPLETED = "Already completed on this phone: its call log is waiting to send. It was not saved twice.";

// Into the queue, unless it is a second Complete of a touchpoint whose first still waits here (a
// second tap, or Complete opened again from a page kept before the first): that one is refused,
// with the reason, and nothing is stored. Once the first is sent the rep may log another call.
export async function admit(store, item) {
  if (item.kind === "complete" && item.touchpoint) {
    const first = (await store.all("queue")).find((other) => other.kind === "complete" &&
      String(other.touchpoint) === String(item.touchpoint) && ownedBy(other, item.user));
    if (first) return { refused: ALREADY_COMPLETED };
  }
  return { id: await store.put("queue", item) };
}

// What a queued write will change on its touchpoint's card, for the page to show before it is
// sent (static/offline/cards.js): the call's date, or the dates and frequency the form sets.
export function shownChange(item) {
  const change = { touchpoint: String(item.touchpoint), kind: item.kind };
  if (item.kind === "complete") change.calledOn = item.calledOn;
  const params = new URLSearchParams(item.kind === "edit" ? item.body : "");
  ["last_call", "next_call", "frequency_days"].forEach((name) => {
    if (params.has(name)) change[name] = params.get(name);
  });
  return change;
}

// The version of the touchpoint an answer shows, as the server says it (X-Touchpoint-Version).
export function versionOf(response) {
  const version = response.headers.get("X-Touchpoint-Version");
  return version === null || version === "" ? null : Number(version);
}

export function isCsrfRefusal(response, text) {
  return response.status === 400 && /CSRF/i.test(text);
}

export function unavailable(response) {
  return response.status >= 502 && response.status <= 504;
}

// Later writes to the same touchpoint, made on this phone on top of the one just applied, are
// based on the version it produced, not on the one it replaced: otherwise the rep's own earlier
// write would be a conflict. Step one of Complete counts only if nobody else changed the
// touchpoint in between (it moved the version by exactly one).
export async function rebase(store, item, after) {
  const before = item.basedOn;
  if (!item.touchpoint || after == null || before == null || after === before) return;
  if (item.kind === "complete" && after !== before + 1) return;
  for (const other of await store.all("queue")) {
    if (other.touchpoint !== item.touchpoint || other.basedOn !== before || other.id === item.id) continue;
    const params = new URLSearchParams(other.body);
    if (params.has("version")) params.set("version", String(after));
    await store.put("queue", { ...other, body: params.toString(), basedOn: after });
  }
}

export async function needsAttention(store, item, response, text) {
  const html = /text\/html/.test(response.headers.get("Content-Type") || "");
  await store.put("attention", {
    ...item,
    status: response.status,
    answer: html ? text : "",
    reason: html ? "" : text.slice(0, 300),
    serverVersion: versionOf(response),
    answeredAt: new Date().toISOString(),
  });
  await store.remove("queue", item.id);
}

// Back to the queue, at its end: with a new key (the old one may be spent on the refusal) and,
// after a conflict, based on the version the server has now.
export async function retry(store, id, key) {
  const entry = await store.get("attention", id);
  if (!entry) return;
  const params = new URLSearchParams(entry.body);
  let basedOn = entry.basedOn;
  if (entry.serverVersion != null && params.has("version")) {
    params.set("version", String(entry.serverVersion));
    basedOn = entry.serverVersion;
  }
  const { url, kind, label, fields, user, touchpoint, calledOn, madeAt } = entry;
  await store.put("queue", { key, url, body: params.toString(), kind, label, fields, user, touchpoint, basedOn, calledOn, madeAt });
  await store.remove("attention", id);
}

/* Send the queue, first made first, each with its own Idempotency-Key (send does that).
   `session()`: the signed-in user and a fresh CSRF token, or null; `send(item, token)`: the
   write's answer; `changed()`: after each write taken off; `answered(response)`: after each answer. Resolves with what became of it:
   { sent, stop } where stop is null (all sent or set aside), "signin" or the 5xx answer; a
   network failure rejects, with `progress.sent` saying what was sent before it. */
export async function sendQueue(store, { session, send, changed = () => {}, answered = () => {}, progress = { sent: 0 } }) {
  if (!(await store.all("queue")).length) return { sent: 0, stop: null };
  let who = await session();
  if (!who) {
    await store.setMeta({ needsSignIn: true });
    return { sent: 0, stop: "signin" };
  }
  await store.setMeta({ needsSignIn: false, lastError: "" });
  let renewed = false;
  for (;;) {
    const [item] = await waitingFor(store, who.user);
    if (!item) return { sent: progress.sent, stop: null };
    const response = await send(item, who.csrf_token);
    const text = await response.text();
    answered(response);
    if (response.ok) {
      progress.sent += 1;
      await rebase(store, item, versionOf(response));
      await store.remove("queue", item.id);
      await changed();
    } else if (response.status === 401 || isCsrfRefusal(response, text)) {
      // A token from before a sign-in elsewhere: one more try with a fresh one, then ask.
      const fresh = renewed ? null : await session();
      renewed = true;
      if (!fresh) {
        await store.setMeta({ needsSignIn: true });
        return { sent: progress.sent, stop: "signin" };
      }
      who = fresh;
    } else if (response.status >= 500) {
      // The server's trouble, not the write's: it stays first in line for the next try.
      await store.setMeta({ lastError: SERVER_TROUBLE });
      return { sent: progress.sent, stop: response };
    } else {
      await needsAttention(store, item, response, text);
      await changed();
    }
  }
}
