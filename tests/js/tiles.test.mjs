// The map tiles the worker keeps (static/sw/tiles.js): which requests are tiles, what is kept, and
// the bound on how many (Workbox's expiration, on fake-indexeddb and a fake CacheStorage).
import "fake-indexeddb/auto";
import assert from "node:assert/strict";
import { describe, it } from "node:test";

// The worker's globals the module and Workbox read.
globalThis.self = globalThis;
globalThis.location = new URL("https://app.example/sw.js");
const kept = new Map();
globalThis.caches = {
  open: async (name) => {
    if (!kept.has(name)) kept.set(name, new Set());
    const urls = kept.get(name);
    return { delete: async (url) => urls.delete(String(url)), put: async (url) => urls.add(String(url)) };
  },
};

const { CacheExpiration } = await import("../../static/vendor/workbox-7.4.1/workbox.js");
const { EXPIRY, MAX_TILES, TILES, cacheable, tilePattern } = await import("../../static/sw/tiles.js");

describe("which requests are tiles", () => {
  it("is OpenStreetMap's template, and nothing else of that server", () => {
    const osm = tilePattern("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://app.example");
    assert.ok(osm.test("https://tile.openstreetmap.org/15/8412/12178.png"));
    assert.ok(!osm.test("https://tile.openstreetmap.org/15/8412/12178.png?x=1"));
    assert.ok(!osm.test("https://tile.openstreetmap.org/copyright"));
    assert.ok(!osm.test("https://evil.example/15/8412/12178.png"));
  });

  it("takes {s} subdomains and {r} for retina tiles", () => {
    const carto = tilePattern("https://{s}.tiles.example/{z}/{x}/{y}{r}.png", "https://app.example");
    assert.ok(carto.test("https://a.tiles.example/3/4/5.png"));
    assert.ok(carto.test("https://b.tiles.example/3/4/5@2x.png"));
    assert.ok(!carto.test("https://tiles.example/3/4/5.png"));
  });

  it("reads a template on the app's own origin, query and all", () => {
    const own = tilePattern("/static/tiles.png?z={z}&x={x}&y={y}", "https://app.example");
    assert.ok(own.test("https://app.example/static/tiles.png?z=1&x=2&y=3"));
    assert.ok(!own.test("https://app.example/static/tiles.png"));
    assert.ok(!own.test("https://app.example/static/tilesXpng?z=1&x=2&y=3"));
  });

  it("is nothing when the map has no tiles", () => {
    assert.equal(tilePattern("", "https://app.example"), null);
  });
});

describe("what is kept", () => {
  const keep = (response) => cacheable.cacheWillUpdate({ response });

  it("is a whole tile, or an opaque answer from a server without CORS", async () => {
    const ok = new Response("png", { status: 200 });
    assert.equal(await keep(ok), ok);
    const opaque = { type: "opaque", status: 0 };
    assert.equal(await keep(opaque), opaque);
  });

  it("is never an error or a part", async () => {
    assert.equal(await keep(new Response("", { status: 404 })), null);
    assert.equal(await keep(new Response("", { status: 206 })), null);
    assert.equal(await keep(new Response("", { status: 503 })), null);
  });
});

describe("the bound", () => {
  it("is a few thousand tiles, kept a month at most, emptied rather than fail on a full quota", () => {
    assert.equal(MAX_TILES, 3000);
    assert.deepEqual(EXPIRY, { maxEntries: 3000, maxAgeSeconds: 30 * 86400, purgeOnQuotaError: true });
  });

  it("lets the least recently shown go first", async () => {
    // The same rule, at a bound of 3 tiles rather than 3000.
    const expiry = new CacheExpiration(TILES, { ...EXPIRY, maxEntries: 3 });
    const cache = await globalThis.caches.open(TILES);
    const urls = [1, 2, 3, 4, 5].map((n) => `https://tile.example/1/1/${n}.png`);
    for (const url of urls) {
      await cache.put(url);
      await expiry.updateTimestamp(url);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // Tile 1 shown again: now it is the most recent.
    await expiry.updateTimestamp(urls[0]);
    await expiry.expireEntries();
    assert.deepEqual([...kept.get(TILES)].sort(), [urls[0], urls[3], urls[4]].sort());
  });
});

describe("tiles ahead of a visit (the operator's own tile server only)", async () => {
  const { AHEAD_MOST, tileAt, tilesAround } = await import("../../static/sw/tiles.js");

  it("finds the tile holding a place as Leaflet numbers them", () => {
    assert.deepEqual(tileAt(0.0001, 0.0001, 1), [1, 0]);
    assert.deepEqual(tileAt(41.85, -87.65, 10), [262, 380]); // Chicago
    assert.deepEqual(tileAt(89.9, 180, 2), [3, 0]); // the edges stay on the map
  });

  it("keeps a 3x3 block at each of three zooms around a place, in the template's words", () => {
    const urls = tilesAround("/tiles/{z}/{x}/{y}.png", [[41.85, -87.65]], "https://app.example");
    assert.equal(urls.length, 27);
    assert.ok(urls.includes("https://app.example/tiles/14/4202/6091.png"), urls.slice(0, 9));
    assert.ok(urls.every((url) => /^https:\/\/app\.example\/tiles\/1[456]\/\d+\/\d+\.png$/.test(url)));
  });

  it("asks each tile of its subdomain as Leaflet does, so that the map finds it kept", () => {
    const urls = tilesAround("https://{s}.tiles.example/{z}/{x}/{y}.png", [[41.85, -87.65]], "https://app.example");
    // Leaflet: subdomains "abc"[|x + y| % 3]; 4202 + 6091 = 10293, a multiple of 3.
    assert.ok(urls.includes("https://a.tiles.example/14/4202/6091.png"));
    assert.ok(urls.includes("https://b.tiles.example/14/4203/6091.png"));
    assert.ok(urls.includes("https://c.tiles.example/14/4203/6092.png"));
    assert.equal(new Set(urls.map((url) => new URL(url).host)).size, 3);
  });

    it("is bounded, well inside the cache's own bound, the closest views cut first", () => {
    const places = Array.from({ length: 60 }, (_, i) => [40 + i * 0.05, -88 + i * 0.05]);
    const urls = tilesAround("https://tiles.example/{z}/{x}/{y}.png", places, "https://app.example");
    assert.equal(urls.length, AHEAD_MOST);
    assert.ok(AHEAD_MOST <= EXPIRY.maxEntries / 2);
    assert.ok(urls.some((url) => url.includes("/14/")) && !urls.some((url) => url.includes("/16/")));
  });
});
