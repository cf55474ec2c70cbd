// Copies the offline client's libraries from node_modules into static/vendor/ (`npm run vendor`),
// so that the served copy is reproducible from package-lock.json and comes from the app's origin.
// Workbox ships ES modules that import each other by package name, which a service worker cannot
// resolve: the parts the worker uses are bundled into one ES module (production build, no dev
// logging). idb ships one ES module, copied as it is. Each goes beside its licence.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, rmSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const vendor = join(root, "static", "vendor");
const version = (name) => JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"))).version;

function fresh(prefix, name) {
  for (const entry of readdirSync(vendor)) {
    if (entry.startsWith(prefix)) rmSync(join(vendor, entry), { recursive: true });
  }
  const folder = join(vendor, name);
  mkdirSync(folder, { recursive: true });
  return folder;
}

const workbox = fresh("workbox-", `workbox-${version("workbox-core")}`);
await build({
  stdin: {
    contents: [
      'export { PrecacheController } from "workbox-precaching/PrecacheController.js";',
      'export { Router } from "workbox-routing/Router.js";',
      'export { Route } from "workbox-routing/Route.js";',
      'export { NetworkFirst } from "workbox-strategies/NetworkFirst.js";',
      'export { NetworkOnly } from "workbox-strategies/NetworkOnly.js";',
      'export { CacheFirst } from "workbox-strategies/CacheFirst.js";',
      'export { CacheExpiration } from "workbox-expiration/CacheExpiration.js";',
      'export { ExpirationPlugin } from "workbox-expiration/ExpirationPlugin.js";',
      'export { Strategy } from "workbox-strategies/Strategy.js";',
    ].join("\n"),
    resolveDir: root,
  },
  bundle: true,
  format: "esm",
  minify: true,
  legalComments: "none",
  define: { "process.env.NODE_ENV": '"production"' },
  banner: { js: `/* Workbox ${version("workbox-core")} (MIT, see LICENSE): precaching, routing, strategies, expiration. */` },
  outfile: join(workbox, "workbox.js"),
});
copyFileSync(join(root, "node_modules", "workbox-core", "LICENSE"), join(workbox, "LICENSE"));

const idb = fresh("idb-", `idb-${version("idb")}`);
copyFileSync(join(root, "node_modules", "idb", "build", "index.js"), join(idb, "index.js"));
copyFileSync(join(root, "node_modules", "idb", "LICENSE"), join(idb, "LICENSE"));
