/* The bar under the menu (#offline-bar): "Offline — showing data from <time>" while a kept answer
   is on screen, how many writes wait to be sent with "Sync now", what needs attention, a sign-in
   link when the queue waits for one; and the cards whose writes wait (cards.js). Everything it
   puts on the page goes through textContent. */
import { markCards } from "./cards.js";

// What the worker last reported, the kept answer on screen, and every key reported waiting.
export const view = { state: {}, shownFrom: null, notice: "", queued: {} };

export function bar() {
  return document.getElementById("offline-bar");
}

export function signedInAs() {
  var root = bar();
  return root ? root.dataset.user : "";
}

export function el(tag, className, text) {
  var node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function plural(n, one, many) {
  return n + " " + (n === 1 ? one : many);
}

var DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// "10:42 AM" today, "Tue, Nov 3, 10:42 AM" another day, in the app's English like the server's
// dates. Written by hand: a page's first toLocaleTimeString loads the browser's locale data,
// tens of milliseconds that the offline banner would add to the load of every kept page.
function when(iso) {
  var date = new Date(iso);
  if (isNaN(date)) return "earlier";
  var hours = date.getHours();
  var minutes = date.getMinutes();
  var time = (hours % 12 || 12) + ":" + (minutes < 10 ? "0" : "") + minutes + (hours < 12 ? " AM" : " PM");
  if (date.toDateString() === new Date().toDateString()) return time;
  return DAYS[date.getDay()] + ", " + MONTHS[date.getMonth()] + " " + date.getDate() + ", " + time;
}

export function timeEl(iso) {
  var node = el("time", "", when(iso));
  node.setAttribute("datetime", iso);
  return node;
}

export function render() {
  var root = bar();
  if (!root) return;
  root.textContent = "";
  if (view.shownFrom) {
    var banner = el("p", "offline-banner");
    banner.setAttribute("role", "status");
    if (navigator.onLine) {
      banner.append("Showing data saved ", timeEl(view.shownFrom), " · ");
      var again = el("a", "", "Refresh");
      again.href = location.href;
      banner.append(again);
    } else {
      banner.append("Offline — showing data from ", timeEl(view.shownFrom));
    }
    root.append(banner);
  }
  if (view.state.needsSignIn) {
    var signIn = el("p", "offline-signin");
    var link = el("a", "", "Sign in");
    link.href = root.dataset.login + "?next=" + encodeURIComponent(location.pathname + location.search);
    signIn.append("Signed out. ", link, " to send " + plural(view.state.waiting, "waiting change", "waiting changes") + ".");
    root.append(signIn);
  }
  if (view.state.waiting) {
    var queue = el("div", "offline-queue");
    queue.append(el("span", "offline-count", plural(view.state.waiting, "change", "changes") + " waiting to send"));
    if (!view.state.needsSignIn) {
      var button = el("button", "outline", "Sync now");
      button.type = "button";
      button.dataset.offlineSync = "";
      if (view.state.syncing) button.setAttribute("aria-busy", "true");
      queue.append(button);
    }
    root.append(queue);
    if (view.state.lastError) root.append(el("p", "offline-notice", view.state.lastError));
  }
  if (view.state.attention && !document.getElementById("offline-attention")) {
    var attention = el("a", "offline-attention-link", plural(view.state.attention, "change needs", "changes need") + " your attention");
    attention.href = root.dataset.attention;
    root.append(attention);
  }
  if (view.notice) root.append(el("p", "offline-notice", view.notice));
  if (!root.childElementCount && signedInAs()) {
    // What this phone holds for a day with no signal, and since when.
    if (view.state.refreshedAt) {
      var saved = el("p", "offline-saved");
      var count = view.state.saved || 0;
      saved.append("Ready offline: " + (count ? plural(count, "due touchpoint", "due touchpoints") : "nothing due") + " · saved ",
        timeEl(new Date(view.state.refreshedAt).toISOString()));
      saved.dataset.offlineSaved = "";
      root.append(saved);
    } else if (view.state.refreshing) {
      root.append(el("p", "offline-saved", "Saving your week on this phone for offline use…"));
    }
  }
  root.hidden = !root.childElementCount;
  // Its links navigate like the app's others (hx-boost on the body).
  if (window.htmx) window.htmx.process(root);
  markCards(view.state);
  markAnswered();
}

// A write shown as waiting, once the worker has answered for it: sent, or needing attention.
function markAnswered() {
  if (!view.state.keys) return;
  document.querySelectorAll(".offline-pending[data-offline-key]").forEach(function (note) {
    var key = note.dataset.offlineKey;
    if (!view.queued[key] || view.state.keys.indexOf(key) >= 0) return;
    var refused = (view.state.attentionKeys || []).indexOf(key) >= 0;
    var box = note.closest(".tp--pending, .entry--pending") || note;
    box.querySelectorAll(".badge--pending").forEach(function (badge) {
      badge.className = "badge " + (refused ? "badge--overdue" : "badge--done");
      badge.textContent = refused ? "Not sent" : "Sent";
    });
    var text = note.querySelector(".offline-pending-text");
    if (refused) {
      text.textContent = "The server did not take this: see ";
      var link = el("a", "", "Needs your attention");
      link.href = bar().dataset.attention;
      text.append(link, ".");
    } else {
      text.textContent = "Sent to the server.";
    }
    note.removeAttribute("data-offline-key");
    box.classList.add(refused ? "offline-refused" : "offline-sent");
  });
}

export function say(text) {
  view.notice = text;
  render();
}
