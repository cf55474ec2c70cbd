/* Notifications on this device, the page's side (the service worker shows them:
   static/sw/push.js). Loaded by base.html's head when the server has VAPID keys, on every page:
   a boosted sign-in swaps the body only, so the head's scripts are the sign-in page's.

   - Settings' "Turn on notifications on this device" asks the browser, only on that tap (a
     refusal is final for the site), subscribes with the server's key and posts the subscription.
   - Every time the app opens with notifications allowed here, the subscription is posted again
     (the browser may have renewed it); the server answers 410 if this device was turned off, on
     this device or another, and the page then unsubscribes rather than turning it back on.
   - "Turn off" for this device unsubscribes it as well. */
import { signedInAs } from "./offline/bar.js";
import { keyBytes, subscriptionForm } from "./sw/push.js";

const script = document.querySelector("script[data-push-key]");
const KEY = script.dataset.pushKey;
// The endpoint this browser last posted: the device is on (here) and, renewed, what it was.
const ON = "tpweb-push-endpoint";
const SENT = "tpweb-push-sent"; // posted on this visit already

function csrfToken() {
  const input = document.querySelector("input[name=csrf_token]");
  return input ? input.value : "";
}

function supported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

async function subscribe(registration) {
  const found = await registration.pushManager.getSubscription();
  return found || registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(KEY) });
}

function say(root, message) {
  const status = root.querySelector("[data-push-status]");
  if (status) status.textContent = message;
}

function markThisDevice(root, endpoint) {
  root.querySelectorAll("[data-endpoint]").forEach((item) => {
    if (item.dataset.endpoint !== endpoint || item.querySelector(".this-device")) return;
    const mark = document.createElement("strong");
    mark.className = "this-device";
    mark.textContent = " This device";
    item.firstElementChild.append(mark);
  });
}

async function prepare(root) {
  const section = root.querySelector ? root.querySelector("#push-settings") || (root.id === "push-devices" && root.closest("#push-settings")) : null;
  if (!section) return;
  const button = section.querySelector("[data-push-on]");
  if (!supported()) {
    say(section, "This browser cannot show notifications from the app.");
    return;
  }
  if (Notification.permission === "denied") {
    say(section, "Notifications are blocked for this site: allow them in the browser's settings for it, then reload.");
    return;
  }
  const registration = await navigator.serviceWorker.ready;
  const current = await registration.pushManager.getSubscription();
  const on = current && localStorage.getItem(ON) === current.endpoint;
  if (on) markThisDevice(section, current.endpoint);
  button.hidden = !!on && !!section.querySelector(".this-device");
}

async function turnOn(button) {
  const section = button.closest("#push-settings");
  // Asked straight from the tap: Safari grants nothing asked for outside a user's gesture.
  const permission = await Notification.requestPermission();
  if (permission !== "granted") {
    say(section, permission === "denied"
      ? "Notifications are blocked for this site: allow them in the browser's settings for it, then try again."
      : "Notifications were not allowed. Tap the button again when you want them.");
    return;
  }
  say(section, "Turning notifications on…");
  try {
    const subscription = await subscribe(await navigator.serviceWorker.ready);
    const list = section.querySelector("#push-devices");
    await window.htmx.ajax("POST", list.dataset.pushTurnOn, {
      target: "#push-devices",
      swap: "outerHTML",
      values: { ...subscriptionForm(subscription), csrf_token: csrfToken() },
    });
    localStorage.setItem(ON, subscription.endpoint);
    sessionStorage.setItem(SENT, subscription.endpoint);
    say(section, "Notifications are on for this device.");
    prepare(document);
  } catch {
    say(section, "Notifications could not be turned on here. Check the connection and try again.");
  }
}

// The app opened: the subscription as it is now, to the server, once a visit (signed in).
async function refresh() {
  if (!supported() || Notification.permission !== "granted" || !localStorage.getItem(ON)) return;
  if (!signedInAs()) return;
  const registration = await navigator.serviceWorker.ready;
  const subscription = await subscribe(registration);
  if (sessionStorage.getItem(SENT) === subscription.endpoint) return;
  const body = new URLSearchParams({ ...subscriptionForm(subscription), previous: localStorage.getItem(ON) });
  const response = await fetch(script.dataset.pushRefresh, {
    method: "POST", body, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() },
  });
  if (response.status === 410) {
    await subscription.unsubscribe();
    localStorage.removeItem(ON);
  } else if (response.ok) {
    localStorage.setItem(ON, subscription.endpoint);
    sessionStorage.setItem(SENT, subscription.endpoint);
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("[data-push-on]");
  if (button) turnOn(button);
});

// "Turn off" on this device's own line: the browser forgets the subscription too.
document.addEventListener("htmx:afterRequest", async (event) => {
  const item = event.detail.elt.closest && event.detail.elt.closest("[data-endpoint]");
  if (!item || !event.detail.successful || item.dataset.endpoint !== localStorage.getItem(ON)) return;
  localStorage.removeItem(ON);
  const subscription = await (await navigator.serviceWorker.ready).pushManager.getSubscription();
  if (subscription) await subscription.unsubscribe();
  prepare(document);
});

let refreshed = null;

function opened(root) {
  prepare(root).catch(() => {});
  if (!refreshed && signedInAs()) refreshed = refresh().catch(() => {});
}

document.addEventListener("htmx:load", (event) => opened(event.target));
opened(document);
