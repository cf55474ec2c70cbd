// ESLint (flat config) for the offline client, the map and the location picker; `make lint`.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["static/vendor/", "node_modules/", ".venv/", "mutants/", "bench/", "instance/", "build/"] },
  js.configs.recommended,
  {
    // The page side: classic scripts, each in its own function scope.
    files: ["static/*.js"],
    ignores: ["static/sw.js", "static/offline.js", "static/push.js"],
    languageOptions: { sourceType: "script", globals: { ...globals.browser } },
  },
  {
    // Leaflet and htmx, each loaded by its own <script> before these.
    files: ["static/map-frame.js", "static/plan-frame.js", "static/location-picker.js"],
    languageOptions: { globals: { L: "readonly" } },
  },
  { files: ["static/map.js"], languageOptions: { globals: { htmx: "readonly" } } },
  {
    // The service worker and its modules (a module worker), and the page side's modules.
    files: ["static/sw.js", "static/sw/**/*.js", "static/offline.js", "static/offline/**/*.js", "static/push.js"],
    languageOptions: {
      sourceType: "module",
      globals: { ...globals.serviceworker, ...globals.browser },
    },
  },
  {
    files: ["tests/js/**/*.mjs", "scripts/**/*.mjs", "eslint.config.js"],
    languageOptions: { sourceType: "module", globals: { ...globals.node } },
  },
  { rules: { "no-unused-vars": ["error", { caughtErrors: "none" }] } },
];
