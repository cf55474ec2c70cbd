/* Back from a call: tapping a touchpoint's phone number (a tel: link with data-touchpoint-id, or
   one inside the touchpoint's card) leaves the app for the phone's dialler; when the rep comes back
   to the page, Complete opens on that card with today's date and the call's length in minutes
   from the time away (rounded up, at least 1, at most the form's own maximum), all editable.

   The time away runs from the page being hidden (visibilitychange, pagehide) to its being shown
   again (visibilitychange, pageshow: a page restored from the back/forward cache, or loaded again
   after the phone let it go); it is kept in sessionStorage, so a reload loses nothing. A tap whose
   page is not hidden within LEAVE_MS (the dialler never opened, the rep said no) is forgotten. */
import { today } from "./schedule.js";

const KEY = "tpweb-call";
const LEAVE_MS = 30000;

// Minutes of a call away for `ms`: rounded up, at least 1, at most `most` (the form's max).
export function minutesAway(ms, most) {
  const minutes = Math.max(1, Math.ceil(ms / 60000));
  return most > 0 ? Math.min(minutes, most) : minutes;
}

function read() {
  try {
    return JSON.parse(window.sessionStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}

function write(call) {
  try {
    if (call) window.sessionStorage.setItem(KEY, JSON.stringify(call));
    else window.sessionStorage.removeItem(KEY);
  } catch {
    // no storage (a private window): no Complete on return, nothing else lost
  }
}

function touchpointOf(link) {
  if (link.dataset.touchpointId) return link.dataset.touchpointId;
  const card = link.closest(".tp[id^='touchpoint-']");
  return card ? card.id.slice("touchpoint-".length) : null;
}

function tapped(event) {
  const link = event.target.closest && event.target.closest("a[href^='tel:']");
  const touchpoint = link && touchpointOf(link);
  if (touchpoint) write({ touchpoint, tappedAt: Date.now(), leftAt: null });
}

function left() {
  const call = read();
  if (!call || call.leftAt) return;
  if (Date.now() - call.tappedAt > LEAVE_MS) write(null);
  else write({ ...call, leftAt: Date.now() });
}

// The call's Complete form, filled in: today, and the minutes away, capped by the field's max.
function fill(form, minutes) {
  const duration = form.elements.duration_minutes;
  if (form.elements.called_on) form.elements.called_on.value = today();
  if (duration) {
    duration.value = String(minutesAway(minutes * 60000, Number(duration.max)));
    duration.focus({ preventScroll: true });
  }
  form.scrollIntoView({ block: "start" });
}

function open(touchpoint, minutes) {
  const card = document.getElementById("touchpoint-" + touchpoint);
  const complete = card && card.querySelector("a[href$='/complete']");
  const form = document.getElementById("complete-" + touchpoint);
  if (form) return fill(form, minutes); // Complete already open (the rep opened it before calling)
  if (!complete || complete.hidden || !window.htmx) return; // not on this page, or completed here
  window.htmx.ajax("GET", complete.getAttribute("hx-get") || complete.href, { target: card, swap: "outerHTML" })
    .then(() => {
      const opened = document.getElementById("complete-" + touchpoint);
      if (opened) fill(opened, minutes);
    });
}

function back() {
  const call = read();
  if (!call) return;
  if (!call.leftAt) {
    if (Date.now() - call.tappedAt > LEAVE_MS) write(null);
    return;
  }
  write(null);
  open(call.touchpoint, minutesAway(Date.now() - call.leftAt, 0));
}

export function watchCalls() {
  document.addEventListener("click", tapped);
  document.addEventListener("visibilitychange", () => (document.visibilityState === "hidden" ? left() : back()));
  window.addEventListener("pagehide", left);
  window.addEventListener("pageshow", () => {
    if (document.visibilityState !== "hidden") back();
  });
}
