/* tpweb's service worker: the app with no signal.

   Reading: the app shell (CSS, JS, htmx, Leaflet, icons, the offline page) is precached per version
   and served cache-first (by the browser itself, without this script, where it has static
   routes); pages and htmx fragments go to the network first and fall back, after TIMEOUT or at
   once when the network fails or the browser knows it is offline, to the last answer kept, which
   was marked when it was kept with the time it was kept and is served as it is.
   A fragment and a whole page are kept apart (htmx's HX-Request), so one never answers for the
   other. After sign-in and on online visits the pages of the rep's coming week are fetched ahead.

   Writing: Complete (both steps), Reschedule, Create Touchpoint and Record response are queued in
   IndexedDB when there is no network, each with its Idempotency-Key, the version it was based on
   and its time, and htmx gets a small fragment saying so (202). The queue is sent in the order it
   was made, each with its own key so the server applies it once: on the page's `online` event,
   when the worker starts, on Background Sync and on "Sync now". Only a 2xx takes an item off; 409,
   422 and other refusals move it to Needs your attention; 401 or a refused CSRF token keeps it and
   asks the rep to sign in; a network failure keeps it for the next try. A write sent online that
   the server answers 502, 503 or 504 (busy, restarting, its database out of reach) was not taken
   either: it is queued like one made offline, and the queue goes again after the Retry-After the
   server gave. Workbox is not used: its replay counts any HTTP answer as done.

   The worker is the only writer of IndexedDB; static/offline.js asks it for the state by message. */
"use strict";

var SETTINGS_URL = new URL(self.location.href).searchParams.get("shell");
var VERSION = new URL(self.location.href).searchParams.get("v") || "dev";
var SHELL = "tpweb-shell-" + VERSION;
var PAGES = "tpweb-pages";
var FRAGMENTS = "tpweb-fragments";
var TIMEOUT = 3000;
// A write waits longer than a read for its answer: it may already be saved when it times out, and
// then it is queued and sent again, which its Idempotency-Key makes harmless.
var WRITE_TIMEOUT = 10000;
// A visit refreshes what is kept at most this often; a new user, or a sent queue, at once.
var REFRESH_EVERY = 10 * 60 * 1000;
var KEEP_DAYS = 14;
// The refresh is background work: two requests at a time, and none while a page waits for one.
var PARALLEL = 2;
var STORED = "X-Tpweb-Stored";
var TAG = "tpweb-queue";
// After a 502-504, the queue goes again in the server's Retry-After seconds (RETRY_SECONDS if it
// gave none, RETRY_MOST at most), RETRY_TRIES times in a row at most; after that, at the usual
// moments (a page opened, `online`, Background Sync, "Sync now").
var RETRY_SECONDS = 5;
var RETRY_MOST = 60;
var RETRY_TRIES = 10;
var SERVER_TROUBLE = "The server could not take a change just now; it will be tried again.";

/* ---- settings: the app's own URLs, from /offline/shell, kept with the shell ---- */

var settingsPromise = null;

function settings() {
  if (!settingsPromise) {
    settingsPromise = caches.open(SHELL)
      .then(function (cache) { return cache.match(SETTINGS_URL); })
      .then(function (kept) { return kept || fetch(SETTINGS_URL, { credentials: "same-origin" }); })
      .then(function (response) { return response.json(); })
      .then(function (config) {
        config.patterns = {};
        Object.keys(config.writes).forEach(function (kind) {
          var source = config.writes[kind].replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace("/0", "/(\\d+)");
          config.patterns[kind] = new RegExp("^" + source + "$");
        });
        return config;
      })
      .catch(function (error) {
        settingsPromise = null;
        throw error;
      });
  }
  return settingsPromise;
}

function writeKind(config, path) {
  return Object.keys(config.patterns).find(function (kind) { return config.patterns[kind].test(path); });
}

function idIn(config, kind, path) {
  var match = config.patterns[kind].exec(path);
  return match ? match[1] : null;
}

/* ---- IndexedDB: queue (in the order made), attention, meta ---- */

var dbPromise = null;

