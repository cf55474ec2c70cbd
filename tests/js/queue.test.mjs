// The offline queue's rules (static/sw/queue.js) on fake-indexeddb, against a fake server.
import "fake-indexeddb/auto";
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";

import { createStore } from "../../static/sw/store.js";
import { ALREADY_COMPLETED, SERVER_TROUBLE, admit, retry, sendQueue, shownChange, waitingFor } from "../../static/sw/queue.js";

let store;
let serial = 0;

beforeEach(() => {
  serial += 1;
  store = createStore(`queue-test-${serial}`);
});

function write(touchpoint, version, fields = {}) {
  const body = new URLSearchParams({ frequency_days: "14", ...fields });
  if (version != null) body.set("version", String(version));
  return {
    key: `key-${Math.random()}`, url: `/touchpoints/${touchpoint}/edit`, body: body.toString(), kind: "edit",
    label: "Acme", fields: [], user: "7", touchpoint: String(touchpoint), basedOn: version, madeAt: "2026-01-05T10:00:00Z",
  };
}

function answer(status, { version, text = "", type = "text/html; charset=utf-8", headers = {} } = {}) {
  const all = { "Content-Type": type, ...headers };
  if (version != null) all["X-Touchpoint-Version"] = String(version);
  return new Response(text, { status, headers: all });
}

// The server: answers in turn, and what it was sent (each write's key and body).
function server(...answers) {
  const sent = [];
  const send = async (item, token) => {
    sent.push({ key: item.key, body: new URLSearchParams(item.body), token });
    const next = answers.shift();
    if (next instanceof Error) throw next;
    return typeof next === "function" ? next(item) : next;
  };
  return { sent, send };
}

const signedIn = async () => ({ user: 7, csrf_token: "fresh" });

describe("the queue", () => {
  it("sends writes in the order they were made, each with its own key", async () => {
    const first = write(1, 3);
    const second = write(2, 5);
    const third = write(1, 3);
    for (const item of [first, second, third]) await store.put("queue", item);
    const fake = server(answer(200), answer(200), answer(200));

    const result = await sendQueue(store, { session: signedIn, send: fake.send });

    assert.deepEqual(fake.sent.map((s) => s.key), [first.key, second.key, third.key]);
    assert.deepEqual(fake.sent.map((s) => s.token), ["fresh", "fresh", "fresh"]);
    assert.deepEqual(result, { sent: 3, stop: null });
    assert.deepEqual(await store.all("queue"), []);
  });

  it("sends only the signed-in user's writes, and those made with nobody known", async () => {
    await store.put("queue", { ...write(1, 1), user: "8" });
    const anyone = { ...write(2, 1), user: "" };
    await store.put("queue", anyone);
    const fake = server(answer(200));

    await sendQueue(store, { session: signedIn, send: fake.send });

    assert.deepEqual(fake.sent.map((s) => s.key), [anyone.key]);
    assert.equal((await store.all("queue"))[0].user, "8");
  });

  it("replays a write whose answer was lost with the same key, and counts it once", async () => {
    const item = write(1, 3);
    await store.put("queue", item);
    const lost = server(new TypeError("Failed to fetch"));
    const progress = { sent: 0 };

    await assert.rejects(sendQueue(store, { session: signedIn, send: lost.send, progress }));
    assert.equal(progress.sent, 0);
    assert.equal((await store.all("queue")).length, 1);

    const replay = server(answer(200, { headers: { "Idempotent-Replayed": "true" } }));
    const result = await sendQueue(store, { session: signedIn, send: replay.send });
    assert.deepEqual([lost.sent[0].key, replay.sent[0].key], [item.key, item.key]);
    assert.equal(result.sent, 1);
    assert.deepEqual(await store.all("queue"), []);
  });

  for (const status of [409, 422]) {
    it(`moves a write answered ${status} to needs attention with the server's answer, and goes on`, async () => {
      const refused = write(1, 3);
      const next = write(2, 1);
      await store.put("queue", refused);
      await store.put("queue", next);
      const form = '<form><input name="frequency_days" value="45"></form>';
      const fake = server(answer(status, { version: 4, text: form }), answer(200));

      const result = await sendQueue(store, { session: signedIn, send: fake.send });

      assert.deepEqual(result, { sent: 1, stop: null });
      const [entry] = await store.all("attention");
      assert.equal(entry.key, refused.key);
      assert.equal(entry.status, status);
      assert.equal(entry.answer, form);
      assert.equal(entry.serverVersion, 4);
      assert.deepEqual(await store.all("queue"), []);
    });
  }

  it("keeps a refusal in words (not HTML) as its reason", async () => {
    await store.put("queue", write(1, 3));
    const fake = server(answer(422, { text: "Idempotency-Key reused", type: "text/plain" }));

    await sendQueue(store, { session: signedIn, send: fake.send });

    const [entry] = await store.all("attention");
    assert.equal(entry.answer, "");
    assert.equal(entry.reason, "Idempotency-Key reused");
    assert.equal(entry.serverVersion, null);
  });

  it("keeps the whole queue on a 401 after one more try, and asks to sign in", async () => {
    const items = [write(1, 3), write(2, 1)];
    for (const item of items) await store.put("queue", item);
    const sessions = [{ user: 7, csrf_token: "old" }, { user: 7, csrf_token: "renewed" }];
    const fake = server(answer(401), answer(401));

    const result = await sendQueue(store, { session: async () => sessions.shift(), send: fake.send });

    assert.deepEqual(result, { sent: 0, stop: "signin" });
    assert.deepEqual(fake.sent.map((s) => [s.key, s.token]), [[items[0].key, "old"], [items[0].key, "renewed"]]);
    assert.deepEqual((await store.all("queue")).map((item) => item.key), items.map((item) => item.key));
    assert.deepEqual(await store.all("attention"), []);
    assert.equal((await store.meta()).needsSignIn, true);
  });

  it("sends nothing with nobody signed in, and asks to sign in", async () => {
    await store.put("queue", write(1, 3));
    const fake = server();

    const result = await sendQueue(store, { session: async () => null, send: fake.send });

    assert.deepEqual(result, { sent: 0, stop: "signin" });
    assert.equal(fake.sent.length, 0);
    assert.equal((await store.all("queue")).length, 1);
  });

  it("sends again with a fresh token a write whose CSRF token was refused", async () => {
    const item = write(1, 3);
    await store.put("queue", item);
    const sessions = [{ user: 7, csrf_token: "stale" }, { user: 7, csrf_token: "renewed" }];
    const fake = server(answer(400, { text: "The CSRF token has expired." }), answer(200));

    const result = await sendQueue(store, { session: async () => sessions.shift(), send: fake.send });

    assert.deepEqual(result, { sent: 1, stop: null });
    assert.deepEqual(fake.sent.map((s) => s.token), ["stale", "renewed"]);
  });

  for (const status of [502, 503, 504]) {
    it(`keeps a write answered ${status} first in line and stops`, async () => {
      const items = [write(1, 3), write(2, 1)];
      for (const item of items) await store.put("queue", item);
      const busy = answer(status, { headers: { "Retry-After": "5" } });
      const fake = server(busy);

      const result = await sendQueue(store, { session: signedIn, send: fake.send });

      assert.equal(result.stop, busy);
      assert.equal(fake.sent.length, 1);
      assert.deepEqual((await waitingFor(store, 7)).map((item) => item.key), items.map((item) => item.key));
      assert.equal((await store.meta()).lastError, SERVER_TROUBLE);
    });
  }
});

