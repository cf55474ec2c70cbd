/* A write the worker queued, shown in place of the form that made it: the worker answers 202 with
   the server's <template>s (templates/offline/pending.html), step two's form as kept for step one
   of Complete, and the write's data in X-Offline-Pending; this fills a copy of the right template
   with textContent and gives htmx the result to swap. */

function slot(root, name) {
  return root.querySelector("[data-slot='" + name + "']");
}

function pendingNote(node, data, calledOn) {
  const note = node.querySelector(".offline-pending");
  note.dataset.offlineKey = data.key;
  if (calledOn) note.dataset.calledOn = calledOn;
  note.querySelector(".offline-pending-text").textContent = data.text;
}

// The markup htmx swaps in, from the worker's answer (`html`) and its data.
export function pendingMarkup(html, data) {
  const answer = document.createElement("template");
  answer.innerHTML = html; // the server's own markup: its templates and, maybe, step two's form
  const forms = Array.from(answer.content.children).filter((node) => node.tagName !== "TEMPLATE");
  const holder = document.createElement("div");
  if (data.kind === "complete") {
    const step = answer.content.querySelector("template[data-pending='step']").content.cloneNode(true);
    pendingNote(step, data, data.calledOn);
    if (forms.length) slot(step, "form").replaceWith(...forms);
    holder.append(step);
    return holder.innerHTML;
  }
  // A touchpoint keeps its card's place (and id); a record or a response is an entry.
  const card = data.kind === "edit";
  const box = answer.content.querySelector("template[data-pending='" + (card ? "card" : "entry") + "']")
    .content.firstElementChild.cloneNode(true);
  box.id = card ? "touchpoint-" + data.touchpoint : "pending-" + data.key;
  slot(box, "label").textContent = data.label || "Your change";
  slot(box, "action").textContent = data.action;
  pendingNote(box, data);
  const fields = box.querySelector(".offline-fields");
  data.fields.forEach(([name, value]) => {
    const term = document.createElement("dt");
    const detail = document.createElement("dd");
    term.textContent = name;
    detail.textContent = value;
    fields.append(term, detail);
  });
  if (!data.fields.length) fields.remove();
  holder.append(box);
  return holder.innerHTML;
}