function database() {
  if (!dbPromise) {
    dbPromise = new Promise(function (resolve, reject) {
      var open = indexedDB.open("tpweb-offline", 1);
      open.onupgradeneeded = function () {
        var db = open.result;
        db.createObjectStore("queue", { keyPath: "id", autoIncrement: true });
        db.createObjectStore("attention", { keyPath: "id" });
        db.createObjectStore("meta");
      };
      open.onsuccess = function () { resolve(open.result); };
      open.onerror = function () { dbPromise = null; reject(open.error); };
    });
  }
  return dbPromise;
}

// Run `work(store)` in one transaction; resolves with what `work` returned once it commits.
function transact(name, mode, work) {
  return database().then(function (db) {
    return new Promise(function (resolve, reject) {
      var transaction = db.transaction(name, mode);
      var result;
      transaction.oncomplete = function () { resolve(result && "result" in result ? result.result : result); };
      transaction.onerror = function () { reject(transaction.error); };
      transaction.onabort = function () { reject(transaction.error); };
      result = work(transaction.objectStore(name));
    });
  });
}

function all(name) {
  return transact(name, "readonly", function (store) { return store.getAll(); });
}

function put(name, value, key) {
  return transact(name, "readwrite", function (store) { return store.put(value, key); });
}

function remove(name, id) {
  return transact(name, "readwrite", function (store) { return store.delete(id); });
}

function meta() {
  return transact("meta", "readonly", function (store) { return store.get("state"); })
    .then(function (value) { return value || {}; });
}

// Read and write in one transaction, so that two changes at once do not undo each other.
function setMeta(changes) {
  return transact("meta", "readwrite", function (store) {
    var read = store.get("state");
    read.onsuccess = function () { store.put(Object.assign(read.result || {}, changes), "state"); };
  });
}

/* ---- caches ---- */

function isFragment(request) {
  return request.headers.get("HX-Request") === "true" && request.headers.get("HX-Boosted") !== "true";
}

// Labelled when kept, not when served: the offline answer is then the kept copy as it is, streamed
// from the cache without being read here. X-Offline-From is for htmx (the answer's headers); a
// whole page also carries it on its <body>, since a page cannot read the headers of its own load.
// Only a kept copy carries either, so they show only on an answer the network did not give.
function labelled(cacheName, response, when) {
  when = String(when || new Date().toISOString()).replace(/[^0-9TZ:.+-]/g, ""); // it goes into HTML
  var headers = new Headers(response.headers);
  headers.delete("Content-Length");
  headers.set(STORED, when);
  headers.set("X-Offline-From", when);
  var page = cacheName === PAGES && /text\/html/.test(headers.get("Content-Type") || "");
  var body = page ? response.text().then(function (html) {
    return html.replace("<body", '<body data-offline-from="' + when + '"');
  }) : response.blob();
  return body.then(function (content) {
    return new Response(content, { status: response.status, statusText: response.statusText, headers: headers });
  });
}

// The kept pages' and fragments' caches, opened once per worker (a page's answer offline waits
// for no more than its lookup); forgetPages() deletes them and forgets them here.
var opened = {};

function openKept(cacheName) {
  if (!opened[cacheName]) opened[cacheName] = caches.open(cacheName);
  return opened[cacheName];
}

function keep(cacheName, url, response) {
  return labelled(cacheName, response).then(function (copy) {
    return openKept(cacheName).then(function (cache) { return cache.put(url, copy); });
  });
}

function keepable(config, url, response) {
  var type = response.headers.get("Content-Type") || "";
  return response.status === 200 && response.type === "basic" && !response.redirected &&
    /text\/html|application\/json/.test(type) && new URL(url).pathname !== config.login;
}

// The kept answer, as it was kept (labelled then), or null.
function fromKept(cacheName, url) {
  return openKept(cacheName).then(function (cache) { return cache.match(url, { ignoreVary: true }); })
    .then(function (kept) {
      if (!kept || kept.headers.has("X-Offline-From")) return kept || null;
      // Kept by an older worker, which labelled as it served: labelled here, until the next
      // refresh keeps it anew.
      return labelled(cacheName, kept, kept.headers.get(STORED));
    });
}

function delay(ms) {
  return new Promise(function (resolve) { setTimeout(resolve, ms); });
}

// Requests a page is waiting for; the refresh holds back while there are any.
var pageRequests = 0;

function busy(promise) {
  pageRequests += 1;
  function done() { pageRequests -= 1; }
  promise.then(done, done);
  return promise;
}