describe("versions", () => {
  it("bases a second write to the same touchpoint on the version the first one produced", async () => {
    const first = write(1, 3, { frequency_days: "14" });
    const second = write(1, 3, { frequency_days: "21" });
    const elsewhere = write(2, 3);
    for (const item of [first, second, elsewhere]) await store.put("queue", item);
    const fake = server(answer(200, { version: 4 }), answer(200, { version: 5 }), answer(200));

    await sendQueue(store, { session: signedIn, send: fake.send });

    assert.deepEqual(fake.sent.map((s) => s.body.get("version")), ["3", "4", "3"]);
    assert.equal(fake.sent[1].body.get("frequency_days"), "21");
  });

  it("rebases on step one of Complete only when it moved the version by exactly one", async () => {
    const complete = { ...write(1, 3), kind: "complete", url: "/touchpoints/1/complete", body: "called_on=2026-01-05" };
    const stepTwo = write(1, 3);
    await store.put("queue", complete);
    await store.put("queue", stepTwo);
    // Someone else changed the touchpoint meanwhile: 3 became 5, not 4.
    const fake = server(answer(200, { version: 5 }), answer(409, { version: 5 }));

    await sendQueue(store, { session: signedIn, send: fake.send });

    assert.equal(fake.sent[1].body.get("version"), "3");
    assert.equal((await store.all("attention"))[0].serverVersion, 5);
  });

  it("sends a conflict again, on the server's version, with a new key", async () => {
    const item = write(1, 3);
    await store.put("queue", item);
    await sendQueue(store, { session: signedIn, send: server(answer(409, { version: 6 })).send });
    const [entry] = await store.all("attention");

    await retry(store, entry.id, "new-key");

    const [again] = await store.all("queue");
    assert.equal(again.key, "new-key");
    assert.equal(again.basedOn, 6);
    assert.equal(new URLSearchParams(again.body).get("version"), "6");
    assert.deepEqual(await store.all("attention"), []);
  });
});

function complete(touchpoint, user = "7", calledOn = "2026-11-23") {
  return {
    key: `key-${Math.random()}`, url: `/touchpoints/${touchpoint}/complete`, kind: "complete", label: "Acme", fields: [],
    body: new URLSearchParams({ called_on: calledOn, duration_minutes: "5" }).toString(),
    user, touchpoint: String(touchpoint), basedOn: 3, calledOn, madeAt: "2026-11-23T10:00:00Z",
  };
}

describe("a second Complete", () => {
  it("is refused while the first for the same touchpoint waits, and nothing is stored", async () => {
    const first = await admit(store, complete(1));
    assert.ok(first.id);
    assert.deepEqual(await admit(store, complete(1)), { refused: ALREADY_COMPLETED });
    assert.equal((await store.all("queue")).length, 1);
  });

  it("is taken for another touchpoint, by another user, or as a Reschedule of the same one", async () => {
    await admit(store, complete(1));
    assert.ok((await admit(store, complete(2))).id);
    assert.ok((await admit(store, complete(1, "8"))).id);
    assert.ok((await admit(store, write(1, 4))).id);
    assert.equal((await store.all("queue")).length, 4);
  });

  it("is taken once the first has been sent", async () => {
    await admit(store, complete(1));
    await sendQueue(store, { session: signedIn, send: server(answer(200, { version: 4 })).send });
    assert.ok((await admit(store, complete(1, "7", "2026-11-24"))).id);
  });
});

describe("what a card shows of a queued write", () => {
  it("is a call's date for Complete, the dates and frequency for a touchpoint form", () => {
    assert.deepEqual(shownChange(complete(5)), { touchpoint: "5", kind: "complete", calledOn: "2026-11-23" });
    const edit = write(5, 4, { last_call: "2026-11-23", next_call: "2026-12-07", comment: "x" });
    assert.deepEqual(shownChange(edit), {
      touchpoint: "5", kind: "edit", last_call: "2026-11-23", next_call: "2026-12-07", frequency_days: "14",
    });
  });
});
