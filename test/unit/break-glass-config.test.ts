/**
 * `roles.<key>.breakGlass` in .github/elevate.yml: the schema, its located
 * errors and its resolution (src/domain/config.ts).
 */
import { describe, expect, it } from "vitest";
import { findRole, loadConfig } from "../../src/domain/config.js";
import { CONFIG_TEXT } from "./domain-fixtures.js";

/** The fixture config with `body` (indented by 4) as `roles.read-only.breakGlass`. */
function withBreakGlass(body: string): string {
  return `${CONFIG_TEXT}    breakGlass:\n${body
    .split("\n")
    .map((line) => `      ${line}`)
    .join("\n")}\n`;
}

function errorsOf(text: string): string[] {
  const loaded = loadConfig(text, ".github/elevate.yml");
  return (loaded.errors ?? []).map((e) => `${e.line}:${e.col} ${e.message}`);
}

const LAST_LINE = CONFIG_TEXT.split("\n").length; // 1-based line of "    breakGlass:"

describe("roles.<key>.breakGlass", () => {
  it("defaults to a 1h ceiling and the role's requesters", () => {
    const loaded = loadConfig(`${CONFIG_TEXT}    breakGlass: {}\n`, ".github/elevate.yml");
    expect(loaded.errors).toBeUndefined();
    const role = findRole(loaded.config!, "read-only");
    expect(role?.breakGlass).toEqual({
      maxDuration: "1h",
      maxDurationMs: 3_600_000,
      requesters: ["alice", "bob", "Carol-X"],
    });
    expect(findRole(loaded.config!, "ec2-admin")?.breakGlass).toBeUndefined();
  });

  it("resolves its own requesters to the logins as written in users", () => {
    const loaded = loadConfig(withBreakGlass("maxDuration: 30m\nrequesters: [carol-x]"), "f");
    expect(loaded.errors).toBeUndefined();
    expect(findRole(loaded.config!, "read-only")?.breakGlass).toEqual({
      maxDuration: "30m",
      maxDurationMs: 1_800_000,
      requesters: ["Carol-X"],
    });
  });

  it.each([
    [
      "a duration above the 1h ceiling",
      "maxDuration: 2h",
      /maxDuration: "2h" is longer than 1h, the most a break-glass grant/,
    ],
    ["a duration below the 15m minimum", "maxDuration: 5m", /shorter than the 15m minimum/],
    ["a malformed duration", "maxDuration: 1.5h", /not a whole number/],
    [
      "an unknown key",
      "approvals: 0",
      /unknown key "approvals" in roles\.read-only\.breakGlass; allowed keys: maxDuration, requesters/,
    ],
    [
      "an unlisted requester",
      "requesters: [mallory]",
      /roles\.read-only\.breakGlass\.requesters: "mallory" is not listed under users/,
    ],
    ["a requester listed twice", "requesters: [bob, BOB]", /"BOB" is listed twice/],
  ])("reports %s at the offending node", (_label, body, message) => {
    const errors = errorsOf(withBreakGlass(body));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
    expect(errors[0]).toMatch(new RegExp(`^${LAST_LINE + 1}:`));
  });

  it("reports an empty breakGlass", () => {
    expect(errorsOf(`${CONFIG_TEXT}    breakGlass:\n`)).toEqual([
      `${LAST_LINE}:5 roles.read-only.breakGlass is empty; it must be a map of keys`,
    ]);
  });
});
