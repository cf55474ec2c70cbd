/* Map tiles the phone has shown, kept so that an area seen this week shows its streets offline.
   Only tiles the map itself asked for are kept, never fetched ahead (OpenStreetMap's tile policy
   forbids bulk prefetch); at most MAX_TILES, the least recently shown going first, none kept
   longer than KEEP_DAYS (Workbox's ExpirationPlugin). Cache-first: a tile kept is not asked for
   again, which spares the tile server too. The tile URL template comes from /offline/shell.

   A tile is asked for with CORS first, so that what is kept is a readable 200 of its real size;
   a tile server that sends no CORS headers gets the image's own no-cors request, whose opaque
   answer is kept too (as Workbox's CacheableResponsePlugin with statuses [0, 200] would), though
   browsers count each such answer as several megabytes: a quota error empties this cache
   (purgeOnQuotaError) rather than fail the app's other caches.

   Ahead of a visit, only where the operator runs their own tile server (TPWEB_TILE_PREFETCH, which
   the server never allows for OpenStreetMap's): the refresh keeps the tiles around each of the
   week's accounts too, AHEAD_ZOOMS each a 3x3 block, at most AHEAD_MOST, well inside the bound. */
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

// Tile servers found to send no CORS headers (their no-cors answer came when CORS failed): asked
// no-cors at once from then on, rather than twice for every tile.
const withoutCors = new Set();

class TileFirst extends Strategy {
  async _handle(request, handler) {
    const kept = await handler.cacheMatch(request);
    if (kept) return kept;
    const origin = new URL(request.url).origin;
    let response;
    try {
      if (withoutCors.has(origin)) throw new Error("no CORS");
      response = await handler.fetch(new Request(request.url, {
        mode: "cors", credentials: "omit", referrer: request.referrer, referrerPolicy: request.referrerPolicy,
      }));
    } catch {
      response = await handler.fetch(request);
      if (response.type === "opaque") withoutCors.add(origin);
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

/* ---- ahead of a visit (the operator's own tile server only) ---- */

export const AHEAD_ZOOMS = [14, 15, 16];
export const AHEAD_MOST = 1000;

// The tile (x, y) at `zoom` holding a place (Web Mercator, as Leaflet numbers them).
export function tileAt(lat, lng, zoom) {
  const n = 2 ** zoom;
  const rad = (Math.max(-85.0511, Math.min(85.0511, lat)) * Math.PI) / 180;
  const x = Math.floor(((lng + 180) / 360) * n);
  const y = Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n);
  const inside = (value) => Math.max(0, Math.min(n - 1, value));
  return [inside(x), inside(y)];
}

// Leaflet's default subdomains, and its choice among them for a tile (GridLayer's _getSubdomain):
// the map asks for a tile by the very URL kept ahead, so that the cache answers it.
const SUBDOMAINS = "abc";

function tileUrl(template, origin, z, x, y) {
  const s = SUBDOMAINS[Math.abs(x + y) % SUBDOMAINS.length];
  const url = template.replace("{z}", z).replace("{x}", x).replace("{y}", y).replace("{s}", s).replace("{r}", "");
  return new URL(url, origin).href;
}

// The tiles around `places` ([lat, lng] pairs), each zoom for every place before the next zoom,
// so that the bound cuts the closest views last.
export function tilesAround(template, places, origin) {
  const urls = new Set();
  for (const zoom of AHEAD_ZOOMS) {
    for (const [lat, lng] of places) {
      const [x, y] = tileAt(lat, lng, zoom);
      for (const dx of [-1, 0, 1]) {
        for (const dy of [-1, 0, 1]) urls.add(tileUrl(template, origin, zoom, x + dx, y + dy));
      }
    }
  }
  return [...urls].slice(0, AHEAD_MOST);
}

// A tile kept ahead goes through the same strategy (kept once, the bound applies); no page waits.
const unattended = { waitUntil: (promise) => promise.catch(() => {}) };

export function keepTile(url) {
  return tiles().handle({ event: unattended, request: new Request(url, { credentials: "omit" }) }).catch(() => null);
}
