import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { REQUEST_ID } from "../../src/domain/request-path.js";
import { generateRequestId, requestYaml } from "../../src/domain/request-yaml.js";
import { githubWebUrl, shellQuote } from "../../src/domain/shell-text.js";
import { parseStrictYaml } from "../../src/domain/strict-yaml.js";

const NOW = new Date("2026-11-30T09:00:00Z");

describe("generateRequestId", () => {
  it("is <login>-<role>-<yyyymmdd>-<4 base36>, lower-cased", () => {
    let n = 0;
    const random = () => [0, 10 / 36, 35 / 36, 0.5][n++ % 4] as number;
    expect(generateRequestId({ login: "Alice", role: "ec2-admin", now: NOW, random })).toBe(
      "alice-ec2-admin-20261130-0azi",
    );
  });

  it("always satisfies the id rule, whatever the login and role (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 100 }),
        fc.string({ maxLength: 100 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (login, role, r) => {
          const id = generateRequestId({ login, role, now: NOW, random: () => r });
          expect(id).toMatch(REQUEST_ID);
          expect(id).toMatch(/-20261130-[a-z0-9]{4}$/);
        },
      ),
    );
  });
});

/** False for what the strict loader refuses anywhere in a file: C0/C1 controls but tab, bidi controls, the BOM, separators. */
function loadable(text: string): boolean {
  return [...text].every((ch) => {
    const c = ch.codePointAt(0) ?? 0;
    const control = (c < 0x20 && c !== 0x09) || (c >= 0x7f && c <= 0x9f);
    const bidi =
      c === 0x61c || c === 0x200e || c === 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
    return !control && !bidi && c !== 0xfeff && c !== 0x2028 && c !== 0x2029;
  });
}

describe("requestYaml", () => {
  it("writes plain scalars where unambiguous and quotes what YAML 1.1 or 1.2 would coerce", () => {
    const text = requestYaml({
      requester: "alice",
      role: "ec2-admin",
      duration: "2h",
      reason: "on",
      ticket: "0123",
      start: "2026-11-30T09:00:00Z",
    });
    expect(text).toBe(
      'requester: alice\nrole: ec2-admin\nduration: 2h\nreason: "on"\nticket: "0123"\nstart: "2026-11-30T09:00:00Z"\n',
    );
    for (const word of [
      "yes",
      "no",
      "off",
      "true",
      "null",
      "~",
      "1e3",
      "0x1F",
      ".inf",
      "- item",
      "a: b",
      "#c",
      "x #y",
      " lead",
    ]) {
      const loaded = parseStrictYaml(requestYaml({ requester: "a", role: "r", duration: "1h", reason: word }));
      expect(loaded.ok && (loaded.document.value as Record<string, string>).reason).toBe(word);
    }
  });

  it("every string round-trips through the strict loader unchanged (property)", () => {
    // Strings the strict loader accepts at all: no C0/C1 controls except tab, no bidi controls, no BOM.
    const printable = fc.string({ unit: "grapheme", maxLength: 60 }).filter(loadable);
    fc.assert(
      fc.property(printable, printable, (reason, ticket) => {
        const text = requestYaml({ requester: "alice", role: "ec2-admin", duration: "1h", reason, ticket });
        const loaded = parseStrictYaml(text);
        expect(loaded.ok).toBe(true);
        if (loaded.ok)
          expect(loaded.document.value).toEqual({
            requester: "alice",
            role: "ec2-admin",
            duration: "1h",
            reason,
            ticket,
          });
      }),
      { numRuns: 300 },
    );
  });
});

describe("shellQuote", () => {
  it("leaves simple words alone and single-quotes the rest", () => {
    expect(shellQuote("elevate/alice-x")).toBe("elevate/alice-x");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("it's $(id) `x`")).toBe("'it'\\''s $(id) `x`'");
  });
});

describe("githubWebUrl", () => {
  it.each([
    ["git@github.com:acme/access.git", "https://github.com/acme/access"],
    ["https://github.com/acme/access.git", "https://github.com/acme/access"],
    ["https://x-token@github.example.com/acme/access", "https://github.example.com/acme/access"],
    ["ssh://git@github.com/acme/access.git", "https://github.com/acme/access"],
    ["/srv/git/access.git", undefined],
  ])("%s", (remote, expected) => {
    expect(githubWebUrl(remote)).toBe(expected);
  });
});
