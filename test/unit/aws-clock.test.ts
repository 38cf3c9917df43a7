import { describe, expect, it } from "vitest";
import { AwsClock, observeAwsTime } from "../../src/adapters/aws-clock.js";

describe("AwsClock: AWS's time from response Date headers", () => {
  it("is unknown (and refuses to answer) until a response was seen", () => {
    const clock = new AwsClock(() => 0);
    expect(clock.known).toBe(false);
    expect(() => clock.now()).toThrow(/AWS's time is not known yet/);
    clock.observe(undefined);
    clock.observe("not a date");
    expect(clock.known).toBe(false);
  });

  it("carries the observed time forward on the local clock, whatever the local clock's own time", () => {
    let local = Date.parse("2026-11-30T10:30:00Z"); // the runner is 2 h ahead
    const clock = new AwsClock(() => local);
    clock.observe("Mon, 30 Nov 2026 08:30:00 GMT");
    expect(clock.now().toISOString()).toBe("2026-11-30T08:30:00.000Z");
    local += 90_000;
    expect(clock.now().toISOString()).toBe("2026-11-30T08:31:30.000Z");
    expect(clock.skewOf(new Date(local))).toBe(2 * 3_600_000);
  });

  it("keeps the greatest lower bound: a Date names the start of its second, a slow response an older one", () => {
    let local = 1_000_000;
    const clock = new AwsClock(() => local);
    clock.observe("Mon, 30 Nov 2026 08:30:00 GMT", local); // generated in 08:30:00.xxx
    local += 2_500;
    clock.observe("Mon, 30 Nov 2026 08:30:01 GMT", local); // slow: a smaller offset, ignored
    expect(clock.now().toISOString()).toBe("2026-11-30T08:30:02.500Z");
    clock.observe("Mon, 30 Nov 2026 08:30:03 GMT", local); // a later second seen now: moves forward
    expect(clock.now().toISOString()).toBe("2026-11-30T08:30:03.000Z");
  });

  it("the middleware reads the Date of successful and failed responses", async () => {
    const clock = new AwsClock(() => 0);
    const added: ((next: (a: unknown) => Promise<{ response: unknown }>) => (a: unknown) => Promise<unknown>)[] = [];
    observeAwsTime({ middlewareStack: { add: (mw: (typeof added)[number]) => added.push(mw) } }, clock);
    const middleware = added[0] as (typeof added)[number];
    await middleware(async () => ({ response: { headers: { date: "Mon, 30 Nov 2026 08:30:00 GMT" } } }))({});
    expect(clock.now().toISOString()).toBe("2026-11-30T08:30:00.000Z");
    const failing = middleware(async () => {
      throw Object.assign(new Error("AccessDenied"), {
        $response: { headers: { date: "Mon, 30 Nov 2026 08:31:00 GMT" } },
      });
    });
    await expect(failing({})).rejects.toThrow("AccessDenied");
    expect(clock.now().toISOString()).toBe("2026-11-30T08:31:00.000Z");
  });
});
