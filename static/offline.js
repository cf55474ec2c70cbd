/* The page side of offline-first (the service worker is static/sw.js).

   It registers the worker; gives every htmx POST an Idempotency-Key, so that a write sent twice is
   applied once whether it went straight out or waited in the queue; and shows what the worker
   reports in the bar under the menu (#offline-bar): "Offline — showing data from <time>" while a
   kept answer is on screen, how many writes wait to be sent with "Sync now", what needs attention,
   and a sign-in link when the queue waits for one. It asks before signing out with writes still
   waiting, and renders Needs your attention (#offline-attention) from what the worker keeps.
   Everything it puts on the page from stored data goes through textContent, but for the
   server's own answer to a refused write, which is the server's escaped HTML. */
(function () {
  "use strict";

  var script = document.currentScript;
  var state = {};
  var shownFrom = null; // when the kept answer on screen was kept, or null
  var notice = "";
  var queued = {}; // every key the worker has reported waiting: only those can be answered

  function bar() {
    return document.getElementById("offline-bar");
  }

  function signedInAs() {
    var root = bar();
    return root ? root.dataset.user : "";
  }

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

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function plural(n, one, many) {
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

  function timeEl(iso) {
    var node = el("time", "", when(iso));
    node.setAttribute("datetime", iso);
    return node;
  }

  /* ---- the bar ---- */

  function render() {
    var root = bar();
    if (!root) return;
    root.textContent = "";
    if (shownFrom) {
      var banner = el("p", "offline-banner");
      banner.setAttribute("role", "status");
      if (navigator.onLine) {
        banner.append("Showing data saved ", timeEl(shownFrom), " · ");
        var again = el("a", "", "Refresh");
        again.href = location.href;
        banner.append(again);
      } else {
        banner.append("Offline — showing data from ", timeEl(shownFrom));
      }
      root.append(banner);
    }
    if (state.needsSignIn) {
      var signIn = el("p", "offline-signin");
      var link = el("a", "", "Sign in");
      link.href = root.dataset.login + "?next=" + encodeURIComponent(location.pathname + location.search);
      signIn.append("Signed out. ", link, " to send " + plural(state.waiting, "waiting change", "waiting changes") + ".");
      root.append(signIn);
    }
    if (state.waiting) {
      var queue = el("div", "offline-queue");
      queue.append(el("span", "offline-count", plural(state.waiting, "change", "changes") + " waiting to send"));
      if (!state.needsSignIn) {
        var button = el("button", "outline", "Sync now");
        button.type = "button";
        button.dataset.offlineSync = "";
        if (state.syncing) button.setAttribute("aria-busy", "true");
        queue.append(button);
      }
      root.append(queue);
      if (state.lastError) root.append(el("p", "offline-notice", state.lastError));
    }
    if (state.attention && !document.getElementById("offline-attention")) {
      var attention = el("a", "offline-attention-link", plural(state.attention, "change needs", "changes need") + " your attention");
      attention.href = root.dataset.attention;
      root.append(attention);
    }
    if (notice) root.append(el("p", "offline-notice", notice));
    if (!root.childElementCount && signedInAs()) {
      // What this phone holds for a day with no signal, and since when.
      if (state.refreshedAt) {
        var saved = el("p", "offline-saved");
        saved.append("Ready offline: " + plural(state.saved || 0, "due touchpoint", "due touchpoints") + " · saved ",
          timeEl(new Date(state.refreshedAt).toISOString()));
        saved.dataset.offlineSaved = "";
        root.append(saved);
      } else if (state.refreshing) {
        root.append(el("p", "offline-saved", "Saving your week on this phone for offline use…"));
      }
    }
    root.hidden = !root.childElementCount;
    // Its links navigate like the app's others (hx-boost on the body).
    if (window.htmx) window.htmx.process(root);
    markWaiting();
    markAnswered();
  }

  // Touchpoints with a write waiting carry a badge wherever their card shows.
  function markWaiting() {
    var waiting = (state.touchpoints || []).map(String);
    document.querySelectorAll(".tp[id^='touchpoint-']:not(.tp--pending)").forEach(function (card) {
      var on = waiting.indexOf(card.id.slice("touchpoint-".length)) >= 0;
      var badge = card.querySelector(":scope > header .badge--pending");
      card.classList.toggle("tp--waiting", on);
      if (on && !badge) {
        var header = card.querySelector(":scope > header");
        if (header) header.append(el("span", "badge badge--pending", "Waiting to send"));
      } else if (!on && badge) {
        badge.remove();
      }
    });
  }

  // A write shown as waiting, once the worker has answered for it: sent, or needing attention.
  function markAnswered() {
    if (!state.keys) return;
    document.querySelectorAll(".offline-pending[data-offline-key]").forEach(function (note) {
      var key = note.dataset.offlineKey;
      if (!queued[key] || state.keys.indexOf(key) >= 0) return;
      var refused = (state.attentionKeys || []).indexOf(key) >= 0;
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

  function say(text) {
    notice = text;
    render();
  }

  /* ---- writes ---- */

  function labelOf(input) {
    var label = input.labels && input.labels[0];
    if (!label) return input.name;
    // The label's own words, not the text of the field inside it or of its error.
    return Array.prototype.filter.call(label.childNodes, function (node) { return node.nodeType === 3; })
      .map(function (node) { return node.textContent; }).join(" ").replace(/\s+/g, " ").trim() || input.name;
  }

  // What the worker shows of a write it queues: the form's heading and its fields' labels, and
  // the words of chosen options (the body has their ids). Short: it travels in a header.
  function describe(form) {
    var step = form.querySelector(".step");
    var names = {};
    var choices = {};
    Array.prototype.forEach.call(form.elements, function (input) {
      if (!input.name || input.type === "hidden" || input.type === "password") return;
      names[input.name] = labelOf(input).slice(0, 60);
      if (input.tagName === "SELECT" && input.selectedOptions[0]) {
        choices[input.name] = input.selectedOptions[0].text.slice(0, 80);
      }
    });
    // The account's or contact's name, which each form's heading starts with.
    var subject = step && (step.querySelector("strong") || step);
    var label = subject ? subject.textContent.replace(/\s+/g, " ").trim() : document.title;
    return { label: label.slice(0, 240), names: names, choices: choices, user: signedInAs() };
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var detail = event.detail;
    if (detail.verb !== "post") return;
    detail.headers["Idempotency-Key"] = uuid();
    var form = detail.elt.closest && detail.elt.closest("form");
    if (form && form.matches(".tp-form")) {
      detail.headers["X-Tpweb-Offline"] = encodeURIComponent(JSON.stringify(describe(form)));
    }
  });

  function isoDay(date) {
    return date.toISOString().slice(0, 10);
  }

  function addDays(iso, days) {
    var date = new Date(iso + "T00:00:00Z");
    date.setUTCDate(date.getUTCDate() + days);
    return isoDay(date);
  }

  // Next Call as the server works it out while the rep types (Last Call + Frequency), for when
  // the server cannot be asked.
  function nextCallHere(form) {
    var last = form.elements.last_call.value;
    var days = parseInt(form.elements.frequency_days.value, 10);
    if (/^\d{4}-\d{2}-\d{2}$/.test(last) && days >= 1 && days <= 3650) {
      form.elements.next_call.value = addDays(last, days);
    }
  }

  // Step two after an offline step one: the dates the server would have put there, worked out here
  // (Last Call = the call's date, Next Call = that + Frequency; an older call moves nothing).
  function fillStepTwo(root) {
    root.querySelectorAll("[data-called-on]").forEach(function (note) {
      var calledOn = note.dataset.calledOn;
      note.removeAttribute("data-called-on");
      var box = note.closest(".offline-step");
      var form = box && box.querySelector("form");
      if (!form || !form.elements.last_call || !/^\d{4}-\d{2}-\d{2}$/.test(calledOn)) return;
      if (form.elements.last_call.value && calledOn < form.elements.last_call.value) return;
      form.elements.last_call.value = calledOn;
      if (form.elements.next_call && form.elements.frequency_days) nextCallHere(form);
    });
  }

  /* ---- what htmx got ---- */

  document.addEventListener("htmx:afterRequest", function (event) {
    var detail = event.detail;
    var xhr = detail.xhr;
    var from = xhr && xhr.getResponseHeader("X-Offline-From");
    if (from) {
      shownFrom = from;
    } else if (detail.successful && detail.requestConfig && detail.requestConfig.boosted &&
               detail.requestConfig.verb === "get") {
      shownFrom = null; // a fresh page
      notice = "";
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

  document.addEventListener("htmx:afterSettle", render);

  // Signing out with writes still waiting: ask first. They stay on the phone, and go once the
  // same user signs in again.
  document.addEventListener("htmx:confirm", function (event) {
    var root = bar();
    var detail = event.detail;
    if (!root || detail.verb !== "post" || detail.path !== root.dataset.logout || !state.waiting) return;
    event.preventDefault();
    var question = plural(state.waiting, "change has", "changes have") + " not been sent yet. " +
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

  /* ---- Needs your attention ---- */

  var WHY = {
    404: "It is no longer on your list, or no longer exists.",
    409: "The server could not take it as it was.",
    422: "The server refused it."
  };

  function renderAttention(items) {
    var root = document.getElementById("offline-attention");
    if (!root) return;
    root.textContent = "";
    if (!items.length) {
      root.append(el("p", "empty", "Nothing needs your attention."));
      return;
    }
    items.forEach(function (item) {
      var box = el("article", "attention-item");
      box.dataset.attentionId = item.id;
      var head = el("header");
      head.append(el("strong", "", item.label || "A change"), el("span", "", item.action || ""));
      var made = el("small");
      made.append("Made on this phone ", timeEl(item.madeAt));
      head.append(made);
      box.append(head);
      var conflict = item.status === 409 && item.serverVersion != null;
      box.append(el("p", "attention-why", conflict
        ? "Someone changed this on the server while you were offline. Both versions are below."
        : WHY[item.status] || "The server refused it (" + item.status + ")."));
      box.append(el("h3", "", "Your change"));
      var fields = el("dl", "offline-fields");
      (item.fields || []).forEach(function (pair) {
        fields.append(el("dt", "", pair[0]), el("dd", "", pair[1] || "—"));
      });
      box.append(fields);
      if (item.answer) {
        box.append(el("h3", "", conflict ? "On the server now" : "The server's answer"));
        var server = el("div", "attention-server");
        server.innerHTML = item.answer;
        // The server's form, live: saving it resolves this. Its own token is from when it was
        // answered, maybe another session; without it htmx sends this page's, the X-CSRFToken
        // that <main hx-headers> holds (swapped with every page, so fresh after a sign-in).
        server.querySelectorAll("input[name=csrf_token]").forEach(function (input) { input.remove(); });
        box.append(server);
        if (window.htmx) window.htmx.process(server);
      } else if (item.reason) {
        box.append(el("p", "attention-reason", item.reason));
      }
      var actions = el("div", "actions");
      if (conflict || /Idempotency-Key/.test(item.reason || "")) {
        var retry = el("button", "", conflict ? "Send mine again, over theirs" : "Send again");
        retry.type = "button";
        retry.dataset.attentionAction = "retry";
        actions.append(retry);
      }
      var discard = el("button", "secondary outline", "Discard mine");
      discard.type = "button";
      discard.dataset.attentionAction = "discard";
      actions.append(discard);
      box.append(actions);
      root.append(box);
    });
  }

  /* ---- the worker ---- */

  function listen() {
    navigator.serviceWorker.addEventListener("message", function (event) {
      var data = event.data || {};
      if (data.type === "state") {
        if ("sentAt" in state && data.sentAt && state.sentAt !== data.sentAt) {
          notice = data.waiting ? plural(data.lastSent, "change", "changes") + " sent." : "All changes sent.";
        }
        var changed = state.attention !== data.attention;
        state = data;
        (data.keys || []).forEach(function (key) { queued[key] = true; });
        render();
        if (changed && document.getElementById("offline-attention")) post({ type: "attention" });
      } else if (data.type === "attention") {
        renderAttention(data.items || []);
      }
    });
    navigator.serviceWorker.startMessages();
  }

  function start() {
    shownFrom = document.body.dataset.offlineFrom || null;
    render();
    if (!("serviceWorker" in navigator) || !script || !script.dataset.worker) return;
    listen();
    navigator.serviceWorker.register(script.dataset.worker).catch(function () {
      /* No worker (a private window, an old browser): the app works online as before. */
    });
    hello();
  }

  window.addEventListener("online", function () {
    notice = "";
    render();
    hello();
  });
  window.addEventListener("offline", render);

  if (window.htmx) {
    window.htmx.onLoad(function (root) {
      fillStepTwo(root);
      if (root.querySelector && (root.id === "offline-attention" || root.querySelector("#offline-attention"))) {
        post({ type: "attention" });
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
