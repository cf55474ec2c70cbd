/* The schedule's rules as the server has them (tpweb/domain/schedule.py: next_call, after_call,
   due_state, due_label), for the phone to show what it has done while the server cannot be asked.
   Dates are ISO days ("2026-11-23"), worked on in UTC so that no clock change moves one.
   tests/js/schedule.test.mjs holds it to the cases of tests/test_schedule*.py. */

export const OVERDUE = "overdue";
export const DUE_TODAY = "due-today";
export const UPCOMING = "upcoming";
const LABELS = { [OVERDUE]: "Overdue", [DUE_TODAY]: "Due today", [UPCOMING]: "Upcoming" };
const DAY = 86400000;
const ISO = /^\d{4}-\d{2}-\d{2}$/;

export function isDay(value) {
  return typeof value === "string" && ISO.test(value) && !isNaN(Date.parse(value + "T00:00:00Z"));
}

function ordinal(iso) {
  return Date.parse(iso + "T00:00:00Z") / DAY;
}

export function addDays(iso, days) {
  return new Date((ordinal(iso) + days) * DAY).toISOString().slice(0, 10);
}

// The date a touchpoint falls due: its last call plus its frequency.
export function nextCall(lastCall, frequencyDays) {
  return addDays(lastCall, frequencyDays);
}

export function dueState(nextCallOn, today) {
  if (nextCallOn < today) return OVERDUE;
  if (nextCallOn === today) return DUE_TODAY;
  return UPCOMING;
}

// "Overdue 3 days", "Due today", "Upcoming · in 1 day", as the card's badge says it.
export function dueLabel(day, today) {
  const days = ordinal(day) - ordinal(today);
  const label = LABELS[dueState(day, today)];
  if (days < 0) return `${label} ${-days} day${days < -1 ? "s" : ""}`;
  if (days === 0) return label;
  return `${label} · in ${days} day${days > 1 ? "s" : ""}`;
}

// [last call, next call] once a call on `calledOn` is logged: an older call logged late never
// moves the schedule backwards; a call on the day of the last call counts.
export function afterCall(lastCall, nextCallOn, frequencyDays, calledOn) {
  if (calledOn < lastCall) return [lastCall, nextCallOn];
  return [calledOn, nextCall(calledOn, frequencyDays)];
}

// Today as an ISO day, as the server counts it: in the rep's own time zone (their settings', which
// the page's #offline-bar carries as data-timezone: inside <body>, so a boosted sign-in brings
// it), so a phone set to another zone dates a call as the server will check it; in the phone's
// own zone where the page names none.
export function today(now = new Date(), timeZone = pageZone()) {
  const parts = dayFormat(timeZone).formatToParts(now);
  const part = (type) => parts.find((p) => p.type === type).value;
  return `${part("year")}-${part("month")}-${part("day")}`;
}

// A zone this phone's clock data does not know (newer than its browser) is read as its own.
function dayFormat(timeZone) {
  const options = { year: "numeric", month: "2-digit", day: "2-digit" };
  try {
    return new Intl.DateTimeFormat("en-CA", { ...options, timeZone });
  } catch {
    return new Intl.DateTimeFormat("en-CA", options);
  }
}

function pageZone() {
  return globalThis.document?.getElementById("offline-bar")?.dataset.timezone || undefined;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// A card's dates as the server writes them: "Wed Dec 23, 2026" (long) or "Dec 23".
export function cardDate(iso, long) {
  const date = new Date(iso + "T00:00:00Z");
  const short = MONTHS[date.getUTCMonth()] + " " + date.getUTCDate();
  return long ? `${DAYS[date.getUTCDay()]} ${short}, ${date.getUTCFullYear()}` : short;
}
