/* The worker's settings: its version and where its settings are (its own URL's ?v= and ?shell=),
   and the app's URLs from /offline/shell, kept with the shell for when there is no network. */
const here = new URL(self.location.href);
export const SETTINGS_URL = here.searchParams.get("shell");
export const VERSION = here.searchParams.get("v") || "dev";
export const SHELL = "tpweb-shell-" + VERSION;

let loading = null;

// A URL template's pattern: its {id} matches the id, the rest only itself.
function pattern(template) {
  const [head, tail] = template.split("{id}").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp("^" + head + "(\\d+)" + tail + "$");
}

export function settings() {
  if (!loading) {
    loading = caches.open(SHELL)
      .then((cache) => cache.match(SETTINGS_URL))
      .then((kept) => kept || fetch(SETTINGS_URL, { credentials: "same-origin" }))
      .then((response) => response.json())
      .then((config) => {
        config.patterns = Object.fromEntries(Object.entries(config.writes).map(([kind, url]) => [kind, pattern(url)]));
        return config;
      })
      .catch((error) => {
        loading = null;
        throw error;
      });
  }
  return loading;
}

export function writeKind(config, path) {
  return Object.keys(config.patterns).find((kind) => config.patterns[kind].test(path));
}

export function idIn(config, kind, path) {
  const match = config.patterns[kind].exec(path);
  return match ? match[1] : null;
}

export function urlFor(template, id) {
  return template.replace("{id}", encodeURIComponent(id));
}