function idle() {
  return pageRequests ? delay(100).then(idle) : Promise.resolve();
}

// The network's answer; after TIMEOUT the kept one if there is one; the kept one at once if the
// network fails, or without asking it when the browser knows it is offline; and if nothing was
// kept, the offline page (a page) or a 503 (a fragment).
function networkFirst(event, config) {
  var request = event.request;
  var cacheName = isFragment(request) ? FRAGMENTS : PAGES;
  if (self.navigator.onLine === false) {
    // navigator.onLine is never false with a network: this is no guess that could hide one.
    return fromKept(cacheName, request.url).then(function (kept) {
      return kept || fetch(request).catch(function () { return nothingKept(request, config); });
    });
  }
  var network = busy(fetch(request));
  event.waitUntil(network.then(function (response) {
    if (keepable(config, request.url, response)) return keep(cacheName, request.url, response.clone());
  }).catch(function () {}));
  return new Promise(function (resolve) {
    var answered = false;
    var timer = null;
    function answer(response) {
      if (response && !answered) {
        answered = true;
        clearTimeout(timer); // a page answered in time leaves no work behind for later
        resolve(response);
      }
    }
    function fallBack(failed) {
      return fromKept(cacheName, request.url).then(function (kept) {
        answer(kept || failed || nothingKept(request, config));
      });
    }
    network.then(function (response) {
      // A proxy's "the app is down" is no better than no network.
      if (response.status >= 502 && response.status <= 504) return fallBack(response);
      answer(response);
    }, function () { return fallBack(null); });
    timer = setTimeout(function () {
      if (!answered) fromKept(cacheName, request.url).then(answer);
    }, TIMEOUT);
  });
}

function nothingKept(request, config) {
  if (request.mode === "navigate") {
    return caches.match(config.offline, { ignoreVary: true }).then(function (page) {
      return page || new Response("No connection.", { status: 503, headers: { "Content-Type": "text/plain" } });
    });
  }
  return new Response("Not saved on this phone for offline use.", {
    status: 503,
    headers: { "Content-Type": "text/plain; charset=utf-8", "X-Offline-Missing": "1" }
  });
}

function cacheFirst(event) {
  // The shell's own cache: caches.match would look through the kept pages too.
  return caches.open(SHELL).then(function (cache) {
    return cache.match(event.request, { ignoreVary: true });
  }).then(function (kept) {
    if (kept) return kept;
    return fetch(event.request).then(function (response) {
      if (response.ok && response.type === "basic") {
        var copy = response.clone();
        event.waitUntil(caches.open(SHELL).then(function (cache) { return cache.put(event.request, copy); }));
      }
      return response;
    });
  });
}

function forgetPages() {
  opened = {};
  return Promise.all([caches.delete(PAGES), caches.delete(FRAGMENTS)]);
}

/* ---- writes: send, or queue and answer "pending" ---- */

function uuid() {
  if (self.crypto.randomUUID) return self.crypto.randomUUID();
  var bytes = self.crypto.getRandomValues(new Uint8Array(16));
  return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
}

function escapeHtml(text) {
  return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
  });
}

function described(request) {
  try {
    return JSON.parse(decodeURIComponent(request.headers.get("X-Tpweb-Offline") || "")) || {};
  } catch (error) {
    return {};
  }
}

// "Mon, Nov 23, 2026", as the cards say a date.
function longDate(iso) {
  var parts = iso.split("-").map(Number);
  return new Date(parts[0], parts[1] - 1, parts[2]).toLocaleDateString("en-US", {
    weekday: "short", month: "short", day: "numeric", year: "numeric"
  });
}

// The write's fields as the rep saw them: each field's label, a chosen option's words.
function fieldsOf(body, about) {
  var names = about.names || {};
  var choices = about.choices || {};
  var fields = [];
  new URLSearchParams(body).forEach(function (value, name) {
    if (!(name in names)) return; // the CSRF token, the version: not the rep's words
    if (name in choices) value = choices[name];
    else if (value === "y") value = "Yes";
    else if (/^\d{4}-\d{2}-\d{2}$/.test(value)) value = longDate(value);
    fields.push([names[name], value]);
  });
  return fields;
}

