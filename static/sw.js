/* tpweb's service worker: the app with no signal. A module worker; its parts are in static/sw/:
   reading (pages.js, kept.js, refresh.js, with Workbox), writing (writes.js), the queue's rules
   (queue.js) and the phone's IndexedDB (store.js, with idb).

   The queue is sent in the order it was made, each write with its own key so the server applies it
   once: on the page's `online` event and its visits, when the worker starts, on Background Sync
   and on "Sync now". After a 502-504 it goes again after the server's Retry-After. Workbox's own
   queue is not used: its replay counts any HTTP answer as done.

   The worker is the only writer of IndexedDB; static/offline.js asks it for the state by message. */
// The worker is served at /sw.js (its scope is the whole app): its modules are under /static/.
import { SETTINGS_URL, SHELL, settings } from "./static/sw/config.js";
import { forgetPages } from "./static/sw/kept.js";
import { busy, precacheShell, router, shellRoutes } from "./static/sw/pages.js";
import { admit, ownedBy, retry, sendQueue, shownChange, unavailable } from "./static/sw/queue.js";
import { listenForPushes } from "./static/sw/push.js";
import { refresher, session } from "./static/sw/refresh.js";
import { createStore } from "./static/sw/store.js";
import { knowTiles } from "./static/sw/tiles.js";
import { ACTIONS, send, uuid, writeHandler } from "./static/sw/writes.js";

const TAG = "tpweb-queue";
// After a 502-504, the queue goes again in the server's Retry-After seconds (RETRY_SECONDS if it
// gave none, RETRY_MOST at most), RETRY_TRIES times in a row at most; after that, at the usual
// moments (a page opened, `online`, Background Sync, "Sync now").
const RETRY_SECONDS = 5;
const RETRY_MOST = 60;
const RETRY_TRIES = 10;

const store = createStore();
const { refresh, isRefreshing } = refresher(store, broadcast);
let syncing = null;
let retrying = null;
let retries = 0;

function counted(promise) {
  const done = busy();
  promise.then(done, done);
  return promise;
}

// Resolves with the queue's refusal ({ refused }) or its place ({ id }).
async function enqueue(item) {
  const admitted = await admit(store, item);
  if (admitted.refused) return admitted;
  if (self.registration.sync) await self.registration.sync.register(TAG).catch(() => {});
  await broadcast();
  return admitted;
}

// The queue sent again after the server's Retry-After, once however many ask; the promise settles
// after that try and the ones it leads to, so an event that waits for it keeps the worker awake.
function syncLater(response) {
  if (retrying) return retrying;
  if (retries >= RETRY_TRIES) return Promise.resolve();
  retries += 1;
  const seconds = Number(response.headers.get("Retry-After"));
  const wait = Math.min(RETRY_MOST, seconds > 0 ? seconds : RETRY_SECONDS);
  retrying = new Promise((resolve) => setTimeout(resolve, wait * 1000)).then(() => {
    retrying = null;
    return sync().catch(() => {});
  }).then(() => retrying);
  return retrying;
}

async function syncQueue() {
  const progress = { sent: 0 };
  try {
    const config = await settings();
    const result = await sendQueue(store, {
      session: () => session(config),
      send,
      changed: broadcast,
      answered: (response) => { if (response.status < 500) retries = 0; },
      progress,
    });
    if (result.stop instanceof Response && unavailable(result.stop)) syncLater(result.stop);
  } finally {
    // Also after a network failure part way: what was sent was sent.
    if (progress.sent) {
      await store.setMeta({ lastSent: progress.sent, sentAt: new Date().toISOString() });
      refresh(true); // the kept pages are to show what the server has now; no need to wait
    }
  }
}

function sync() {
  if (!syncing) {
    syncing = syncQueue().finally(() => {
      syncing = null;
      broadcast();
    });
    broadcast();
  }
  return syncing;
}

/* ---- talking to the pages ---- */

