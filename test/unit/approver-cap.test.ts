/**
 * Approver-set window caps (src/domain/approver-cap.ts): only counted approvals
 * cap, the shortest cap wins, a cap never lengthens, unreadable caps fail closed.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluateApprovals, type PullRequestReview } from "../../src/domain/approvals.js";
import { capReportLines, capWindow, parseCapLines } from "../../src/domain/approver-cap.js";

const NOT_BEFORE = new Date("2026-11-30T09:00:00Z");
const WINDOW = { notBefore: NOT_BEFORE, notAfter: new Date("2026-11-30T11:00:00Z") }; // 2h
const HEAD = "a".repeat(40);

function review(id: number, login: string, body: string, state = "APPROVED", commit = HEAD): PullRequestReview {
  return {
    id,
    user: { login },
    state,
    commit_id: commit,
    submitted_at: `2026-11-30T08:${String(id).padStart(2, "0")}:00Z`,
    body,
  };
}

/** What the caller does: evaluate invariant 1, then join the counted approvals with their bodies. */
function capFromReviews(reviews: PullRequestReview[], owners = ["bob", "carol"]) {
  const approvals = evaluateApprovals({
    reviews,
    owners: { logins: owners, unreadableTeams: [] },
    prAuthor: "alice",
    headSha: HEAD,
    required: 1,
  });
  const countedApprovals = approvals.counted.map((c) => ({
    login: c.login,
    reviewId: c.reviewId,
    body: reviews.find((r) => r.id === c.reviewId)?.body,
  }));
  return capWindow({ window: WINDOW, countedApprovals, allReviews: reviews });
}

