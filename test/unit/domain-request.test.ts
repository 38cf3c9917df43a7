import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseTimestamp, validateRequest } from "../../src/domain/request.js";
import { duplicateIdMessage, findDuplicateRequestIds, parseRequestPath } from "../../src/domain/request-path.js";
import { exampleConfig, requestText, VALID_EC2 } from "./domain-fixtures.js";

const config = exampleConfig();
const NOW = new Date("2026-11-30T08:00:00Z");
const PATH = "requests/ec2-admin/resize-web-asg.yaml";

function validate(text: string | Uint8Array, options: { path?: string; author?: string; now?: Date } = {}) {
  return validateRequest({ text, path: options.path ?? PATH, config, author: options.author, now: options.now ?? NOW });
}

/** The one error a request produces (fails the test on zero or several). */
function onlyError(text: string, options: { path?: string; author?: string; now?: Date } = {}) {
  const { request, errors } = validate(text, options);
  expect(request).toBeUndefined();
  expect(errors, JSON.stringify(errors)).toHaveLength(1);
  return errors[0];
}

const withField = (key: string, value: string | undefined) => requestText({ ...VALID_EC2, [key]: value });

describe("validateRequest: a valid request", () => {
  it("returns the request with the resolved user, role and duration", () => {
    const { request, errors } = validate(requestText(VALID_EC2), { author: "alice" });
    expect(errors).toEqual([]);
    expect(request).toEqual({
      path: PATH,
      id: "resize-web-asg",
      role: "ec2-admin",
      access: {
        kind: "role",
        roleArn: "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role",
        iamUser: "alice.smith",
      },
      requester: "alice",
      duration: "1h30m",
      durationMs: 5_400_000,
      reason: "Resize the web ASG during INC-1234",
      ticket: "INC-1234",
      approvals: 2,
    });
  });

  it("accepts .yml, a start with an offset, and a login in another case", () => {
    const text = requestText({ ...VALID_EC2, requester: "Alice", start: "2026-11-30T18:00:00+09:00" });
    const { request, errors } = validate(text, { path: "requests/ec2-admin/abc.yml", author: "ALICE" });
    expect(errors).toEqual([]);
    expect(request?.requester).toBe("alice");
    expect(request?.start?.toISOString()).toBe("2026-11-30T09:00:00.000Z");
  });

  it("accepts a start exactly 7 days ahead (the lead-time limit is inclusive)", () => {
    const { request, errors } = validate(withField("start", "2026-12-07T08:00:00Z"));
    expect(errors).toEqual([]);
    expect(request?.start?.toISOString()).toBe("2026-12-07T08:00:00.000Z");
  });

  it("accepts a start in the past whose window is still open", () => {
    const text = withField("start", "2026-11-30T07:00:00Z");
    expect(validate(text).errors).toEqual([]);
  });

  it("does not need a ticket for a role that does not require one", () => {
    const text = requestText({
      requester: "bob",
      role: "read-only",
      duration: "4h",
      reason: "Investigate billing spike",
    });
    expect(validate(text, { path: "requests/read-only/billing-1.yaml" }).errors).toEqual([]);
  });
});

