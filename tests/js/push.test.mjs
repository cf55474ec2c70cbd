// The service worker's reminder notifications (static/sw/push.js): what a push shows and where a
// tap goes.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  itemUrl,
  keyBytes,
  listenForPushes,
  notificationFor,
  openItem,
  readPayload,
  subscriptionForm,
  tapUrl,
} from "../../static/sw/push.js";

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

// A reminder's payload with its one-tap actions, as tpweb/jobs/push.py sends it.
const ACTIONS = [
  { action: "done", title: "Done", url: "https://tpweb.example/actions/1.p.3.20261201.d.X.sig" },
  { action: "tomorrow", title: "Snooze to tomorrow", url: "https://tpweb.example/actions/1.p.3.20261201.t.X.sig" },
  { action: "week", title: "Next week", url: "https://tpweb.example/actions/1.p.3.20261201.w.X.sig" },
];
const REMINDER = {
  title: "North Yard · Acme & Sons",
  body: "A touchpoint for jobsite North Yard of customer Acme & Sons assigned to you is due today.",
  url: "https://tpweb.example/touchpoints/3/complete",
  tag: "reminder-12",
  actions: ACTIONS,
};

test("a reminder's one-tap actions become its buttons, their links kept by name on this origin", () => {
  const { options } = notificationFor(REMINDER, SCOPE);
  assert.deepEqual(options.actions, [
    { action: "done", title: "Done" },
    { action: "tomorrow", title: "Snooze to tomorrow" },
    { action: "week", title: "Next week" },
  ]);
  assert.deepEqual(options.data, {
    url: "https://app.example/touchpoints/3/complete",
    actions: {
      done: "https://app.example/actions/1.p.3.20261201.d.X.sig",
      tomorrow: "https://app.example/actions/1.p.3.20261201.t.X.sig",
      week: "https://app.example/actions/1.p.3.20261201.w.X.sig",
    },
  });
});

test("a digest, or actions that cannot be read, give a notification with no buttons", () => {
  const digest = notificationFor({ title: "2 reminders", url: "/tasks", tag: "digest-1" }, SCOPE);
  assert.equal(digest.options.actions, undefined);
  assert.deepEqual(digest.options.data, { url: "https://app.example/tasks" });
  for (const actions of ["done", [null, 3, { action: "done" }, { action: "", title: "Done", url: "/x" }], {}]) {
    const { options } = notificationFor({ ...REMINDER, actions }, SCOPE);
    assert.equal(options.actions, undefined, JSON.stringify(actions));
  }
  const many = notificationFor({ ...REMINDER, actions: [...ACTIONS, { action: "more", title: "More", url: "/m" }] }, SCOPE);
  assert.equal(many.options.actions.length, 3);
});

test("tapUrl: a button goes to its own link, the notification or an unknown button to its page", () => {
  const { options } = notificationFor(REMINDER, SCOPE);
  assert.equal(tapUrl(options.data, "tomorrow", SCOPE), "https://app.example/actions/1.p.3.20261201.t.X.sig");
  assert.equal(tapUrl(options.data, "", SCOPE), "https://app.example/touchpoints/3/complete");
  assert.equal(tapUrl(options.data, "undo", SCOPE), "https://app.example/touchpoints/3/complete");
  assert.equal(tapUrl(options.data, "toString", SCOPE), "https://app.example/touchpoints/3/complete");
  assert.equal(tapUrl(null, "done", SCOPE), "https://app.example/tasks");
  assert.equal(tapUrl({ url: "/tasks/4/response", actions: { done: "javascript:alert(1)" } }, "done", SCOPE),
    "https://app.example/tasks");
});

// A service worker's global scope as listenForPushes uses it: its listeners, the notifications
// it shows, and its clients (no window open: a tap opens one).
function fakeWorker() {
  const listeners = {};
  const shown = [];
  const clients = fakeClients([]);
  const worker = {
    listeners,
    shown,
    clients,
    registration: {
      scope: SCOPE,
      showNotification: async (title, options) => { shown.push({ title, options }); },
    },
    addEventListener: (type, listener) => { listeners[type] = listener; },
  };
  return worker;
}

// Dispatches `event` to the worker's listener for `type`; resolves once its waitUntil has.
async function dispatch(worker, type, event) {
  let waited = Promise.resolve();
  worker.listeners[type]({ ...event, waitUntil: (promise) => { waited = promise; } });
  await waited;
}

async function pushThenTap(payload, action) {
  const worker = fakeWorker();
  listenForPushes(worker);
  await dispatch(worker, "push", { data: pushData(JSON.stringify(payload)) });
  const [{ title, options }] = worker.shown;
  const notification = { title, ...options, closed: false, close() { notification.closed = true; } };
  await dispatch(worker, "notificationclick", { notification, action });
  assert.equal(notification.closed, true);
  return worker.clients.opened;
}

test("notificationclick opens the link of the button tapped, or the item for the notification", async () => {
  const links = "https://app.example/actions/1.p.3.20261201";
  assert.deepEqual(await pushThenTap(REMINDER, "done"), [`${links}.d.X.sig`]);
  assert.deepEqual(await pushThenTap(REMINDER, "tomorrow"), [`${links}.t.X.sig`]);
  assert.deepEqual(await pushThenTap(REMINDER, "week"), [`${links}.w.X.sig`]);
  assert.deepEqual(await pushThenTap(REMINDER, ""), ["https://app.example/touchpoints/3/complete"]);
  const digest = { title: "2 reminders", body: "2 due today", url: "https://tpweb.example/tasks", tag: "digest-1" };
  assert.deepEqual(await pushThenTap(digest, ""), ["https://app.example/tasks"]);
  assert.deepEqual(await pushThenTap(digest, "done"), ["https://app.example/tasks"]);
});
