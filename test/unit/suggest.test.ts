import { describe, expect, it } from "vitest";
import { closestName, editDistance } from "../../src/domain/suggest.js";

describe("editDistance (optimal string alignment)", () => {
  it.each([
    ["", "", 0],
    ["", "abc", 3],
    ["abc", "", 3],
    ["validate", "validate", 0],
    ["valdate", "validate", 1], // deletion
    ["validatee", "validate", 1], // insertion
    ["valodate", "validate", 1], // substitution
    ["valdiate", "validate", 1], // adjacent transposition counts once
    ["kitten", "sitting", 3],
    ["ca", "abc", 3], // OSA, not unrestricted Damerau: no edit of a transposed pair
  ])("%j → %j is %i", (a, b, expected) => {
    expect(editDistance(a, b)).toBe(expected);
    expect(editDistance(b, a)).toBe(expected);
  });
});

describe("closestName", () => {
  const commands = ["validate", "plan", "request", "audit", "status", "demo"];

  it("suggests the command one typo away", () => {
    expect(closestName("valdiate", commands)).toBe("validate");
    expect(closestName("stauts", commands)).toBe("status");
    expect(closestName("reqest", commands)).toBe("request");
    expect(closestName("PLAN", commands)).toBe("plan");
  });

  it("completes an unambiguous prefix", () => {
    expect(closestName("req", commands)).toBe("request");
    expect(closestName("d", commands)).toBe("demo");
  });

  it("suggests nothing for words that are not near any name", () => {
    expect(closestName("frobnicate", commands)).toBeUndefined();
    expect(closestName("xyz", commands)).toBeUndefined();
    expect(closestName("", commands)).toBeUndefined();
    expect(closestName("anything", [])).toBeUndefined();
  });

  it("allows more edits for longer names, at most three", () => {
    expect(closestName("merged-as", ["merged-at", "format"])).toBe("merged-at");
    expect(closestName("frmt", ["format"])).toBeUndefined(); // 2 edits in 4 letters is too far
    expect(closestName("dry-runn-xx", ["dry-run"])).toBeUndefined();
  });

  it("breaks ties by the order names are listed", () => {
    expect(closestName("fo", ["fa", "fb"])).toBe("fa");
  });
});
