// The phone's copy of the schedule's rules (static/offline/schedule.js), on the cases of
// tests/test_schedule.py and tests/test_schedule_rules.py.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  DUE_TODAY, OVERDUE, UPCOMING, addDays, afterCall, cardDate, dueLabel, dueState, isDay, nextCall, today,
} from "../../static/offline/schedule.js";

describe("next call", () => {
  it("adds the frequency across month and leap day", () => {
    assert.equal(nextCall("2026-11-23", 30), "2026-12-23");
    assert.equal(nextCall("2028-02-28", 1), "2028-02-29");
    assert.equal(nextCall("2026-12-31", 1), "2027-01-01");
  });

  it("is not moved by a clock change (Chicago's in March and November)", () => {
    assert.equal(addDays("2026-03-07", 1), "2026-03-08");
    assert.equal(addDays("2026-03-08", 1), "2026-03-09");
    assert.equal(addDays("2026-10-31", 2), "2026-11-02");
  });
});

describe("due state", () => {
  for (const [day, state] of [["2026-11-22", OVERDUE], ["2026-11-23", DUE_TODAY], ["2026-11-24", UPCOMING]]) {
    it(`${day} against 2026-11-23 is ${state}`, () => assert.equal(dueState(day, "2026-11-23"), state));
  }
});

describe("a badge says how far a due date is", () => {
  const cases = [[-3, "Overdue 3 days"], [-2, "Overdue 2 days"], [-1, "Overdue 1 day"], [0, "Due today"],
    [1, "Upcoming · in 1 day"], [2, "Upcoming · in 2 days"], [9, "Upcoming · in 9 days"]];
  for (const [days, label] of cases) {
    it(label, () => assert.equal(dueLabel(addDays("2026-11-30", days), "2026-11-30"), label));
  }
});

describe("after a call", () => {
  it("moves last and next call from the call date", () => {
    assert.deepEqual(afterCall("2026-10-01", "2026-10-31", 30, "2026-11-23"), ["2026-11-23", "2026-12-23"]);
  });

  it("leaves the schedule alone for a call older than last call", () => {
    assert.deepEqual(afterCall("2026-11-01", "2026-12-01", 30, "2026-10-15"), ["2026-11-01", "2026-12-01"]);
  });

  it("leaves the schedule alone for a call the day before last call", () => {
    assert.deepEqual(afterCall("2026-11-23", "2026-11-26", 30, "2026-11-22"), ["2026-11-23", "2026-11-26"]);
  });

  it("counts a call on the day of last call, replacing a custom next call", () => {
    assert.deepEqual(afterCall("2026-11-23", "2026-11-26", 30, "2026-11-23"), ["2026-11-23", "2026-12-23"]);
    assert.deepEqual(afterCall("2026-11-23", "2027-03-01", 30, "2026-11-23"), ["2026-11-23", "2026-12-23"]);
  });
});

describe("the phone's dates", () => {
  it("today is the phone's own calendar date, not UTC's", () => {
    assert.equal(today(new Date(2026, 10, 23, 23, 59)), "2026-11-23");
    assert.equal(today(new Date(2026, 0, 1, 0, 0)), "2026-01-01");
  });

  it("today is the rep's own time zone's date where the page names one", () => {
    // 00:30 UTC on Dec 5 is still the evening of Dec 4 in Chicago, already Dec 5 in Tokyo.
    const instant = new Date(Date.UTC(2026, 11, 5, 0, 30));
    assert.equal(today(instant, "America/Chicago"), "2026-12-04");
    assert.equal(today(instant, "Asia/Tokyo"), "2026-12-05");
    assert.equal(today(new Date(Date.UTC(2026, 11, 31, 23, 30)), "Pacific/Kiritimati"), "2027-01-01");
    const phone = new Date(2026, 10, 23, 23, 59);
    assert.equal(today(phone, "Not/A_Zone"), "2026-11-23"); // unknown to this phone: its own
  });

  it("writes a card's dates as the server does", () => {
    assert.equal(cardDate("2026-12-23", true), "Wed Dec 23, 2026");
    assert.equal(cardDate("2026-12-03", false), "Dec 3");
  });

  it("knows an ISO day", () => {
    assert.ok(isDay("2026-11-23"));
    assert.ok(!isDay("2026-13-40"));
    assert.ok(!isDay("23/11/2026"));
    assert.ok(!isDay(undefined));
  });
});

describe("a card's schedule once its waiting writes are sent (static/offline/cards.js)", async () => {
  const { phoneView } = await import("../../static/offline/cards.js");
  const server = { last: "2026-10-22", next: "2026-11-21", frequency: 30 };

  it("is completed, with Next Call from the call's date", () => {
    assert.deepEqual(phoneView(server, [{ kind: "complete", calledOn: "2026-11-23" }]),
      { last: "2026-11-23", next: "2026-12-23", frequency: 30, completed: true });
  });

  it("takes step two's dates over those worked out", () => {
    const changes = [{ kind: "complete", calledOn: "2026-11-23" },
      { kind: "edit", last_call: "2026-11-23", next_call: "2026-12-01", frequency_days: "8" }];
    assert.deepEqual(phoneView(server, changes), { last: "2026-11-23", next: "2026-12-01", frequency: 8, completed: true });
  });

  it("leaves the schedule for a call older than last call, but is still completed", () => {
    assert.deepEqual(phoneView(server, [{ kind: "complete", calledOn: "2026-10-01" }]), { ...server, completed: true });
  });

  it("is a Reschedule's dates, not completed", () => {
    assert.deepEqual(phoneView(server, [{ kind: "edit", next_call: "2026-11-30", frequency_days: "30" }]),
      { ...server, next: "2026-11-30", completed: false });
  });
});
