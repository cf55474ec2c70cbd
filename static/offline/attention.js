/* Needs your attention (#offline-attention), rendered from what the worker keeps: each refused
   write with the rep's fields (textContent) and the server's answer (the server's escaped HTML). */
import { el, timeEl } from "./bar.js";

var WHY = {
  404: "It is no longer on your list, or no longer exists.",
  409: "The server could not take it as it was.",
  422: "The server refused it."
};

export function renderAttention(items) {
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
