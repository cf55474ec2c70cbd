/* The pages and htmx fragments kept for offline use, each cache apart (htmx's HX-Request), so one
   never answers for the other. A copy is labelled when kept, with when it was kept (X-Offline-From
   for htmx, and data-offline-from on a whole page's <body>, since a page cannot read the headers
   of its own load), so the offline answer is the kept copy as it is; only a kept copy carries
   either label. Pages not kept again for KEEP_DAYS expire (Workbox's CacheExpiration). */
import { CacheExpiration } from "../vendor/workbox-7.4.1/workbox.js";

export const PAGES = "tpweb-pages";
export const FRAGMENTS = "tpweb-fragments";
const STORED = "X-Tpweb-Stored";
const KEEP_DAYS = 14;
const expiry = Object.fromEntries([PAGES, FRAGMENTS].map((name) => [name, new CacheExpiration(name, { maxAgeSeconds: KEEP_DAYS * 86400 })]));

export function isFragment(request) {
  return request.headers.get("HX-Request") === "true" && request.headers.get("HX-Boosted") !== "true";
}

export function cacheFor(request) {
  return isFragment(request) ? FRAGMENTS : PAGES;
}

export async function labelled(cacheName, response, when) {
  when = String(when || new Date().toISOString()).replace(/[^0-9TZ:.+-]/g, ""); // it goes into HTML
  const headers = new Headers(response.headers);
  headers.delete("Content-Length");
  headers.set(STORED, when);
  headers.set("X-Offline-From", when);
  const page = cacheName === PAGES && /text\/html/.test(headers.get("Content-Type") || "");
  const body = page ? (await response.text()).replace("<body", '<body data-offline-from="' + when + '"') : await response.blob();
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

// A copy kept by an older worker, which labelled as it served: labelled here, until the next
// refresh keeps it anew.
export function asKept(cacheName, kept) {
  if (!kept || kept.headers.has("X-Offline-From")) return kept || null;
  return labelled(cacheName, kept, kept.headers.get(STORED));
}

// Opened once per worker (a page's answer offline waits for no more than its lookup).
let opened = {};

function openKept(cacheName) {
  if (!opened[cacheName]) opened[cacheName] = caches.open(cacheName);
  return opened[cacheName];
}

// For expiry: when `url` was kept.
export function keptAt(cacheName, url) {
  return expiry[cacheName].updateTimestamp(url);
}

export async function keep(cacheName, url, response) {
  const copy = await labelled(cacheName, response);
  await (await openKept(cacheName)).put(url, copy);
  await keptAt(cacheName, url);
}

export function keepable(config, url, response) {
  const type = response.headers.get("Content-Type") || "";
  return response.status === 200 && response.type === "basic" && !response.redirected &&
    /text\/html|application\/json/.test(type) && new URL(url).pathname !== config.login;
}

export async function fromKept(cacheName, url) {
  const cache = await openKept(cacheName);
  return asKept(cacheName, await cache.match(url, { ignoreVary: true }));
}

// Nothing kept: the offline page for a page, a 503 that says so for a fragment.
export async function nothingKept(request, config) {
  if (request.mode === "navigate") {
    const page = await caches.match(config.offline, { ignoreVary: true });
    return page || new Response("No connection.", { status: 503, headers: { "Content-Type": "text/plain" } });
  }
  return new Response("Not saved on this phone for offline use.", {
    status: 503,
    headers: { "Content-Type": "text/plain; charset=utf-8", "X-Offline-Missing": "1" },
  });
}

export function forgetPages() {
  opened = {};
  return Promise.all([caches.delete(PAGES), caches.delete(FRAGMENTS)]);
}

// Pages nobody kept again for KEEP_DAYS go, so the phone's storage does not grow for ever.
export function prune() {
  return Promise.all(Object.values(expiry).map((expiration) => expiration.expireEntries()));
}
