/* The map's pins as the phone has left them: the map's frame (static/map-frame.js) is told which
   touchpoints have writes waiting on this phone and what those will do once sent (a call logged:
   ticked; a Reschedule: the colour of its new date), and shows them so, ringed as waiting. Once
   sent, each pin takes the server's row again (static/map.js fetches it). */

let told = {}; // touchpoint id -> { completed, next } as the frames were last told

function tell() {
  document.querySelectorAll("[data-map-frame]").forEach((frame) => {
    if (frame.contentWindow) frame.contentWindow.postMessage({ type: "tpweb:waiting", touchpoints: told }, location.origin);
  });
}

// `waiting`: touchpoint id -> { completed, next } for each touchpoint whose writes wait.
export function markPins(waiting) {
  const panel = document.querySelector("[data-map-panel]");
  if (!panel) {
    told = {};
    return;
  }
  const sent = Object.keys(told).filter((id) => !waiting[id]);
  told = waiting;
  tell();
  sent.forEach((id) => panel.dispatchEvent(new CustomEvent("tpweb:pin-sent", { bubbles: true, detail: { id: Number(id) } })));
}

// A frame that has just drawn its pins hears what waits (started by static/offline.js: a module
// that only exports, so that the unit tests can import the cards without a window).
export function answerFrames() {
  window.addEventListener("message", (event) => {
    if (event.origin === location.origin && event.data && event.data.type === "tpweb:ready") tell();
  });
}
