/* Reading, with Workbox: the app shell precached per version and served cache-first (by the
   browser itself, without this script, where it has the Static Routing API); pages and htmx
   fragments network-first, falling back after TIMEOUT, at once when the network fails or the
   browser knows it is offline, or when a proxy answers 502-504, to the copy kept (kept.js). */
import { CacheFirst, NetworkFirst, PrecacheController, Route, Router } from "../vendor/workbox-7.4.1/workbox.js";
import { SHELL, settings } from "./config.js";
import { FRAGMENTS, PAGES, asKept, cacheFor, fromKept, keepable, keptAt, labelled, nothingKept } from "./kept.js";
import { unavailable } from "./queue.js";
import { isTile, tiles } from "./tiles.js";

const TIMEOUT_SECONDS = 3;

// Requests a page is waiting for; the refresh holds back while there are any.
let pageRequests = 0;

export function busy() {
  pageRequests += 1;
  let done = false;
  return () => {
    if (!done) pageRequests -= 1;
    done = true;
  };
}

export function idle() {
  return pageRequests ? new Promise((resolve) => setTimeout(resolve, 100)).then(idle) : Promise.resolve();
}

// What a page's request does beside network-first itself: counted while it waits; kept labelled,
// and only what may be kept; a kept copy labelled if an older worker kept it; with nothing kept,
// the proxy's failed answer or nothingKept.
function keeping(config, cacheName) {
  return {
    requestWillFetch: async ({ request, state }) => {
      state.done = busy();
      return request;
    },
    fetchDidSucceed: async ({ response, state }) => {
      state.done();
      if (!unavailable(response)) return response;
      state.failed = response; // a proxy's "the app is down" is no better than no network
      throw new Error("HTTP " + response.status);
    },
    fetchDidFail: async ({ state }) => state.done && state.done(),
    cacheWillUpdate: async ({ request, response }) =>
      keepable(config, request.url, response) ? labelled(cacheName, response) : null,
    cacheDidUpdate: async ({ request }) => keptAt(cacheName, request.url),
    cachedResponseWillBeUsed: async ({ cachedResponse }) => asKept(cacheName, cachedResponse),
    handlerDidError: async ({ request, state }) => state.failed || nothingKept(request, config),
  };
}

const strategies = new WeakMap();

function networkFirst(config) {
  if (!strategies.has(config)) {
    const make = (cacheName) => new NetworkFirst({
      cacheName, networkTimeoutSeconds: TIMEOUT_SECONDS, matchOptions: { ignoreVary: true },
      plugins: [keeping(config, cacheName)],
    });
    strategies.set(config, { [PAGES]: make(PAGES), [FRAGMENTS]: make(FRAGMENTS) });
  }
  return strategies.get(config);
}

const shellFiles = new CacheFirst({ cacheName: SHELL, matchOptions: { ignoreVary: true } });

async function page({ event, request, url }) {
  const config = await settings().catch(() => null);
  if (!config) return fetch(request);
  if (isTile(url, config)) return tiles().handle({ event, request });
  if (url.pathname.startsWith(config.static)) return shellFiles.handle({ event, request });
  if (url.pathname === config.urls) return fetch(request);
  const cacheName = cacheFor(request);
  if (self.navigator.onLine === false) {
    // navigator.onLine is never false with a network: this is no guess that could hide one.
    const kept = await fromKept(cacheName, request.url);
    return kept || fetch(request).catch(() => nothingKept(request, config));
  }
  return networkFirst(config)[cacheName].handle({ event, request });
}

// Map tiles (tiles.js), from wherever the map takes them; other same-origin GETs are read;
// same-origin POSTs (not a form's navigation) go to `write`.
export function router(write) {
  const routes = new Router();
  routes.registerRoute(new Route(({ url, sameOrigin }) => !sameOrigin && isTile(url), ({ event, request }) => tiles().handle({ event, request }), "GET"));
  routes.registerRoute(new Route(({ sameOrigin }) => sameOrigin, page, "GET"));
  routes.registerRoute(new Route(({ sameOrigin, request }) => sameOrigin && request.mode !== "navigate", write, "POST"));
  return routes;
}

// The shell, for this version, in its own cache; with the settings it came with.
export async function precacheShell(event, settingsUrl) {
  const response = await fetch(settingsUrl, { credentials: "same-origin" });
  if (!response.ok) throw new Error("no shell settings");
  const copy = response.clone();
  const config = await response.json();
  const precache = new PrecacheController({ cacheName: SHELL });
  precache.addToCacheList(config.files.map((url) => ({ url, revision: null })));
  await precache.install(event);
  await (await caches.open(SHELL)).put(settingsUrl, copy);
  return config;
}

// The shell's static files straight from this version's cache, without running this script for
// each (the Static Routing API, where the browser has it): a page's CSS and scripts then arrive
// as soon as it asks, online or not. A file missing from the cache still goes to the network;
// any other static file still goes through the router, which keeps it.
export function shellRoutes(event, config) {
  if (typeof event.addRoutes !== "function") return null;
  const rules = config.files.filter((path) => path.startsWith(config.static)).map((path) => ({
    condition: { urlPattern: { pathname: path.replace(/[\\:*?+(){}]/g, "\\$&") } },
    source: { cacheName: SHELL },
  }));
  return event.addRoutes(rules).catch(() => { /* an older browser: the router serves them */ });
}
