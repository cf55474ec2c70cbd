/* The forms that make writes: what the worker is told of one it may queue (its heading, its
   fields' labels), and the dates the server would fill in, worked out here when it cannot be asked. */
import { isDay, nextCall, today } from "./schedule.js";

function labelOf(input) {
  var label = input.labels && input.labels[0];
  if (!label) return input.name;
  // The label's own words, not the text of the field inside it or of its error.
  return Array.prototype.filter.call(label.childNodes, function (node) { return node.nodeType === 3; })
    .map(function (node) { return node.textContent; }).join(" ").replace(/\s+/g, " ").trim() || input.name;
}

// What the worker shows of a write it queues: the form's heading and its fields' labels, and
// the words of chosen options (the body has their ids). Short: it travels in a header.
export function describe(form, user) {
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
  return { label: label.slice(0, 240), names: names, choices: choices, user: user };
}

// Next Call as the server works it out while the rep types (Last Call + Frequency), for when
// the server cannot be asked.
export function nextCallHere(form) {
  var last = form.elements.last_call.value;
  var days = parseInt(form.elements.frequency_days.value, 10);
  if (isDay(last) && days >= 1 && days <= 3650) {
    form.elements.next_call.value = nextCall(last, days);
  }
}

// Step two after an offline step one: the dates the server would have put there, worked out here
// (schedule.js's afterCall: Last Call = the call's date, Next Call = that + Frequency; an older
// call moves nothing).
export function fillStepTwo(root) {
  root.querySelectorAll("[data-called-on]").forEach(function (note) {
    var calledOn = note.dataset.calledOn;
    note.removeAttribute("data-called-on");
    var box = note.closest(".offline-step");
    var form = box && box.querySelector("form");
    if (!form || !form.elements.last_call || !isDay(calledOn)) return;
    if (form.elements.last_call.value && calledOn < form.elements.last_call.value) return;
    form.elements.last_call.value = calledOn;
    if (form.elements.next_call && form.elements.frequency_days) nextCallHere(form);
  });
}

// A date the server filled in as that day's today (data-today: a call's, a response's, a Last
// Call's) moved to today when the form is shown on a later day, from a page the phone kept
// offline overnight; a Next Call worked out from it follows. A date the rep typed is left alone.
export function keepToday(root) {
  if (!root.querySelectorAll) return;
  var now = today();
  root.querySelectorAll("input[data-today]").forEach(function (input) {
    var stale = input.value === input.dataset.today && input.dataset.today < now;
    input.dataset.today = now;
    if (!stale) return;
    input.value = now;
    var form = input.form;
    if (form && input.name === "last_call" && form.elements.next_call && form.elements.frequency_days) {
      nextCallHere(form);
    }
  });
}
