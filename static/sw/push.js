/* Reminder notifications in the service worker: every push shows a notification (a push that
   shows none is a silent push, and iOS revokes the subscription after a few), and tapping one
   opens its item in the app (Complete for a touchpoint, Record response for a task, My tasks for
   a digest). The page's side, turning them on, is static/push.js.

   What the sweep sends (tpweb/jobs/push.py) is JSON: { title, body, url, tag, actions }. The
   same tag replaces a notification rather than adding one: a push sent again after a crash shows
   once. `actions` (one reminder's, never a digest's) are the email's one-tap actions, each
   { action, title, url } with its signed link: a tap on one of those buttons opens that link's
   page (Done: Complete or Record response; a snooze: its page with one button, whose POST does
   it once), never the action itself: a notification's button cannot ask for the POST's CSRF
   token. Chrome shows the first two buttons (Notification.maxActions), Safari and Firefox none:
   the notification itself still opens the item. */

const FALLBACK = { title: "Touchpoints", body: "You have reminders due.", url: "/tasks" };
const ICON = "/static/icons/icon-192.png";
// Done, Snooze to tomorrow, Next week: what the sweep sends; more are not read.
const MOST_ACTIONS = 3;

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

function named(value) {
  return typeof value === "string" && value.trim() !== "";
}

// The payload's one-tap actions that can be shown: each with a name, a title and a link.
function readActions(actions) {
  if (!Array.isArray(actions)) return [];
  const valid = actions.filter((each) => each && named(each.action) && named(each.title) && named(each.url));
  return valid.slice(0, MOST_ACTIONS);
}

// The title and showNotification options for a payload: its buttons in `actions`, their links
// in `data.actions` by name (the notificationclick event names the button, nothing more).
export function notificationFor(payload, scope) {
  const options = {
    body: text(payload.body, FALLBACK.body, 600),
    icon: new URL(ICON, scope).href,
    badge: new URL(ICON, scope).href,
    data: { url: itemUrl(typeof payload.url === "string" ? payload.url : FALLBACK.url, scope) },
  };
  if (typeof payload.tag === "string" && payload.tag) options.tag = payload.tag.slice(0, 100);
  const actions = readActions(payload.actions);
  if (actions.length) {
    options.actions = actions.map((each) => ({ action: each.action.slice(0, 20), title: each.title.slice(0, 40) }));
    options.data.actions = Object.fromEntries(
      actions.map((each) => [each.action.slice(0, 20), itemUrl(each.url, scope)]),
    );
  }
  return { title: text(payload.title, FALLBACK.title, 120), options };
}

// Where a tap goes: a button's link for a tap on that button (`action`, its name), else the
// notification's own page; on this app's origin either way.
export function tapUrl(data, action, scope) {
  const links = (data && data.actions) || {};
  const chosen = action && Object.hasOwn(links, action) ? links[action] : data && data.url;
  return itemUrl(named(chosen) ? chosen : FALLBACK.url, scope);
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
    const url = tapUrl(event.notification.data, event.action, scope.registration.scope);
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
