/* Reminder notifications in the service worker: every push shows a notification (a push that
   shows none is a silent push, and iOS revokes the subscription after a few), and tapping one
   opens its item in the app (Complete for a touchpoint, Record response for a task, My tasks for
   a digest). The page's side, turning them on, is static/push.js.

   What the sweep sends (tpweb/jobs/push.py) is JSON: { title, body, url, tag }. The same tag
   replaces a notification rather than adding one: a push sent again after a crash shows once. */

const FALLBACK = { title: "Touchpoints", body: "You have reminders due.", url: "/tasks" };
const ICON = "/static/icons/icon-192.png";

// A push's payload, as far as it can be read; anything else gets the fallback words.
export function readPayload(data) {
  if (!data) return {};
  try {
    const value = data.json();
    return value && typeof value === "object" ? value : {};
  } catch {
    return {};
  }
}

// Where a tap goes: the payload's page, on this app's own origin whatever host the link names.
export function itemUrl(url, scope) {
  const base = new URL(scope);
  try {
    const target = new URL(url, base);
    if (target.protocol === "http:" || target.protocol === "https:") {
      return new URL(target.pathname + target.search + target.hash, base).href;
    }
  } catch {
    // not a URL: the fallback below
  }
  return new URL(FALLBACK.url, base).href;
}

function text(value, fallback, limit) {
  return typeof value === "string" && value.trim() ? value.slice(0, limit) : fallback;
}

// The title and showNotification options for a payload.
export function notificationFor(payload, scope) {
  const options = {
    body: text(payload.body, FALLBACK.body, 600),
    icon: new URL(ICON, scope).href,
    badge: new URL(ICON, scope).href,
    data: { url: itemUrl(typeof payload.url === "string" ? payload.url : FALLBACK.url, scope) },
  };
  if (typeof payload.tag === "string" && payload.tag) options.tag = payload.tag.slice(0, 100);
  return { title: text(payload.title, FALLBACK.title, 120), options };
}

// Opens `url`: in a window of the app when there is one (focused first, while the tap allows
// it), else in a new one.
export async function openItem(clients, url) {
  const windows = await clients.matchAll({ type: "window" });
  const client = windows.find((each) => each.url === url) || windows[0];
  if (!client) return clients.openWindow(url);
  const focused = await client.focus().catch(() => client);
  return client.url === url ? focused : client.navigate(url);
}

export function listenForPushes(scope) {
  scope.addEventListener("push", (event) => {
    const { title, options } = notificationFor(readPayload(event.data), scope.registration.scope);
    event.waitUntil(scope.registration.showNotification(title, options));
  });
  scope.addEventListener("notificationclick", (event) => {
    event.notification.close();
    const url = (event.notification.data && event.notification.data.url) || itemUrl("", scope.registration.scope);
    event.waitUntil(openItem(scope.clients, url));
  });
}

// The VAPID public key (base64url) as pushManager.subscribe takes it.
export function keyBytes(key) {
  const padded = key.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (key.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

// A PushSubscription as the server's form takes it.
export function subscriptionForm(subscription) {
  const json = subscription.toJSON();
  return { endpoint: json.endpoint, p256dh: json.keys.p256dh, auth: json.keys.auth };
}
