/* Map tiles the phone has shown, kept so that an area seen this week shows its streets offline.
   Only tiles the map itself asked for are kept, never fetched ahead (OpenStreetMap's tile policy
   forbids bulk prefetch); at most MAX_TILES, the least recently shown going first, none kept
   longer than KEEP_DAYS (Workbox's ExpirationPlugin). Cache-first: a tile kept is not asked for
   again, which spares the tile server too. The tile URL template comes from /offline/shell.

   A tile is asked for with CORS first, so that what is kept is a readable 200 of its real size;
   a tile server that sends no CORS headers gets the image's own no-cors request, whose opaque
   answer is kept too (as Workbox's CacheableResponsePlugin with statuses [0, 200] would), though
   browsers count each such answer as several megabytes: a quota error empties this cache
   (purgeOnQuotaError) rather than fail the app's other caches. */
import { ExpirationPlugin, Strategy } from "../vendor/workbox-7.4.1/workbox.js";

export const TILES = "tpweb-tiles";
export const MAX_TILES = 3000;
export const KEEP_DAYS = 30;
export const EXPIRY = { maxEntries: MAX_TILES, maxAgeSeconds: KEEP_DAYS * 86400, purgeOnQuotaError: true };

const PLACES = { "\\{z\\}": "\\d+", "\\{x\\}": "\\d+", "\\{y\\}": "\\d+", "\\{s\\}": "[a-z0-9-]+", "\\{r\\}": "(?:@2x)?" };

// The URLs a Leaflet tile URL template stands for, as a RegExp over whole URLs; null for none.
export function tilePattern(template, origin) {
  let url = template || "";
  if (url.startsWith("//")) url = new URL(origin).protocol + url;
  else if (url.startsWith("/")) url = new URL(origin).origin + url;
  if (!/^https?:\/\//.test(url)) return null;
  let source = url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  Object.entries(PLACES).forEach(([place, part]) => { source = source.split(place).join(part); });
  return new RegExp("^" + source + "$");
}

// Kept: a whole tile, or an opaque answer (whose status cannot be read).
export const cacheable = {
  cacheWillUpdate: async ({ response }) => (response.status === 200 || response.type === "opaque" ? response : null),
};

class TileFirst extends Strategy {
  async _handle(request, handler) {
    const kept = await handler.cacheMatch(request);
    if (kept) return kept;
    let response;
    try {
      response = await handler.fetch(new Request(request.url, {
        mode: "cors", credentials: "omit", referrer: request.referrer, referrerPolicy: request.referrerPolicy,
      }));
    } catch {
      response = await handler.fetch(request);
    }
    await handler.cachePut(request, response.clone());
    return response;
  }
}

let strategy = null;

export function tiles() {
  if (!strategy) strategy = new TileFirst({ cacheName: TILES, plugins: [cacheable, new ExpirationPlugin(EXPIRY)] });
  return strategy;
}

// The worker's settings, once loaded: which requests are tiles.
let pattern = null;

export function knowTiles(config) {
  pattern = tilePattern(config.tiles, self.location.origin);
  return pattern;
}

// `config`: the settings, for a request that came before the worker knew them.
export function isTile(url, config) {
  if (!pattern && config) knowTiles(config);
  return !!pattern && pattern.test(url.href);
}