function versionIn(html, kind) {
  var pattern = kind === "edit" ? /data-version="(\d+)"/ : /<input[^>]*name="version"[^>]*value="(\d+)"/;
  var match = pattern.exec(html || "");
  return match ? Number(match[1]) : null;
}

function isCsrfRefusal(response, text) {
  return response.status === 400 && /CSRF/i.test(text);
}

// What each queueable write is, in the words of the forms.
var ACTIONS = { complete: "Call log", edit: "Touchpoint", record: "Touchpoint record", response: "Response" };

// The note static/offline.js turns into "Sent" or "Needs your attention" once the write is answered.
function pendingNote(text, item, badge) {
  return '<p class="offline-pending" role="status" data-offline-key="' + escapeHtml(item.key) + '"' +
    (item.calledOn ? ' data-called-on="' + escapeHtml(item.calledOn) + '"' : "") + ">" +
    (badge ? '<span class="badge badge--pending">Waiting to send</span> ' : "") +
    '<span class="offline-pending-text">' + escapeHtml(text) + "</span></p>";
}

function fieldList(item) {
  var rows = (item.fields || []).filter(function (pair) { return pair[1] !== ""; }).map(function (pair) {
    return "<dt>" + escapeHtml(pair[0]) + "</dt><dd>" + escapeHtml(pair[1]) + "</dd>";
  });
  return rows.length ? '<dl class="offline-fields">' + rows.join("") + "</dl>" : "";
}

var SAVED = {
  offline: "Saved on this phone — will send when online.",
  signin: "Saved on this phone — sign in to send it.",
  soon: "Saved on this phone — sending it in a moment.",
  busy: "Saved on this phone — the server is busy; sending it again shortly."
};

// What htmx swaps in for a queued write: it says so at once, in the place of the saved form.
function pendingAnswer(config, item, why) {
  var saved = SAVED[why];
  if (item.kind === "complete") {
    var step2 = config.writes.edit.replace("/0", "/" + item.touchpoint) + "?logged=1";
    return fromKept(FRAGMENTS, new URL(step2, self.location.origin).href).then(function (kept) {
      return kept ? kept.text() : "";
    }).then(function (form) {
      item.basedOn = versionIn(form, "complete");
      var note = pendingNote("Call log " + saved.charAt(0).toLowerCase() + saved.slice(1), item, true);
      return '<div class="offline-step">' + note + (form ||
        '<p class="empty">Step 2 (the next touchpoint) can be done once this is sent.</p>') + "</div>";
    });
  }
  // A touchpoint keeps its card's place (and id); a record or a response is an entry.
  var card = item.kind === "edit";
  var html = "<article class=\"" + (card ? "tp tp--pending" : "entry entry--pending") + "\" id=\"" +
    (card ? "touchpoint-" + escapeHtml(item.touchpoint) : "pending-" + escapeHtml(item.key)) + "\">" +
    "<header><div><strong>" + escapeHtml(item.label || "Your change") + "</strong><br><small>" +
    ACTIONS[item.kind] + "</small></div>" + '<span class="badge badge--pending">Waiting to send</span></header>' +
    pendingNote(saved, item) + fieldList(item) + "</article>";
  return Promise.resolve(html);
}

function answerPending(config, item, why) {
  return pendingAnswer(config, item, why).then(function (html) {
    return new Response(html, {
      status: 202,
      headers: { "Content-Type": "text/html; charset=utf-8", "X-Offline-Queued": item.key }
    });
  });
}

function send(item, token, extraHeaders) {
  var body = new URLSearchParams(item.body);
  if (token) body.set("csrf_token", token);
  var headers = new Headers(extraHeaders || {});
  headers.set("Content-Type", "application/x-www-form-urlencoded");
  headers.set("HX-Request", "true");
  headers.set("Idempotency-Key", item.key);
  if (token) headers.set("X-CSRFToken", token);
  headers.delete("X-Tpweb-Offline");
  return fetch(item.url, { method: "POST", headers: headers, body: body.toString(), credentials: "same-origin" });
}

function withTimeout(promise, ms) {
  return Promise.race([promise, delay(ms).then(function () { throw new Error("timeout"); })]);
}

// A write belongs to the user signed in when it was made; one made with nobody known, to the
// next user who signs in (the forms that make writes are only shown to a signed-in user).
function ownedBy(item, user) {
  return !item.user || String(item.user) === String(user);
}