describe("validateRequest: every rule gets a located error", () => {
  it.each([
    [
      "requester not in users",
      withField("requester", "mallory"),
      1,
      12,
      /requester "mallory" is not listed under users/,
    ],
    [
      "requester not allowed for the role",
      withField("requester", "bob"),
      1,
      12,
      /"bob" may not request role "ec2-admin"/,
    ],
    ["requester not a login", withField("requester", "a b"), 1, 12, /not a GitHub login/],
    ["duration 0", withField("duration", "0"), 3, 11, /shorter than the minimum of 15m/],
    ["duration -1h", withField("duration", "-1h"), 3, 11, /has a sign/],
    ["duration 1.5h", withField("duration", "1.5h"), 3, 11, /not a whole number/],
    ["duration 1e9h", withField("duration", "1e9h"), 3, 11, /not a whole number/],
    ["duration P1D", withField("duration", "P1D"), 3, 11, /ISO 8601/],
    ["duration 1:30", withField("duration", "1:30"), 3, 11, /clock notation/],
    [
      "duration over the role maximum",
      withField("duration", "2h1s"),
      3,
      11,
      /longer than the maximum of 2h for role "ec2-admin"/,
    ],
    ["duration under 15m", withField("duration", "14m59s"), 3, 11, /shorter than the minimum of 15m/],
    ["reason too short", withField("reason", "fix it"), 4, 9, /reason is 6 characters; write at least 10/],
    ["reason too long", withField("reason", "x".repeat(501)), 4, 9, /reason is 501 characters; the limit is 500/],
    [
      "reason with a control character",
      withField("reason", '"Resize the \\u0007 ASG now"'),
      4,
      9,
      /non-printable character \(U\+0007\)/,
    ],
    ["reason with a line break", withField("reason", '"Resize the web\\nASG now"'), 4, 9, /line break/],
    ["reason with a bidi override", withField("reason", '"Resize the \\u202e ASG now"'), 4, 9, /U\+202E/],
    ["reason only blanks", withField("reason", '"            "'), 4, 9, /reason is 0 characters/],
    ["missing ticket when required", withField("ticket", undefined), 1, 1, /role "ec2-admin" requires a ticket/],
    ["bad ticket", withField("ticket", '"INC 1234"'), 5, 9, /not a ticket reference/],
    ["start without a zone", withField("start", "2026-11-30T09:00:00"), 6, 8, /has no time zone; add Z/],
    ["start unparseable", withField("start", "next tuesday"), 6, 8, /not an RFC 3339 timestamp/],
    ["start not a real date", withField("start", "2026-02-30T09:00:00Z"), 6, 8, /not a real date/],
    ["start as a date only", withField("start", "2026-12-01"), 6, 8, /date without a time/],
    [
      "start whose window has closed",
      withField("start", "2026-11-30T06:00:00Z"),
      6,
      8,
      /the requested window closed at 2026-11-30T07:30:00.000Z/,
    ],
    [
      "start more than 7 days ahead (the stack's MaxGrantLeadTime)",
      withField("start", "2026-12-07T08:00:01Z"),
      6,
      8,
      /start 2026-12-07T08:00:01.000Z is more than 7 days after 2026-11-30T08:00:00.000Z; a request may start at most 7 days ahead/,
    ],
    [
      "start far in the future, with an offset",
      withField("start", "2027-06-01T09:00:00+09:00"),
      6,
      8,
      /more than 7 days after/,
    ],
    [
      "unknown key",
      `${requestText(VALID_EC2)}approver: bob\n`,
      6,
      1,
      /unknown key "approver"; allowed keys: requester, role, duration, reason, ticket, start/,
    ],
    ["missing required key", withField("reason", undefined), 1, 1, /missing required key "reason"/],
    ["empty value", withField("duration", ""), 3, 1, /duration is empty/],
    ["list instead of text", withField("requester", "[alice]"), 1, 12, /requester must be a text value, not a list/],
  ])("%s", (_name, text, line, col, message) => {
    const error = onlyError(text);
    expect(error).toMatchObject({ file: PATH, line, col });
    expect(error?.message).toMatch(message);
  });

  it("unknown role (in a folder of the same name)", () => {
    const error = onlyError(withField("role", "db-admin"), { path: "requests/db-admin/resize-web-asg.yaml" });
    expect(error).toMatchObject({ line: 2, col: 7 });
    expect(error?.message).toBe(`role "db-admin" is not in the config's role catalog (roles: ec2-admin, read-only)`);
  });

  it("folder != role", () => {
    const error = onlyError(requestText({ ...VALID_EC2 }), { path: "requests/read-only/resize-web-asg.yaml" });
    expect(error).toMatchObject({ line: 2, col: 7 });
    expect(error?.message).toMatch(/role "ec2-admin" does not match the folder requests\/read-only\/; move the file/);
  });

  it("requester != author", () => {
    const error = onlyError(requestText(VALID_EC2), { author: "bob" });
    expect(error).toMatchObject({ line: 1, col: 12 });
    expect(error?.message).toMatch(/requester "alice" is not the pull request author "bob"/);
  });

  it("yes, on and 0123 stay strings and fail the string rules, not a type check", () => {
    const yes = onlyError(withField("requester", "yes"));
    expect(yes?.message).toBe(
      'requester "yes" is not listed under users in the config; ask the platform team to add them',
    );
    const on = onlyError(withField("reason", "on"));
    expect(on?.message).toMatch(/reason is 2 characters/);
  });

  it("keeps 0123 as the ticket text, not the number 123", () => {
    const { request, errors } = validate(withField("ticket", "0123"));
    expect(errors).toEqual([]);
    expect(request?.ticket).toBe("0123");
  });
});

