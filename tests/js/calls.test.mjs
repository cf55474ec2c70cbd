// Back from a call (static/offline/calls.js): the call's length from the time away.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { minutesAway } from "../../static/offline/calls.js";

describe("the minutes of a call, from the time away", () => {
  it("are rounded up", () => {
    assert.equal(minutesAway(7.5 * 60000, 1440), 8);
    assert.equal(minutesAway(60001, 1440), 2);
    assert.equal(minutesAway(120000, 1440), 2);
  });

  it("are at least 1", () => {
    assert.equal(minutesAway(0, 1440), 1);
    assert.equal(minutesAway(4000, 1440), 1);
  });

  it("are at most the form's own maximum, when it has one", () => {
    assert.equal(minutesAway(30 * 3600000, 1440), 1440);
    assert.equal(minutesAway(30 * 3600000, 0), 1800);
  });
});