function hasWaiting(user) {
  return all("queue").then(function (items) {
    return items.some(function (item) { return ownedBy(item, user); });
  });
}

function enqueue(item) {
  return put("queue", item).then(function () {
    if (self.registration.sync) return self.registration.sync.register(TAG).catch(function () {});
  }).then(broadcast);
}

function handleWrite(event, config, kind) {
  var request = event.request;
  var path = new URL(request.url).pathname;
  return Promise.all([request.clone().text(), meta()]).then(function (got) {
    var body = got[0];
    var about = described(request);
    var params = new URLSearchParams(body);
    var item = {
      key: request.headers.get("Idempotency-Key") || uuid(),
      url: request.url,
      body: body,
      kind: kind,
      label: about.label || "",
      fields: fieldsOf(body, about),
      user: String(about.user || got[1].user || ""),
      touchpoint: kind === "complete" || kind === "edit" ? idIn(config, kind, path) : null,
      basedOn: params.has("version") ? Number(params.get("version")) : null,
      calledOn: kind === "complete" ? params.get("called_on") : null,
      madeAt: new Date().toISOString()
    };
    var headers = new Headers(request.headers);
    // Writes still waiting go first: this one must not overtake them.
    return hasWaiting(item.user)
      .then(function (waiting) { return waiting ? sync().catch(function () {}).then(function () { return hasWaiting(item.user); }) : false; })
      .then(function (waiting) {
        if (waiting) return null;
        return withTimeout(busy(send(item, null, headers)), WRITE_TIMEOUT).catch(function () { return null; });
      })
      .then(function (response) {
        if (!response) return queueAndAnswer(config, item, "offline");
        return response.clone().text().then(function (text) {
          // Signed out meanwhile: keep the write, and send it once the rep is back.
          if (response.status === 401) {
            return setMeta({ needsSignIn: true }).then(function () { return queueAndAnswer(config, item, "signin"); });
          }
          // The server (or its database) could not take it: nothing was saved. Kept, and sent again.
          if (unavailable(response)) {
            return setMeta({ lastError: SERVER_TROUBLE }).then(function () {
              return queueAndAnswer(config, item, "busy");
            }).then(function (answer) {
              event.waitUntil(syncLater(retryAfter(response)));
              return answer;
            });
          }
          // A form kept from an older session: nothing was saved. The queue sends it again with
          // a fresh token, or asks the rep to sign in if the session is gone too.
          if (isCsrfRefusal(response, text)) {
            return queueAndAnswer(config, item, "soon").then(function (answer) {
              sync().catch(function () {});
              return answer;
            });
          }
          return response;
        });
      });
  });
}

function queueAndAnswer(config, item, why) {
  // The answer first: for step one of Complete it reads the version step two is based on.
  return answerPending(config, item, why).then(function (response) {
    return enqueue(item).then(function () { return response; });
  });
}

/* ---- sync ---- */

var syncing = null;
var retrying = null;
var retries = 0;

function unavailable(response) {
  return response.status >= 502 && response.status <= 504;
}

function retryAfter(response) {
  var seconds = Number(response.headers.get("Retry-After"));
  return Math.min(RETRY_MOST, seconds > 0 ? seconds : RETRY_SECONDS);
}

// The queue sent again in `seconds`, once however many ask; the promise settles after that try
// and the ones it leads to, so an event that waits for it keeps the worker awake meanwhile.
function syncLater(seconds) {
  if (retrying) return retrying;
  if (retries >= RETRY_TRIES) return Promise.resolve();
  retries += 1;
  retrying = delay(seconds * 1000).then(function () {
    retrying = null;
    return sync().catch(function () {});
  }).then(function () { return retrying; });
  return retrying;
}

function sync() {
  if (!syncing) {
    syncing = syncQueue().finally(function () { syncing = null; broadcast(); });
    broadcast();
  }
  return syncing;
}

// The signed-in user, a fresh CSRF token and the URLs to keep; null when nobody is signed in.
function session(config) {
  return fetch(config.urls, { credentials: "same-origin", headers: { "HX-Request": "true" }, cache: "no-store" })
    .then(function (response) {
      if (response.status === 401 || response.redirected) return null;
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    });
}

