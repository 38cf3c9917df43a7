import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDuration, MAX_DURATION_MS, parseDuration } from "../../src/domain/duration.js";

const ms = (text: string) => {
  const r = parseDuration(text);
  if (!r.ok) throw new Error(r.message);
  return r.ms;
};

describe("parseDuration", () => {
  it.each([
    ["2h", 2 * 3_600_000],
    ["90m", 90 * 60_000],
    ["1h30m", 90 * 60_000],
    ["45m0s", 45 * 60_000],
    ["1h0m5s", 3_605_000],
    ["3600s", 3_600_000],
    ["0", 0],
    ["0s", 0],
    ["10000h", MAX_DURATION_MS],
  ])("%s", (text, expected) => {
    expect(ms(text)).toBe(expected);
  });

  it.each([
    ["-1h", /has a sign/],
    ["+1h", /has a sign/],
    ["1.5h", /not a whole number/],
    ["1e9h", /not a whole number/],
    ["P1D", /ISO 8601/],
    ["PT1H", /ISO 8601/],
    ["1:30", /clock notation/],
    ["90", /no unit/],
    ["", /empty/],
    [" 2h", /invalid duration/],
    ["2 h", /invalid duration/],
    ["2H", /invalid duration/],
    ["1d", /invalid duration/],
    ["500ms", /invalid duration/],
    ["30m1h", /invalid duration/],
    ["1h1h", /invalid duration/],
    ["10001h", /longer than the limit of 10000h/],
    ["9999999999h", /invalid duration/],
    ["Infinityh", /invalid duration/],
  ])("refuses %j", (text, message) => {
    const r = parseDuration(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });
});

describe("formatDuration", () => {
  it("writes the canonical, shortest form", () => {
    expect(formatDuration(2 * 3_600_000)).toBe("2h");
    expect(formatDuration(90 * 60_000)).toBe("1h30m");
    expect(formatDuration(45 * 60_000)).toBe("45m");
    expect(formatDuration(3_605_000)).toBe("1h5s");
    expect(formatDuration(0)).toBe("0s");
  });

  it("refuses what no duration can be", () => {
    for (const bad of [-1000, 1500, Number.NaN, MAX_DURATION_MS + 1000, Number.POSITIVE_INFINITY]) {
      expect(() => formatDuration(bad)).toThrow(RangeError);
    }
  });

  it("round-trips: parse(format(d)) === d for every whole-second duration in range", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_DURATION_MS / 1000 }), (seconds) => {
        const text = formatDuration(seconds * 1000);
        expect(ms(text)).toBe(seconds * 1000);
      }),
      { numRuns: 2000 },
    );
  });

  it("round-trips: format(parse(s)) is canonical and parses back to the same value", () => {
    const component = (unit: string, max: number) =>
      fc.option(
        fc.integer({ min: 0, max }).map((n) => `${n}${unit}`),
        { nil: "" },
      );
    fc.assert(
      fc.property(component("h", 9999), component("m", 600), component("s", 600), (h, m, s) => {
        const text = `${h}${m}${s}`;
        const parsed = parseDuration(text);
        if (text === "" || !parsed.ok) return;
        const canonical = formatDuration(parsed.ms);
        expect(ms(canonical)).toBe(parsed.ms);
        expect(formatDuration(ms(canonical))).toBe(canonical);
      }),
      { numRuns: 2000 },
    );
  });
});