async function snapshot() {
  const [queued, refused, state] = await Promise.all([store.all("queue"), store.all("attention"), store.meta()]);
  // The signed-in user's own; with nobody signed in, everything on the phone.
  const own = (item) => !state.user || ownedBy(item, state.user);
  const queue = queued.filter(own).sort((a, b) => a.id - b.id);
  const attention = refused.filter(own);
  return {
    type: "state",
    waiting: queue.length,
    keys: queue.map((item) => item.key),
    attentionKeys: attention.map((item) => item.key),
    touchpoints: queue.map((item) => item.touchpoint).filter(Boolean),
    changes: queue.filter((item) => item.touchpoint).map(shownChange),
    attention: attention.length,
    needsSignIn: !!state.needsSignIn && queue.length > 0,
    refreshedAt: state.refreshedAt || null,
    refreshing: isRefreshing(),
    syncing: !!syncing,
    saved: state.saved || 0,
    lastError: state.lastError || "",
    lastSent: state.lastSent || 0,
    sentAt: state.sentAt || null,
  };
}

async function broadcast() {
  try {
    const state = await snapshot();
    const clients = await self.clients.matchAll({ includeUncontrolled: true });
    clients.forEach((client) => client.postMessage(state));
  } catch {
    // no page to tell
  }
}

async function attentionList(client) {
  const [items, state] = await Promise.all([store.all("attention"), store.meta()]);
  const own = items.filter((item) => !state.user || ownedBy(item, state.user));
  own.forEach((item) => { item.action = ACTIONS[item.kind]; });
  client.postMessage({ type: "attention", items: own.sort((a, b) => a.id - b.id) });
}

async function hello(data) {
  // A page was opened or navigated to, online: send what waits, keep the week's pages fresh.
  await broadcast();
  if (!data.online) return;
  if ((await store.all("queue")).length) await sync().catch(() => {});
  if (data.user) await refresh(false, data.user);
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  let work = Promise.resolve();
  if (data.type === "hello") {
    work = hello(data);
  } else if (data.type === "sync") {
    work = sync().catch(() => {});
  } else if (data.type === "attention") {
    work = attentionList(event.source);
  } else if (data.type === "discard" || data.type === "resolved") {
    work = store.remove("attention", data.id).then(broadcast).then(() => attentionList(event.source));
  } else if (data.type === "retry") {
    work = retry(store, data.id, uuid()).then(() => attentionList(event.source)).then(() => sync().catch(() => {}));
  }
  // A retry the work scheduled (the server was busy) keeps the worker awake until it is done.
  event.waitUntil(work.then(() => retrying));
});

/* ---- lifecycle ---- */

self.addEventListener("install", (event) => {
  event.waitUntil(precacheShell(event, SETTINGS_URL)
    .then((config) => shellRoutes(event, config))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((names) => Promise.all(
    names.filter((name) => name.startsWith("tpweb-shell-") && name !== SHELL).map((name) => caches.delete(name)),
  )).then(() => self.clients.claim()).then(broadcast));
});

const routes = router(writeHandler({
  settings, store, enqueue, sync, syncLater, counted,
  signedOut: () => forgetPages().then(() => store.setMeta({ user: "", refreshedAt: 0 })),
}));

self.addEventListener("fetch", (event) => {
  const answer = routes.handleRequest({ event, request: event.request });
  if (answer) event.respondWith(answer);
});

self.addEventListener("sync", (event) => {
  // Background Sync: a rejection tells the browser to try again later.
  if (event.tag !== TAG) return;
  event.waitUntil(sync().then(async () => {
    const [items, state] = await Promise.all([store.all("queue"), store.meta()]);
    if (items.length && !state.needsSignIn) throw new Error("still waiting");
  }));
});

// Reminder notifications: shown on a push, opening their item on a tap.
listenForPushes(self);

// The worker starting (the browser wakes it for a page or an event): send what waits; know which
// requests are the map's tiles.
sync().catch(() => {});
settings().then(knowTiles).catch(() => {});