function firstWaiting(user) {
  return all("queue").then(function (items) {
    return items.filter(function (item) { return ownedBy(item, user); })
      .sort(function (a, b) { return a.id - b.id; })[0] || null;
  });
}

// Later writes to the same touchpoint, made on this phone on top of the one just applied, are
// based on the version it produced, not on the one it replaced: otherwise the rep's own earlier
// write would be a conflict. Step one of Complete counts only if nobody else changed the
// touchpoint in between (it moved the version by exactly one).
function rebase(item, text) {
  var after = versionIn(text, item.kind);
  var before = item.basedOn;
  if (!item.touchpoint || after == null || before == null || after === before) return Promise.resolve();
  if (item.kind === "complete" && after !== before + 1) return Promise.resolve();
  return all("queue").then(function (items) {
    return Promise.all(items.filter(function (other) {
      return other.touchpoint === item.touchpoint && other.basedOn === before && other.id !== item.id;
    }).map(function (other) {
      var params = new URLSearchParams(other.body);
      if (params.has("version")) params.set("version", String(after));
      other.body = params.toString();
      other.basedOn = after;
      return put("queue", other);
    }));
  });
}

function needsAttention(item, response, text) {
  var entry = Object.assign({}, item, {
    status: response.status,
    answer: /text\/html/.test(response.headers.get("Content-Type") || "") ? text : "",
    reason: /text\/html/.test(response.headers.get("Content-Type") || "") ? "" : text.slice(0, 300),
    serverVersion: versionIn(text, "complete"),
    answeredAt: new Date().toISOString()
  });
  return put("attention", entry).then(function () { return remove("queue", item.id); });
}

function syncQueue() {
  var sent = 0;
  var config;
  return settings().then(function (got) {
    config = got;
    return all("queue");
  }).then(function (items) {
    if (!items.length) return null;
    return session(config).then(function (who) {
      if (!who) return setMeta({ needsSignIn: true }).then(function () { return null; });
      return setMeta({ needsSignIn: false, lastError: "" }).then(function () { return who; });
    });
  }).then(function (who) {
    if (!who) return;
    var retried = false;
    function next() {
      return firstWaiting(who.user).then(function (item) {
        if (!item) return;
        return send(item, who.csrf_token).then(function (response) {
          return response.text().then(function (text) {
            if (response.status < 500) retries = 0;
            if (response.ok) {
              sent += 1;
              return rebase(item, text).then(function () { return remove("queue", item.id); }).then(broadcast).then(next);
            }
            if (response.status === 401 || isCsrfRefusal(response, text)) {
              // A token from before a sign-in elsewhere: one more try with a fresh one, then ask.
              if (!retried) {
                retried = true;
                return session(config).then(function (fresh) {
                  if (!fresh) return setMeta({ needsSignIn: true });
                  who = fresh;
                  return next();
                });
              }
              return setMeta({ needsSignIn: true });
            }
            if (response.status >= 500) {
              // The server's trouble, not the write's: it stays first in line for the next try.
              if (unavailable(response)) syncLater(retryAfter(response));
              return setMeta({ lastError: SERVER_TROUBLE });
            }
            return needsAttention(item, response, text).then(broadcast).then(next);
          });
        });
      });
    }
    return next();
  }).then(function () { return finish(null); }, finish);

  // Also after a network failure part way: what was sent was sent.
  function finish(error) {
    var done = Promise.resolve();
    if (sent) {
      done = setMeta({ lastSent: sent, sentAt: new Date().toISOString() }).then(function () {
        refresh(true); // the kept pages are to show what the server has now; no need to wait
      });
    }
    return done.then(function () { if (error) throw error; });
  }
}

/* ---- refresh: keep the coming week's pages ---- */

var refreshing = null;

// `pageUser`: the user the page says is signed in; a visit by the same user within REFRESH_EVERY
// of the last refresh costs nothing.
function refresh(force, pageUser) {
  if (!refreshing) {
    refreshing = meta().then(function (state) {
      var fresh = Date.now() - (state.refreshedAt || 0) < REFRESH_EVERY;
      if (!force && fresh && String(state.user || "") === String(pageUser)) return null;
      return refreshPages(state);
    }).catch(function () {}).finally(function () { refreshing = null; broadcast(); });
  }
  return refreshing;
}

