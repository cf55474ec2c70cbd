/* The page side of offline-first (the service worker is static/sw.js), a module.

   It registers the worker; gives every htmx POST an Idempotency-Key, so that a write sent twice is
   applied once whether it went straight out or waited in the queue; swaps in what the worker
   answers for a queued write (offline/pending.js); keeps the bar under the menu up to date
   (offline/bar.js); asks before signing out with writes still waiting; and renders Needs your
   attention (offline/attention.js) from what the worker keeps; and opens Complete when the rep
   comes back from a call made from a card (offline/calls.js). */
import { renderAttention } from "./offline/attention.js";
import { bar, plural, render, say, signedInAs, view } from "./offline/bar.js";
import { watchCalls } from "./offline/calls.js";
import { refreshList, refreshedWholePage } from "./offline/cards.js";
import { describe, fillStepTwo, keepToday, nextCallHere } from "./offline/forms.js";
import { pendingMarkup } from "./offline/pending.js";
import { answerFrames } from "./offline/pins.js";

const script = document.querySelector("script[data-worker]");

function post(message) {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.ready.then(function (registration) {
    if (registration.active) registration.active.postMessage(message);
  });
}

function hello() {
  post({ type: "hello", user: signedInAs(), online: navigator.onLine });
}

function uuid() {
  if (window.crypto.randomUUID) return window.crypto.randomUUID();
  var bytes = window.crypto.getRandomValues(new Uint8Array(16));
  return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
}

document.addEventListener("htmx:configRequest", function (event) {
  var detail = event.detail;
  if (detail.verb !== "post") return;
  detail.headers["Idempotency-Key"] = uuid();
  var form = detail.elt.closest && detail.elt.closest("form");
  if (form && form.matches(".tp-form")) {
    detail.headers["X-Tpweb-Offline"] = encodeURIComponent(JSON.stringify(describe(form, signedInAs())));
  }
});

// A write the worker queued: the placeholder made from the server's templates, swapped as usual.
document.addEventListener("htmx:beforeSwap", (event) => {
  const xhr = event.detail.xhr;
  const pending = xhr && xhr.status === 202 && xhr.getResponseHeader("X-Offline-Pending");
  if (pending) event.detail.serverResponse = pendingMarkup(event.detail.serverResponse, JSON.parse(decodeURIComponent(pending)));
});

// A write the queue refused (a second Complete of a touchpoint whose first waits): nothing to swap.
document.addEventListener("htmx:beforeSwap", (event) => {
  const xhr = event.detail.xhr;
  const refused = xhr && xhr.getResponseHeader("X-Offline-Refused");
  if (!refused) return;
  event.detail.shouldSwap = false;
  event.detail.isError = false;
  say(decodeURIComponent(refused));
});

/* ---- what htmx got ---- */

document.addEventListener("htmx:afterRequest", function (event) {
  var detail = event.detail;
  var xhr = detail.xhr;
  var from = xhr && xhr.getResponseHeader("X-Offline-From");
  if (from) {
    view.shownFrom = from;
  } else if (detail.successful && detail.requestConfig && detail.requestConfig.boosted &&
             detail.requestConfig.verb === "get") {
    view.shownFrom = null; // a fresh page
    view.notice = "";
  } else if (detail.successful && refreshedWholePage(detail)) {
    view.shownFrom = null; // the list, fetched again once the queue had gone
  }
  if (detail.successful && detail.requestConfig && detail.requestConfig.boosted) hello();
  var item = detail.elt.closest && detail.elt.closest("[data-attention-id]");
  // A 409 is swapped too (the form again, with what changed): only a 2xx is saved.
  var saved = xhr && xhr.status >= 200 && xhr.status < 300;
  if (item && saved && detail.requestConfig && detail.requestConfig.verb === "post") {
    // The rep saved the server's form inside Needs your attention: it is resolved.
    post({ type: "resolved", id: Number(item.dataset.attentionId) });
  }
});

document.addEventListener("htmx:responseError", function (event) {
  var xhr = event.detail.xhr;
  var elt = event.detail.elt;
  if (!xhr || !xhr.getResponseHeader("X-Offline-Missing")) return;
  var form = elt.form;
  if (form && form.elements.next_call && form.elements.frequency_days && form.elements.last_call) {
    nextCallHere(form);
  } else if (!/^(INPUT|SELECT|TEXTAREA)$/.test(elt.tagName)) {
    say("Not saved on this phone for offline use: open it again once you have a signal.");
  }
});

document.addEventListener("htmx:sendError", function () {
  say("No connection: that needs the network.");
});

document.addEventListener("htmx:afterSettle", function () {
  render();
  refreshList(false); // one that waited for a form to close
});

// Signing out with writes still waiting: ask first. They stay on the phone, and go once the
// same user signs in again.
document.addEventListener("htmx:confirm", function (event) {
  var root = bar();
  var detail = event.detail;
  if (!root || detail.verb !== "post" || detail.path !== root.dataset.logout || !view.state.waiting) return;
  event.preventDefault();
  var question = plural(view.state.waiting, "change has", "changes have") + " not been sent yet. " +
    "Sign out anyway? They stay on this phone and are sent when you sign in again.";
  if (window.confirm(question)) detail.issueRequest(true);
});

document.addEventListener("click", function (event) {
  if (event.target.closest("[data-offline-sync]")) {
    if (!navigator.onLine) say("No connection yet: the changes go as soon as there is one.");
    post({ type: "sync" });
    return;
  }
  var action = event.target.closest("[data-attention-action]");
  if (!action) return;
  var id = Number(action.closest("[data-attention-id]").dataset.attentionId);
  if (action.dataset.attentionAction === "discard" &&
      !window.confirm("Discard your change? It has not reached the server and will be lost.")) return;
  post({ type: action.dataset.attentionAction, id: id });
});

/* ---- the worker ---- */

function listen() {
  navigator.serviceWorker.addEventListener("message", function (event) {
    var data = event.data || {};
    if (data.type === "state") {
      var sent = "sentAt" in view.state && data.sentAt && view.state.sentAt !== data.sentAt;
      if (sent) {
        view.notice = data.waiting ? plural(data.lastSent, "change", "changes") + " sent." : "All changes sent.";
      }
      var changed = view.state.attention !== data.attention;
      view.state = data;
      (data.keys || []).forEach(function (key) { view.queued[key] = true; });
      render();
      // The queue has drained: the list on screen shows the server's now, without a reload.
      if (sent && !data.waiting) refreshList(true);
      if (changed && document.getElementById("offline-attention")) post({ type: "attention" });
    } else if (data.type === "attention") {
      renderAttention(data.items || []);
    }
  });
  navigator.serviceWorker.startMessages();
}

function start() {
  view.shownFrom = document.body.dataset.offlineFrom || null;
  keepToday(document.body); // a whole page kept from an earlier day (htmx's first load may be past)
  render();
  if (!("serviceWorker" in navigator) || !script || !script.dataset.worker) return;
  listen();
  navigator.serviceWorker.register(script.dataset.worker, { type: "module" }).catch(function () {
    /* No worker (a private window, an old browser): the app works online as before. */
  });
  hello();
}

answerFrames();

window.addEventListener("online", function () {
  view.notice = "";
  render();
  hello();
});
window.addEventListener("offline", render);

if (window.htmx) {
  window.htmx.onLoad(function (root) {
    keepToday(root);
    fillStepTwo(root);
    if (root.querySelector && (root.id === "offline-attention" || root.querySelector("#offline-attention"))) {
      post({ type: "attention" });
    }
  });
}

watchCalls();

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
