/* Keeping the coming week: after sign-in and on online visits, the pages and fragments
   /offline/urls names for the signed-in user are fetched and kept, two at a time and none while
   a page waits for a request (pages.js's idle), then what was not kept again for days expires.
   Where the operator's own tile server allows it, the tiles around the week's accounts too. */
import { settings } from "./config.js";
import { FRAGMENTS, PAGES, forgetPages, keep, keepable, prune } from "./kept.js";
import { idle } from "./pages.js";
import { keepTile, tilesAround } from "./tiles.js";

// A visit refreshes what is kept at most this often; a new user, or a sent queue, at once.
const REFRESH_EVERY = 10 * 60 * 1000;
const PARALLEL = 2;

// The signed-in user, a fresh CSRF token and the URLs to keep; null when nobody is signed in.
export async function session(config) {
  const response = await fetch(config.urls, { credentials: "same-origin", headers: { "HX-Request": "true" }, cache: "no-store" });
  if (response.status === 401 || response.redirected) return null;
  if (!response.ok) throw new Error("HTTP " + response.status);
  return response.json();
}

async function fetchAndKeep(config, [path, cacheName, headers]) {
  const url = new URL(path, self.location.origin).href;
  try {
    const response = await fetch(url, { credentials: "same-origin", headers });
    if (keepable(config, url, response)) await keep(cacheName, url, response);
  } catch {
    // not kept this time
  }
}

function inParallel(jobs, work) {
  const queue = jobs.slice();
  async function worker() {
    await idle();
    const job = queue.shift();
    if (job) await work(job).then(worker);
  }
  return Promise.all(Array.from({ length: PARALLEL }, worker));
}

// `store` and `broadcast` are the worker's (sw.js).
export function refresher(store, broadcast) {
  let refreshing = null;

  async function refreshPages(state) {
    const config = await settings();
    const who = await session(config);
    if (!who) return;
    if (String(state.user || "") !== String(who.user)) await forgetPages();
    const jobs = [
      ...who.pages.map((url) => [url, PAGES, {}]),
      ...who.fragments.map((url) => [url, FRAGMENTS, { "HX-Request": "true" }]),
    ];
    await store.setMeta({ user: String(who.user) });
    await broadcast();
    await inParallel(jobs, (job) => fetchAndKeep(config, job));
    await prune();
    await store.setMeta({ refreshedAt: Date.now(), saved: who.touchpoints });
    if (config.tile_prefetch && config.tiles && who.places && who.places.length) {
      await broadcast(); // ready offline; the streets follow
      await inParallel(tilesAround(config.tiles, who.places, self.location.origin), keepTile);
    }
  }

  // `pageUser`: the user the page says is signed in; a visit by the same user within
  // REFRESH_EVERY of the last refresh costs nothing.
  function refresh(force, pageUser) {
    if (!refreshing) {
      refreshing = store.meta().then((state) => {
        const fresh = Date.now() - (state.refreshedAt || 0) < REFRESH_EVERY;
        if (!force && fresh && String(state.user || "") === String(pageUser)) return null;
        return refreshPages(state);
      }).catch(() => {}).finally(() => {
        refreshing = null;
        broadcast();
      });
    }
    return refreshing;
  }

  return { refresh, isRefreshing: () => !!refreshing };
}