function refreshPages(state) {
  var config;
  var who;
  return settings().then(function (got) {
    config = got;
    return session(config);
  }).then(function (got) {
    who = got;
    if (!who) return null;
    var sameUser = String(state.user || "") === String(who.user);
    var start = sameUser ? Promise.resolve() : forgetPages();
    var jobs = who.pages.map(function (url) { return [url, PAGES, {}]; }).concat(
      who.fragments.map(function (url) { return [url, FRAGMENTS, { "HX-Request": "true" }]; }));
    return start.then(function () { return setMeta({ user: String(who.user) }); })
      .then(broadcast)
      .then(function () { return inParallel(jobs, fetchAndKeep.bind(null, config)); })
      .then(prune)
      .then(function () {
        return setMeta({ refreshedAt: Date.now(), saved: who.touchpoints });
      });
  });
}

function fetchAndKeep(config, job) {
  var url = new URL(job[0], self.location.origin).href;
  return fetch(url, { credentials: "same-origin", headers: job[2] }).then(function (response) {
    if (keepable(config, url, response)) return keep(job[1], url, response);
  }).catch(function () {});
}

function inParallel(jobs, work) {
  var queue = jobs.slice();
  function worker() {
    return idle().then(function () {
      var job = queue.shift();
      return job ? work(job).then(worker) : null;
    });
  }
  var workers = [];
  for (var i = 0; i < PARALLEL; i++) workers.push(worker());
  return Promise.all(workers);
}

// Pages nobody opened for KEEP_DAYS go, so the phone's storage does not grow for ever.
function prune() {
  var oldest = Date.now() - KEEP_DAYS * 86400000;
  return Promise.all([PAGES, FRAGMENTS].map(function (name) {
    return caches.open(name).then(function (cache) {
      return cache.keys().then(function (keys) {
        return Promise.all(keys.map(function (key) {
          return cache.match(key).then(function (kept) {
            var when = kept && Date.parse(kept.headers.get(STORED) || "");
            if (!when || when < oldest) return cache.delete(key);
          });
        }));
      });
    });
  }));
}

/* ---- talking to the pages ---- */

function snapshot() {
  return Promise.all([all("queue"), all("attention"), meta()]).then(function (got) {
    var state = got[2];
    // The signed-in user's own; with nobody signed in, everything on the phone.
    function own(item) { return !state.user || ownedBy(item, state.user); }
    var queue = got[0].filter(own);
    var attention = got[1].filter(own);
    return {
      type: "state",
      waiting: queue.length,
      keys: queue.map(function (item) { return item.key; }),
      attentionKeys: attention.map(function (item) { return item.key; }),
      touchpoints: queue.map(function (item) { return item.touchpoint; }).filter(Boolean),
      attention: attention.length,
      needsSignIn: !!state.needsSignIn && queue.length > 0,
      refreshedAt: state.refreshedAt || null,
      refreshing: !!refreshing,
      syncing: !!syncing,
      saved: state.saved || 0,
      lastError: state.lastError || "",
      lastSent: state.lastSent || 0,
      sentAt: state.sentAt || null
    };
  });
}

function broadcast() {
  return snapshot().then(function (state) {
    return self.clients.matchAll({ includeUncontrolled: true }).then(function (clients) {
      clients.forEach(function (client) { client.postMessage(state); });
    });
  }).catch(function () {});
}

function attentionList(client) {
  return Promise.all([all("attention"), meta()]).then(function (got) {
    var user = got[1].user;
    var items = got[0].filter(function (item) { return !user || ownedBy(item, user); });
    items.forEach(function (item) { item.action = ACTIONS[item.kind]; });
    client.postMessage({ type: "attention", items: items.sort(function (a, b) { return a.id - b.id; }) });
  });
}