describe("parseCapLines", () => {
  it("reads duration and until caps, normalised, with their line numbers", () => {
    const body = "LGTM\r\nelevate: duration 90m\n  `elevate: until 2026-11-30T18:30:00+09:00`\nELEVATE:Duration 1h0m";
    expect(parseCapLines(body)).toEqual([
      { ok: true, line: 2, cap: "duration 1h30m", kind: "duration", ms: 5_400_000 },
      { ok: true, line: 3, cap: "until 2026-11-30T09:30:00Z", kind: "until", at: new Date("2026-11-30T09:30:00Z") },
      { ok: true, line: 4, cap: "duration 1h", kind: "duration", ms: 3_600_000 },
    ]);
  });

  it("does not read quoted lines, mentions in prose, or empty bodies", () => {
    expect(parseCapLines("> elevate: duration 1h\nI think elevate: duration 1h is fine")).toEqual([]);
    expect(parseCapLines(null)).toEqual([]);
    expect(parseCapLines("")).toEqual([]);
  });

  it.each([
    ["elevate: duration 1.5h", /not a whole number/],
    ["elevate: duration 10m", /shorter than the 15m minimum/],
    ["elevate: until 2026-11-30T17:00:00", /no time zone/],
    ["elevate: for 1h", /write "elevate: duration 1h" or "elevate: until/],
    ["elevate:", /cannot read the cap ""/],
  ])("reports %s as unreadable", (body, message) => {
    const [parsed] = parseCapLines(body);
    expect(parsed?.ok).toBe(false);
    expect(parsed && !parsed.ok ? parsed.message : "").toMatch(message);
  });
});

describe("capWindow", () => {
  it("leaves the window alone without caps", () => {
    const result = capFromReviews([review(1, "bob", "LGTM")]);
    expect(result).toEqual({ window: WINDOW, caps: [], ignored: [], problems: [] });
  });

  it("uses the shortest cap among the counted approvals and says who set it", () => {
    const result = capFromReviews([
      review(1, "bob", "ok\nelevate: duration 1h30m"),
      review(2, "carol", "elevate: until 2026-11-30T10:15:00Z"),
    ]);
    expect(result.window).toEqual({ notBefore: NOT_BEFORE, notAfter: new Date("2026-11-30T10:15:00Z") });
    expect(result.cappedBy).toEqual({
      login: "carol",
      reviewId: 2,
      cap: "until 2026-11-30T10:15:00Z",
      notAfter: new Date("2026-11-30T10:15:00Z"),
    });
    expect(result.caps.map((c) => c.login)).toEqual(["carol", "bob"]);
    expect(result.refusal).toBeUndefined();
    expect(capReportLines(result)).toEqual([
      // Cap texts are escaped text, no longer code spans (src/domain/markdown.ts).
      "- Window capped by @carol (review 2, elevate: until 2026-11-30T10:15:00Z): ends **2026-11-30T10:15:00Z**",
    ]);
  });

  it("ignores and reports a cap longer than the request: an approver can never lengthen it", () => {
    const result = capFromReviews([
      review(1, "bob", "elevate: duration 4h"),
      review(2, "carol", "elevate: until 2026-12-01T00:00:00Z"),
    ]);
    expect(result.window).toEqual(WINDOW);
    expect(result.cappedBy).toBeUndefined();
    expect(result.ignored.map((i) => [i.login, i.cap])).toEqual([
      ["bob", "duration 4h"],
      ["carol", "until 2026-12-01T00:00:00Z"],
    ]);
    expect(result.ignored[0]?.reason).toMatch(/would not shorten the window .*an approver can only shorten/);
    expect(capReportLines(result)[0]).toMatch(
      /^- Cap ignored: elevate: duration 4h by @bob \(review 1\): it would not shorten/,
    );
  });

  it("treats a cap equal to the request as no cap", () => {
    const result = capFromReviews([review(1, "bob", "elevate: duration 2h")]);
    expect(result.window).toEqual(WINDOW);
    expect(result.ignored).toHaveLength(1);
  });

  it("ignores and reports a cap from a reviewer who is not a code owner", () => {
    const result = capFromReviews([review(1, "bob", "LGTM"), review(2, "mallory", "elevate: duration 15m")]);
    expect(result.window).toEqual(WINDOW);
    expect(result.ignored).toEqual([
      {
        login: "mallory",
        reviewId: 2,
        cap: "duration 15m",
        reason: "not a counted code-owner approval on the head commit; only counted approvals can cap the window",
      },
    ]);
    expect(result.refusal).toBeUndefined();
  });

  it("ignores caps from stale or comment reviews, and a malformed line there refuses nothing", () => {
    const result = capFromReviews([
      review(1, "bob", "elevate: duration 30m", "APPROVED", "b".repeat(40)),
      review(2, "carol", "LGTM"),
      review(3, "carol", "elevate: nonsense", "COMMENTED"),
    ]);
    expect(result.window).toEqual(WINDOW);
    expect(result.problems).toEqual([]);
    expect(result.ignored.map((i) => [i.reviewId, i.reason])).toEqual([
      [1, expect.stringMatching(/^not a counted code-owner approval on the head commit/)],
      [3, expect.stringMatching(/^superseded by @carol's counted review 2;/)],
    ]);
  });

  it("drops a cap the approver superseded with a later approval", () => {
    const result = capFromReviews([
      review(1, "bob", "elevate: duration 30m"),
      review(2, "bob", "Approving without a limit"),
    ]);
    expect(result.window).toEqual(WINDOW);
    expect(result.ignored[0]?.reason).toMatch(/superseded by @bob's counted review 2/);
  });

  it("refuses on a malformed cap line in a counted approval (the approver's limit is unknown)", () => {
    const result = capFromReviews([
      review(1, "bob", "LGTM\nelevate: duration 30 minutes"),
      review(2, "carol", "elevate: duration 1h"),
    ]);
    expect(result.problems).toEqual([
      {
        login: "bob",
        reviewId: 1,
        line: 2,
        message: expect.stringMatching(/^cannot read the cap "duration 30 minutes"/),
      },
    ]);
    expect(result.refusal).toMatch(
      /^a cap line in counted approvals cannot be used \(first: @bob, review 1, line 2: .*nothing is granted$/,
    );
    expect(capReportLines(result)[0]).toMatch(/^- Window caps: \*\*not granted\*\*/);
  });

  it("refuses a cap that ends the window at or before its start", () => {
    const result = capFromReviews([review(1, "bob", "elevate: until 2026-11-30T09:00:00Z")]);
    expect(result.refusal).toBe(
      '@bob (review 1) capped the window with "until 2026-11-30T09:00:00Z", which is not after its start 2026-11-30T09:00:00Z, so no window is left; nothing is granted',
    );
  });

  it("never lengthens the window and never moves its start (property)", () => {
    const capLine = fc.oneof(
      fc.integer({ min: 0, max: 600 }).map((m) => `elevate: duration ${m}m`),
      fc
        .integer({ min: -240, max: 600 })
        .map((m) => `elevate: until ${new Date(NOT_BEFORE.getTime() + m * 60_000).toISOString()}`),
      fc.string().map((s) => `elevate: ${s}`),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom("bob", "carol", "dave"), fc.array(capLine, { maxLength: 3 })), {
          maxLength: 4,
        }),
        (entries) => {
          const countedApprovals = entries.map(([login, lines], i) => ({
            login,
            reviewId: i + 1,
            body: lines.join("\n"),
          }));
          const result = capWindow({ window: WINDOW, countedApprovals });
          expect(result.window.notBefore).toEqual(WINDOW.notBefore);
          expect(result.window.notAfter.getTime()).toBeLessThanOrEqual(WINDOW.notAfter.getTime());
          if (!result.refusal) expect(result.window.notAfter.getTime()).toBeGreaterThan(WINDOW.notBefore.getTime());
          for (const cap of result.caps)
            expect(result.window.notAfter.getTime()).toBeLessThanOrEqual(cap.notAfter.getTime());
        },
      ),
    );
  });
});
