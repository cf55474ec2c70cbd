// The service worker's reminder notifications (static/sw/push.js): what a push shows and where a
// tap goes.
import assert from "node:assert/strict";
import { test } from "node:test";

import { itemUrl, keyBytes, notificationFor, openItem, readPayload, subscriptionForm } from "../../static/sw/push.js";

const SCOPE = "https://app.example/";

function pushData(text) {
  return { json: () => JSON.parse(text) };
}

test("a reminder's payload becomes its notification, tagged, opening its page", () => {
  const payload = readPayload(pushData(JSON.stringify({
    title: "Dana Diaz · Acme & Sons",
    body: "A task titled Call back for contact Dana Diaz assigned to you is due today.",
    url: "https://tpweb.example/tasks/7/response",
    tag: "reminder-12",
  })));
  const { title, options } = notificationFor(payload, SCOPE);
  assert.equal(title, "Dana Diaz · Acme & Sons");
  assert.equal(options.body, "A task titled Call back for contact Dana Diaz assigned to you is due today.");
  assert.equal(options.tag, "reminder-12");
  // The app's own origin, whatever host the link was built with.
  assert.deepEqual(options.data, { url: "https://app.example/tasks/7/response" });
  assert.equal(options.icon, "https://app.example/static/icons/icon-192.png");
});

test("every push shows a notification, even one that cannot be read", () => {
  for (const data of [null, pushData("not json"), pushData("42"), pushData("null"), pushData('{"title": 3}')]) {
    const { title, options } = notificationFor(readPayload(data), SCOPE);
    assert.equal(title, "Touchpoints");
    assert.equal(options.body, "You have reminders due.");
    assert.equal(options.data.url, "https://app.example/tasks");
    assert.equal(options.tag, undefined);
  }
});

test("a tap never leaves the app: other schemes and hosts come back to its origin", () => {
  assert.equal(itemUrl("javascript:alert(1)", SCOPE), "https://app.example/tasks");
  assert.equal(itemUrl("data:text/html,hi", SCOPE), "https://app.example/tasks");
  assert.equal(itemUrl("https://evil.example/touchpoints/3/complete?x=1#y", SCOPE),
    "https://app.example/touchpoints/3/complete?x=1#y");
  assert.equal(itemUrl("/touchpoints/3/complete", SCOPE), "https://app.example/touchpoints/3/complete");
  assert.equal(itemUrl("http://[bad", SCOPE), "https://app.example/tasks");
});

test("long words are cut to what a notification shows", () => {
  const { title, options } = notificationFor({ title: "T".repeat(500), body: "B".repeat(5000), tag: "x".repeat(300) }, SCOPE);
  assert.equal(title.length, 120);
  assert.equal(options.body.length, 600);
  assert.equal(options.tag.length, 100);
});

function fakeClients(windows) {
  const opened = [];
  return {
    opened,
    matchAll: async () => windows,
    openWindow: async (url) => { opened.push(url); return { url }; },
  };
}

function fakeWindow(url) {
  const window = { url, focused: false, navigated: null };
  window.focus = async () => { window.focused = true; return window; };
  window.navigate = async (to) => { window.navigated = to; return window; };
  return window;
}

test("a tap opens the item in the app's window when there is one, else in a new one", async () => {
  const url = "https://app.example/touchpoints/3/complete";
  const none = fakeClients([]);
  await openItem(none, url);
  assert.deepEqual(none.opened, [url]);

  const list = fakeWindow("https://app.example/touchpoints");
  await openItem(fakeClients([list]), url);
  assert.equal(list.focused, true);
  assert.equal(list.navigated, url);

  const there = fakeWindow(url);
  await openItem(fakeClients([list, there]), url);
  assert.equal(there.focused, true);
  assert.equal(there.navigated, null); // already showing it: only brought forward
});

test("a window that may not be focused is still taken to the item", async () => {
  const list = fakeWindow("https://app.example/");
  list.focus = async () => { throw new Error("not allowed to focus"); };
  await openItem(fakeClients([list]), "https://app.example/tasks/4/response");
  assert.equal(list.navigated, "https://app.example/tasks/4/response");
});

test("the server's key and the browser's subscription as the server takes them", () => {
  const bytes = keyBytes("BAEC_-8");
  assert.deepEqual([...bytes], [4, 1, 2, 255, 239]);
  const subscription = { toJSON: () => ({ endpoint: "https://push.example/x", keys: { p256dh: "BP", auth: "AU" } }) };
  assert.deepEqual(subscriptionForm(subscription), { endpoint: "https://push.example/x", p256dh: "BP", auth: "AU" });
});