// Back to the queue, at its end: with a new key (the old one may be spent on the refusal) and,
// after a conflict, based on the version the server has now.
function retry(id) {
  return transact("attention", "readonly", function (store) { return store.get(id); }).then(function (entry) {
    if (!entry) return;
    var params = new URLSearchParams(entry.body);
    if (entry.serverVersion != null && params.has("version")) {
      params.set("version", String(entry.serverVersion));
      entry.basedOn = entry.serverVersion;
    }
    var item = {
      key: uuid(), url: entry.url, body: params.toString(), kind: entry.kind, label: entry.label,
      fields: entry.fields, user: entry.user, touchpoint: entry.touchpoint, basedOn: entry.basedOn,
      calledOn: entry.calledOn, madeAt: entry.madeAt
    };
    return enqueue(item).then(function () { return remove("attention", id); });
  });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  var work = Promise.resolve();
  if (data.type === "hello") {
    // A page was opened or navigated to, online: send what waits, keep the week's pages fresh.
    work = broadcast().then(function () {
      if (!data.online) return;
      return all("queue").then(function (items) {
        return items.length ? sync().catch(function () {}) : null;
      }).then(function () { return data.user ? refresh(false, data.user) : null; });
    });
  } else if (data.type === "sync") {
    work = sync().catch(function () {});
  } else if (data.type === "attention") {
    work = attentionList(event.source);
  } else if (data.type === "discard" || data.type === "resolved") {
    work = remove("attention", data.id).then(broadcast).then(function () { return attentionList(event.source); });
  } else if (data.type === "retry") {
    work = retry(data.id).then(function () { return attentionList(event.source); })
      .then(function () { return sync().catch(function () {}); });
  }
  // A retry the work scheduled (the server was busy) keeps the worker awake until it is done.
  event.waitUntil(work.then(function () { return retrying; }));
});

/* ---- lifecycle ---- */

self.addEventListener("install", function (event) {
  event.waitUntil(fetch(SETTINGS_URL, { credentials: "same-origin" }).then(function (response) {
    if (!response.ok) throw new Error("no shell settings");
    var copy = response.clone();
    return response.json().then(function (config) {
      return caches.open(SHELL).then(function (cache) {
        return cache.put(SETTINGS_URL, copy).then(function () { return cache.addAll(config.files); });
      }).then(function () { return shellRoutes(event, config); });
    });
  }).then(function () { return self.skipWaiting(); }));
});

// The shell's static files straight from this version's cache, without running this script for
// each (the Static Routing API, where the browser has it): a page's CSS and scripts then arrive
// as soon as it asks, online or not. A file missing from the cache still goes to the network;
// any other static file still goes through cacheFirst, which keeps it.
function shellRoutes(event, config) {
  if (typeof event.addRoutes !== "function") return null;
  var rules = config.files.filter(function (path) { return path.indexOf(config.static) === 0; })
    .map(function (path) {
      return {
        condition: { urlPattern: { pathname: path.replace(/[\\:*?+(){}]/g, "\\$&") } },
        source: { cacheName: SHELL }
      };
    });
  return event.addRoutes(rules).catch(function () { /* an older browser: the fetch handler serves them */ });
}

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("tpweb-shell-") === 0 && name !== SHELL;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }).then(broadcast));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "GET") {
    event.respondWith(settings().then(function (config) {
      if (url.pathname.indexOf(config.static) === 0) return cacheFirst(event);
      if (url.pathname === config.urls) return fetch(request);
      return networkFirst(event, config);
    }, function () { return fetch(request); }));
    return;
  }
  if (request.method !== "POST" || request.mode === "navigate") return;
  event.respondWith(settings().then(function (config) {
    if (url.pathname === config.logout) {
      // Signed out: this phone no longer keeps the user's pages. The queue stays, with its owner.
      return fetch(request).then(function (response) {
        if (response.ok) event.waitUntil(forgetPages().then(function () { return setMeta({ user: "", refreshedAt: 0 }); }));
        return response;
      });
    }
    var kind = writeKind(config, url.pathname);
    var type = request.headers.get("Content-Type") || "";
    if (!kind || type.indexOf("application/x-www-form-urlencoded") !== 0) return fetch(request);
    return handleWrite(event, config, kind);
  }, function () { return fetch(request); }));
});

self.addEventListener("sync", function (event) {
  // Background Sync: a rejection tells the browser to try again later.
  if (event.tag === TAG) event.waitUntil(sync().then(function () {
    return all("queue").then(function (items) {
      return meta().then(function (state) {
        if (items.length && !state.needsSignIn) throw new Error("still waiting");
      });
    });
  }));
});

// The worker starting (the browser wakes it for a page or an event): send what waits.
sync().catch(function () {});