describe("validateRequest: YAML attacks and file-level problems", () => {
  it.each([
    ["billion laughs", 'a: &a ["lol","lol"]\nb: &b [*a,*a]\nc: [*b,*b]\n', 1, 7, /anchors/],
    ["merge key", `<<: {requester: alice}\n${requestText(VALID_EC2)}`, 1, 1, /merge keys/],
    ["tag", requestText({ ...VALID_EC2, duration: "!!str 2h" }), 3, 17, /tags/],
    ["duplicate key", `${requestText(VALID_EC2)}requester: bob\n`, 6, 1, /duplicate key "requester"/],
    ["two documents", `${requestText(VALID_EC2)}---\n${requestText(VALID_EC2)}`, 6, 1, /more than one YAML document/],
    ["BOM", `\ufeff${requestText(VALID_EC2)}`, 1, 1, /byte order mark/],
    ["NUL byte", requestText({ ...VALID_EC2, reason: "Resize\u0000 the web ASG" }), 4, 15, /NUL byte/],
    ["9 KiB file", `${requestText(VALID_EC2)}# ${"x".repeat(9 * 1024)}\n`, 1, 1, /the limit is 8192 bytes/],
    ["not a map", "- alice\n", 1, 1, /a request must be a map/],
    ["empty file", "", 1, 1, /a request must be a map/],
  ])("%s", (_name, text, line, col, message) => {
    const { request, errors } = validate(text);
    expect(request).toBeUndefined();
    expect(errors[0]).toMatchObject({ line, col });
    expect(errors[0]?.message).toMatch(message);
  });

  it("refuses non-UTF-8 bytes", () => {
    const bytes = new Uint8Array([...new TextEncoder().encode(requestText(VALID_EC2)), 0xff]);
    expect(validate(bytes).errors[0]?.message).toMatch(/not valid UTF-8/);
  });

  it("collects every error in one pass, sorted by position", () => {
    const text = requestText({ requester: "bob", role: "ec2-admin", duration: "5h", reason: "short", extra: "x" });
    const { errors } = validate(text, { author: "alice" });
    expect(errors.map((e) => [e.line, e.col])).toEqual([
      [1, 1],
      [1, 12],
      [1, 12],
      [3, 11],
      [4, 9],
      [5, 1],
    ]);
    expect(errors.map((e) => e.message).join("\n")).toMatch(/requires a ticket[\s\S]*may not request[\s\S]*author/);
  });

  it("any string yields a valid request or located errors, never an exception", () => {
    const keys = ["requester", "role", "duration", "reason", "ticket", "start", "x", "<<", "- a"];
    const values = [
      "alice",
      "ec2-admin",
      "1h",
      "2h30m",
      "Resize the web ASG",
      "INC-1",
      "yes",
      "&a x",
      "*a",
      "!!str",
      "[a]",
      "{a: b}",
      '"\\u0000"',
      "",
      "0123",
    ];
    const fragment = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.tuple(fc.constantFrom(...keys), fc.constantFrom(...values)).map(([k, v]) => `${k}: ${v}`),
      fc.constantFrom("---", "...", "%YAML 1.2", "  ", "\t", "#", "? ", "|", ">"),
    );
    const file = fc.array(fragment, { maxLength: 12 }).map((lines) => lines.join("\n"));
    const path = fc.oneof(fc.constant(PATH), fc.string({ maxLength: 40 }), fc.constant("requests/../x.yaml"));
    fc.assert(
      fc.property(file, path, fc.option(fc.string({ maxLength: 10 }), { nil: undefined }), (text, p, author) => {
        const result = validateRequest({ text, path: p, config, author, now: NOW });
        if (result.request) {
          expect(result.errors).toEqual([]);
        } else {
          expect(result.errors.length).toBeGreaterThan(0);
        }
        for (const e of result.errors) {
          expect(e.line).toBeGreaterThanOrEqual(1);
          expect(e.col).toBeGreaterThanOrEqual(1);
          expect(typeof e.message).toBe("string");
          expect(e.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 1500 },
    );
  });
});

describe("parseTimestamp", () => {
  it("accepts RFC 3339 with Z or an offset, with optional fractions", () => {
    const ok = (text: string) => {
      const r = parseTimestamp(text);
      if (!r.ok) throw new Error(r.message);
      return r.date.toISOString();
    };
    expect(ok("2026-11-30T09:00:00Z")).toBe("2026-11-30T09:00:00.000Z");
    expect(ok("2026-11-30T09:00:00-05:30")).toBe("2026-11-30T14:30:00.000Z");
    expect(ok("2026-11-30T09:00:00.123456789Z")).toBe("2026-11-30T09:00:00.123Z");
    expect(ok("2028-02-29T00:00:00Z")).toBe("2028-02-29T00:00:00.000Z");
  });

  it.each([
    "2026-11-30T09:00:00",
    "2026-11-30 09:00:00Z",
    "2026-11-30t09:00:00z",
    "2027-02-29T00:00:00Z",
    "2026-11-30T24:00:00Z",
    "2026-11-30T09:00:60Z",
    "2026-11-30T09:00:00+24:00",
    "1969-12-31T23:59:59Z",
    "30/11/2026",
    "1764493200",
  ])("refuses %j", (text) => {
    expect(parseTimestamp(text).ok).toBe(false);
  });
});

describe("request paths", () => {
  it("parses requests/<role>/<id>.yaml|.yml", () => {
    expect(parseRequestPath("requests/ec2-admin/abc.yaml")).toEqual({
      ok: true,
      value: { role: "ec2-admin", id: "abc", path: "requests/ec2-admin/abc.yaml" },
    });
    expect(parseRequestPath("requests/ec2-admin/a-b-1.yml").ok).toBe(true);
  });

  it.each([
    ["requests/ec2-admin/Resize.yaml", /upper-case letters are not allowed/],
    ["requests/ec2-admin/re.size.yaml", /dots are not allowed/],
    ["requests/ec2-admin/...yaml", /dots are not allowed/],
    ["requests/ec2-admin/../x.yaml", /not exactly one folder deep/],
    ["requests/../ec2-admin/abc.yaml", /not exactly one folder deep/],
    ["requests/../abc.yaml", /folder ".." is not a role key/],
    ["requests/./abc.yaml", /folder "." is not a role key/],
    ["requests/ec2-admin/a/b.yaml", /not exactly one folder deep/],
    ["requests/ec2-admin\\abc.yaml", /use \/ in paths/],
    ["requests/abc.yaml", /not exactly one folder deep/],
    ["other/ec2-admin/abc.yaml", /not under requests\//],
    ["requests/ec2-admin/ab.yaml", /shorter than 3 characters/],
    ["requests/ec2-admin/-abc.yaml", /use lower-case letters/],
    [`requests/ec2-admin/${"a".repeat(64)}.yaml`, /longer than 63 characters/],
    ["requests/ec2-admin/abc.json", /does not end in .yaml or .yml/],
    ["requests/EC2/abc.yaml", /folder "EC2" is not a role key/],
  ])("refuses %j", (path, message) => {
    const result = parseRequestPath(path);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
    // Through validateRequest the path problem is located at 1:1.
    const errors = validate(requestText(VALID_EC2), { path }).errors;
    expect(errors.some((e) => e.line === 1 && e.col === 1 && message.test(e.message))).toBe(true);
  });

  it("finds ids used by more than one file across folders", () => {
    const duplicates = findDuplicateRequestIds([
      "requests/ec2-admin/abc.yaml",
      "requests/read-only/abc.yml",
      "requests/read-only/other.yaml",
      "requests/README.md",
      "requests/ec2-admin/abc.yaml",
    ]);
    expect([...duplicates.entries()]).toEqual([
      ["requests/ec2-admin/abc.yaml", ["requests/read-only/abc.yml"]],
      ["requests/read-only/abc.yml", ["requests/ec2-admin/abc.yaml"]],
    ]);
    expect(duplicateIdMessage("requests/ec2-admin/abc.yaml", ["requests/read-only/abc.yml"])).toBe(
      'request id "abc" is also used by requests/read-only/abc.yml; ids must be unique across requests/ — pick another file name',
    );
  });
});
