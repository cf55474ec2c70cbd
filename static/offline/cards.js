/* Touchpoint cards as the phone has left them: a card whose writes wait on this phone shows what
   they will do once sent (a call logged: Completed, with its Next Call worked out by schedule.js as
   the server will; a Reschedule: its new dates), badged "Waiting to send", and without Complete
   while a call log waits (the queue refuses a second one too, static/sw/queue.js's admit); the
   list's tab counts follow. The card as the server drew it is kept on it, and put back once
   nothing waits. After the queue has
   sent what waited, the list on screen is fetched again by htmx, as its own tab would. The map's
   pins follow too (pins.js). */
import { afterCall, cardDate, dueLabel, dueState, isDay, today } from "./schedule.js";
import { markPins } from "./pins.js";

function badge(className, text) {
  const node = document.createElement("span");
  node.className = "badge " + className;
  node.textContent = text;
  return node;
}

// What the server drew: the dates, the frequency, the markup of the dates' line; read once.
function drawn(card) {
  const dates = card.querySelector(".tp-dates");
  if (!dates) return null;
  if (!card.dataset.offlineDrawn) {
    const times = dates.querySelectorAll("time[datetime]");
    const every = dates.dataset.frequency || (/every (\d+) days/.exec(dates.textContent) || [])[1];
    card.dataset.offlineDrawn = JSON.stringify({
      next: times[0] ? times[0].getAttribute("datetime") : "",
      last: times[1] ? times[1].getAttribute("datetime") : "",
      frequency: Number(every) || 0,
      html: dates.innerHTML,
    });
  }
  return JSON.parse(card.dataset.offlineDrawn);
}

// The card's schedule once its waiting writes, in the order made, have reached the server.
export function phoneView(server, changes) {
  let { last, next, frequency } = server;
  let completed = false;
  for (const change of changes) {
    if (change.kind === "complete") {
      completed = true;
      if (isDay(change.calledOn) && isDay(last) && frequency) {
        [last, next] = afterCall(last, next, frequency, change.calledOn);
      }
    } else if (change.kind === "edit") {
      if (Number(change.frequency_days) >= 1) frequency = Number(change.frequency_days);
      if (isDay(change.last_call)) last = change.last_call;
      if (isDay(change.next_call)) next = change.next_call;
    }
  }
  return { last, next, frequency, completed };
}

function showDates(card, server, phone) {
  const dates = card.querySelector(".tp-dates");
  dates.innerHTML = server.html; // the server's own markup, as it was drawn
  const [next, last] = dates.querySelectorAll("time[datetime]");
  if (next && isDay(phone.next)) {
    next.setAttribute("datetime", phone.next);
    next.textContent = cardDate(phone.next, true);
  }
  if (last && isDay(phone.last)) {
    last.setAttribute("datetime", phone.last);
    last.textContent = cardDate(phone.last, false);
  }
  if (phone.frequency !== server.frequency) {
    dates.childNodes.forEach((node) => {
      if (node.nodeType === 3) node.textContent = node.textContent.replace(/every \d+ days/, `every ${phone.frequency} days`);
    });
  }
}

const STATES = ["overdue", "due-today", "upcoming"];

// The widget's tab counts, moved by the phone's changes: `moves` holds a [from, to] due state for
// each card shown otherwise than the server drew it. The server's counts are kept on each count.
function recount(moves) {
  document.querySelectorAll("#touchpoint-widget .tabs .tab .count").forEach((count) => {
    const state = STATES.find((key) => count.parentElement.classList.contains("tab--" + key));
    if (!state) return;
    if (count.dataset.offlineDrawn === undefined) count.dataset.offlineDrawn = count.textContent;
    const drawn = Number(count.dataset.offlineDrawn);
    const delta = moves.reduce((sum, [from, to]) => sum + (to === state) - (from === state), 0);
    count.textContent = String(Math.max(0, drawn + delta));
  });
}

function mark(card, changes) {
  const header = card.querySelector(":scope > header");
  const server = drawn(card);
  const complete = card.querySelector(":scope > footer a[href$='/complete']");
  const due = header && header.querySelector(":scope > .badge");
  const on = changes.length > 0;
  const kept = header && header.querySelector(":scope > .tp-offline-badges");
  card.classList.toggle("tp--waiting", on);
  if (kept) kept.remove();
  if (due) due.hidden = on;
  if (complete) complete.hidden = false;
  if (server) showDates(card, server, on ? phoneView(server, changes) : server);
  if (!on || !header) return null;
  const phone = server ? phoneView(server, changes) : phoneView({}, changes);
  const badges = document.createElement("span");
  badges.className = "tp-offline-badges";
  if (phone.completed) {
    badges.append(badge("badge--done", "Completed"));
    if (complete) complete.hidden = true;
  } else if (isDay(phone.next)) {
    const day = today();
    badges.append(badge("badge--" + dueState(phone.next, day), dueLabel(phone.next, day)));
  }
  badges.append(badge("badge--pending", "Waiting to send"));
  header.append(badges);
  const from = STATES.find((key) => card.classList.contains("tp--" + key));
  return from && isDay(phone.next) ? [from, dueState(phone.next, today())] : null;
}

// Every card on the page, by the writes that wait for its touchpoint (the worker's state).
export function markCards(state) {
  const changes = state.changes || (state.touchpoints || []).map((touchpoint) => ({ touchpoint, kind: "" }));
  const byTouchpoint = {};
  changes.forEach((change) => {
    (byTouchpoint[String(change.touchpoint)] ||= []).push(change);
  });
  const moves = [];
  document.querySelectorAll(".tp[id^='touchpoint-']:not(.tp--pending)").forEach((card) => {
    const mine = byTouchpoint[card.id.slice("touchpoint-".length)] || [];
    // Left alone while nothing waits for it and it shows nothing of the phone's.
    const move = mine.length || card.classList.contains("tp--waiting") ? mark(card, mine) : null;
    if (move && card.closest("#touchpoint-widget")) moves.push(move);
  });
  recount(moves);
  const waiting = {};
  Object.entries(byTouchpoint).forEach(([id, mine]) => {
    const phone = phoneView({}, mine);
    waiting[id] = { completed: phone.completed, next: isDay(phone.next) ? phone.next : "" };
  });
  markPins(waiting);
}

let stale = false;

// The list on screen fetched again, as its tab would fetch it (its own URL: state, rep, nearest
// first); not while the rep has a form open in it, but once they close it. `sent`: the queue has
// just sent what waited.
export function refreshList(sent) {
  stale = stale || !!sent;
  const widget = document.getElementById("touchpoint-widget");
  if (!widget || widget.matches(".widget--map")) stale = false; // a page fetched after the sending
  if (!stale || !window.htmx || widget.querySelector("form")) return;
  stale = false;
  const tab = widget.querySelector(".tabs [aria-current]");
  const url = tab ? tab.getAttribute("hx-get") : location.pathname + location.search;
  refreshing = true;
  window.htmx.ajax("GET", url, { target: widget, swap: "outerHTML" }).finally(() => { refreshing = false; });
}

let refreshing = false;

// Whether an htmx request (its event's detail) is that fetch, on a page that is the list alone (the
// dashboard has more that was kept): the page no longer shows kept data once it comes fresh.
export function refreshedWholePage(detail) {
  const path = detail.pathInfo && detail.pathInfo.requestPath;
  return refreshing && !!path && new URL(path, location.href).pathname === location.pathname &&
    !!detail.target && detail.target.id === "touchpoint-widget";
}
