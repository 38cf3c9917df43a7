import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ApprovalInput,
  approvalSummary,
  evaluateApprovals,
  hasWriteAccess,
  type PullRequestReview,
} from "../../src/domain/approvals.js";

const HEAD = "a".repeat(40);
const OLD = "b".repeat(40);

let nextId = 1000;
function review(
  login: string | null,
  state: string,
  options: { commit?: string | null; at?: string | null; id?: number } = {},
): PullRequestReview {
  nextId += 1;
  const submitted = options.at === undefined ? `2026-11-30T09:${String(nextId % 60).padStart(2, "0")}:00Z` : options.at;
  return {
    id: options.id ?? nextId,
    user: login === null ? null : { login },
    state,
    commit_id: options.commit === undefined ? HEAD : options.commit,
    submitted_at: submitted,
    body: "",
  };
}

function input(reviews: PullRequestReview[], overrides: Partial<ApprovalInput> = {}): ApprovalInput {
  return {
    reviews,
    owners: { logins: ["carol", "dave", "erin"], unreadableTeams: [] },
    prAuthor: "alice",
    headSha: HEAD,
    required: 1,
    ...overrides,
  };
}

const at = (minute: number) => `2026-11-30T10:${String(minute).padStart(2, "0")}:00Z`;

describe("evaluateApprovals", () => {
  it("counts one approval from a code owner on the head commit", () => {
    const result = evaluateApprovals(input([review("carol", "APPROVED", { id: 7, at: at(1) })]));
    expect(result).toEqual({
      satisfied: true,
      required: 1,
      counted: [{ login: "carol", reviewId: 7, commitId: HEAD, submittedAt: at(1) }],
      ignored: [],
      missing: 0,
    });
  });

  it("never counts the PR author, even if listed as a code owner", () => {
    const result = evaluateApprovals(
      input([review("Alice", "APPROVED", { id: 1 })], {
        owners: { logins: ["alice", "carol"], unreadableTeams: [] },
      }),
    );
    expect(result.satisfied).toBe(false);
    expect(result.counted).toEqual([]);
    expect(result.ignored).toEqual([{ login: "Alice", reviewId: 1, reason: expect.stringMatching(/author/) }]);
    expect(result.missing).toBe(1);
  });

  it("does not count a stale approval on an older commit", () => {
    const result = evaluateApprovals(input([review("carol", "APPROVED", { id: 3, commit: OLD })]));
    expect(result.satisfied).toBe(false);
    expect(result.ignored).toEqual([
      { login: "carol", reviewId: 3, reason: expect.stringMatching(new RegExp(`stale.*${OLD}.*${HEAD}`)) },
    ]);
  });

  it("a stale approval followed by a comment on the head commit is still stale", () => {
    const result = evaluateApprovals(
      input([
        review("carol", "APPROVED", { id: 1, commit: OLD, at: at(1) }),
        review("carol", "COMMENTED", { id: 2, at: at(2) }),
      ]),
    );
    expect(result.satisfied).toBe(false);
    expect(result.ignored.map((i) => [i.reviewId, i.reason])).toEqual([
      [1, expect.stringMatching(/stale/)],
      [2, expect.stringMatching(/comment-only/)],
    ]);
  });

  it("approval then changes requested does not count", () => {
    const result = evaluateApprovals(
      input([
        review("carol", "APPROVED", { id: 1, at: at(1) }),
        review("carol", "CHANGES_REQUESTED", { id: 2, at: at(2) }),
      ]),
    );
    expect(result.satisfied).toBe(false);
    expect(result.ignored).toEqual([
      { login: "carol", reviewId: 1, reason: "superseded by the reviewer's later review 2" },
      { login: "carol", reviewId: 2, reason: "latest review is CHANGES_REQUESTED" },
    ]);
  });

  it("changes requested then approval counts the approval", () => {
    const result = evaluateApprovals(
      input([
        review("carol", "CHANGES_REQUESTED", { id: 1, at: at(1) }),
        review("carol", "APPROVED", { id: 2, at: at(2) }),
      ]),
    );
    expect(result.satisfied).toBe(true);
    expect(result.counted.map((c) => c.reviewId)).toEqual([2]);
  });

  it("a dismissed approval does not count", () => {
    // GitHub changes the dismissed review's own state to DISMISSED.
    const result = evaluateApprovals(input([review("carol", "DISMISSED", { id: 1 })]));
    expect(result.satisfied).toBe(false);
    expect(result.ignored).toEqual([{ login: "carol", reviewId: 1, reason: "latest review is DISMISSED" }]);
  });

  it("approval then a dismissed later review does not count", () => {
    const result = evaluateApprovals(
      input([review("carol", "APPROVED", { id: 1, at: at(1) }), review("carol", "DISMISSED", { id: 2, at: at(2) })]),
    );
    expect(result.satisfied).toBe(false);
  });

  it("approval then a comment-only review still counts (comments do not withdraw approvals)", () => {
    const result = evaluateApprovals(
      input([review("carol", "APPROVED", { id: 1, at: at(1) }), review("carol", "COMMENTED", { id: 2, at: at(2) })]),
    );
    expect(result.satisfied).toBe(true);
    expect(result.counted).toEqual([{ login: "carol", reviewId: 1, commitId: HEAD, submittedAt: at(1) }]);
    expect(result.ignored).toEqual([{ login: "carol", reviewId: 2, reason: expect.stringMatching(/comment-only/) }]);
  });

  it("duplicate approvals by the same person count once (the latest)", () => {
    const result = evaluateApprovals(
      input([review("carol", "APPROVED", { id: 1, at: at(1) }), review("carol", "APPROVED", { id: 2, at: at(2) })], {
        required: 2,
      }),
    );
    expect(result.satisfied).toBe(false);
    expect(result.counted.map((c) => c.reviewId)).toEqual([2]);
    expect(result.missing).toBe(1);
    expect(result.ignored).toEqual([{ login: "carol", reviewId: 1, reason: expect.stringMatching(/superseded/) }]);
  });

  it("logins differing only in case are one person, and match owners case-insensitively", () => {
    const result = evaluateApprovals(
      input([review("Carol", "APPROVED", { id: 1, at: at(1) }), review("CAROL", "APPROVED", { id: 2, at: at(2) })], {
        required: 2,
        owners: { logins: ["cArOl", "dave"], unreadableTeams: [] },
      }),
    );
    expect(result.counted).toEqual([{ login: "CAROL", reviewId: 2, commitId: HEAD, submittedAt: at(2) }]);
    expect(result.missing).toBe(1);
  });

  it("case-differing changes-requested supersedes an approval", () => {
    const result = evaluateApprovals(
      input([
        review("carol", "APPROVED", { id: 1, at: at(1) }),
        review("Carol", "CHANGES_REQUESTED", { id: 2, at: at(2) }),
      ]),
    );
    expect(result.satisfied).toBe(false);
  });

  it("ignores approvals from people who are not code owners", () => {
    const result = evaluateApprovals(input([review("mallory", "APPROVED", { id: 4 })]));
    expect(result.satisfied).toBe(false);
    expect(result.ignored).toEqual([{ login: "mallory", reviewId: 4, reason: "not a code owner of the request file" }]);
  });

  it("too few approvals: reports how many are missing", () => {
    const result = evaluateApprovals(input([review("carol", "APPROVED", { id: 1 })], { required: 3 }));
    expect(result).toMatchObject({ satisfied: false, required: 3, missing: 2 });
    expect(result.failure).toBeUndefined();
  });

  it("two distinct owners satisfy two required approvals", () => {
    const result = evaluateApprovals(
      input([review("dave", "APPROVED", { id: 2 }), review("carol", "APPROVED", { id: 1 })], { required: 2 }),
    );
    expect(result.satisfied).toBe(true);
    expect(result.counted.map((c) => c.login)).toEqual(["carol", "dave"]);
  });

  it("unreadable team membership fails closed, naming the team, whatever the approvals", () => {
    const result = evaluateApprovals(
      input([review("carol", "APPROVED", { id: 1 }), review("dave", "APPROVED", { id: 2 })], {
        owners: { logins: ["carol", "dave"], unreadableTeams: ["acme/prod-approvers"] },
      }),
    );
    expect(result.satisfied).toBe(false);
    expect(result.counted).toHaveLength(2);
    expect(result.missing).toBe(0);
    expect(result.failure).toMatch(/cannot read the membership of code-owner team @acme\/prod-approvers/);
  });

  it("names every unreadable team, sorted", () => {
    const result = evaluateApprovals(input([], { owners: { logins: [], unreadableTeams: ["acme/b", "acme/a"] } }));
    expect(result.failure).toMatch(/teams @acme\/a, @acme\/b;/);
  });

  it("ignores PENDING reviews, even an approval-looking one", () => {
    const result = evaluateApprovals(
      input([
        review("carol", "APPROVED", { id: 1, at: at(1) }),
        review("carol", "PENDING", { id: 2, at: null }),
        review("dave", "PENDING", { id: 3, at: null }),
      ]),
    );
    expect(result.satisfied).toBe(true);
    expect(result.counted.map((c) => c.reviewId)).toEqual([1]);
    expect(result.ignored.map((i) => [i.reviewId, i.reason])).toEqual([
      [2, "pending review (not submitted)"],
      [3, "pending review (not submitted)"],
    ]);
  });

  it("orders by submitted_at, not by position in the input", () => {
    const result = evaluateApprovals(
      input([
        review("carol", "CHANGES_REQUESTED", { id: 5, at: at(9) }),
        review("carol", "APPROVED", { id: 4, at: at(1) }),
      ]),
    );
    expect(result.satisfied).toBe(false);
  });

  it("an unknown review state supersedes an approval and never approves", () => {
    const result = evaluateApprovals(
      input([review("carol", "APPROVED", { id: 1, at: at(1) }), review("carol", "ESCALATED", { id: 2, at: at(2) })]),
    );
    expect(result.satisfied).toBe(false);
    expect(result.ignored.at(-1)).toEqual({ login: "carol", reviewId: 2, reason: "latest review is ESCALATED" });
  });

  it("a submitted review without a usable time makes that reviewer's approvals unusable", () => {
    const result = evaluateApprovals(
      input([
        review("carol", "APPROVED", { id: 1, at: at(1) }),
        review("carol", "CHANGES_REQUESTED", { id: 2, at: "soon" }),
      ]),
    );
    expect(result.satisfied).toBe(false);
    expect(result.ignored.map((i) => i.reviewId)).toEqual([1, 2]);
  });

  it("ignores reviews by deleted accounts and approvals with an unknown commit", () => {
    const result = evaluateApprovals(
      input([review(null, "APPROVED", { id: 1 }), review("carol", "APPROVED", { id: 2, commit: null })]),
    );
    expect(result.satisfied).toBe(false);
    expect(result.ignored).toEqual([
      { login: "", reviewId: 1, reason: "review by a deleted account" },
      { login: "carol", reviewId: 2, reason: expect.stringMatching(/stale approval on commit \(unknown\)/) },
    ]);
  });

  it("compares the head SHA case-insensitively", () => {
    const result = evaluateApprovals(input([review("carol", "APPROVED", { commit: HEAD.toUpperCase() })]));
    expect(result.satisfied).toBe(true);
  });

  it("fails closed when the file has no code owners", () => {
    const result = evaluateApprovals(
      input([review("carol", "APPROVED")], { owners: { logins: [], unreadableTeams: [] } }),
    );
    expect(result.satisfied).toBe(false);
    expect(result.failure).toMatch(/no code owners/);
  });

  it.each([0, -1, 1.5, Number.NaN])("fails closed for a required count of %s", (required) => {
    const result = evaluateApprovals(input([review("carol", "APPROVED")], { required }));
    expect(result.satisfied).toBe(false);
    expect(result.failure).toMatch(/whole number of at least 1/);
  });

  it("fails closed for a head SHA that is not a commit id", () => {
    const result = evaluateApprovals(input([review("carol", "APPROVED", { commit: "" })], { headSha: "" }));
    expect(result.satisfied).toBe(false);
    expect(result.failure).toMatch(/head SHA/);
  });

  it("is deterministic: every permutation of the input gives the same result", () => {
    const reviews = [
      review("dave", "APPROVED", { id: 1, at: at(1) }),
      review("carol", "COMMENTED", { id: 2, at: at(2) }),
      review("carol", "APPROVED", { id: 3, at: at(3) }),
      review("erin", "APPROVED", { id: 4, at: at(4), commit: OLD }),
      review("mallory", "APPROVED", { id: 5, at: at(5) }),
      review("dave", "COMMENTED", { id: 6, at: at(6) }),
    ];
    const expected = evaluateApprovals(input(reviews, { required: 2 }));
    expect(expected.satisfied).toBe(true);
    fc.assert(
      fc.property(fc.shuffledSubarray(reviews, { minLength: reviews.length }), (shuffled) => {
        expect(evaluateApprovals(input(shuffled, { required: 2 }))).toEqual(expected);
      }),
    );
  });

  it("accounts for every review exactly once, and only counts owners' head approvals", () => {
    const logins = ["alice", "carol", "Carol", "dave", "mallory"];
    const states = ["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"];
    const arbitraryReview = fc.record({
      login: fc.constantFrom(...logins),
      state: fc.constantFrom(...states),
      commit: fc.constantFrom(HEAD, OLD),
      minute: fc.integer({ min: 0, max: 59 }),
    });
    fc.assert(
      fc.property(fc.array(arbitraryReview, { maxLength: 12 }), fc.integer({ min: 1, max: 3 }), (specs, required) => {
        const reviews = specs.map((s, i) =>
          review(s.login, s.state, { id: i + 1, at: s.state === "PENDING" ? null : at(s.minute), commit: s.commit }),
        );
        const result = evaluateApprovals(input(reviews, { required }));
        const seen = [...result.counted.map((c) => c.reviewId), ...result.ignored.map((i) => i.reviewId)].sort(
          (a, b) => a - b,
        );
        expect(seen).toEqual(reviews.map((r) => r.id));
        const countedLogins = result.counted.map((c) => c.login.toLowerCase());
        expect(new Set(countedLogins).size).toBe(countedLogins.length);
        for (const c of result.counted) {
          expect(["carol", "dave"]).toContain(c.login.toLowerCase());
          expect(c.commitId).toBe(HEAD);
          const r = reviews.find((x) => x.id === c.reviewId)!;
          expect(r.state).toBe("APPROVED");
          // no later state-bearing review by the same person
          const later = reviews.filter(
            (x) =>
              x.user?.login.toLowerCase() === c.login.toLowerCase() &&
              ["APPROVED", "CHANGES_REQUESTED", "DISMISSED"].includes(x.state) &&
              (Date.parse(x.submitted_at!) > Date.parse(r.submitted_at!) ||
                (x.submitted_at === r.submitted_at && x.id > r.id)),
          );
          expect(later).toEqual([]);
        }
        expect(result.satisfied).toBe(result.counted.length >= required);
        expect(result.missing).toBe(Math.max(0, required - result.counted.length));
      }),
      { numRuns: 500 },
    );
  });
});

describe("approvalSummary", () => {
  it("reports progress and what is missing", () => {
    const result = evaluateApprovals(input([review("carol", "APPROVED")], { required: 2 }));
    expect(approvalSummary(result, ["@acme/prod-approvers"])).toBe(
      "1 of 2 approvals from @acme/prod-approvers; missing 1",
    );
  });

  it("reports a satisfied requirement without a missing part", () => {
    const result = evaluateApprovals(input([review("carol", "APPROVED")]));
    expect(approvalSummary(result, ["@carol", "@dave"])).toBe("1 of 1 approval from @carol, @dave");
  });

  it("appends the fail-closed reason", () => {
    const result = evaluateApprovals(
      input([], { required: 2, owners: { logins: [], unreadableTeams: ["acme/prod-approvers"] } }),
    );
    expect(approvalSummary(result, ["@acme/prod-approvers"])).toBe(
      "0 of 2 approvals from @acme/prod-approvers; missing 2; cannot read the membership of code-owner team " +
        "@acme/prod-approvers; the token needs permission to read team membership (organization Members: read)",
    );
  });

  it("says when nobody owns the file", () => {
    const result = evaluateApprovals(input([], { owners: { logins: [], unreadableTeams: [] } }));
    expect(approvalSummary(result, [])).toMatch(/^0 of 1 approval from no code owners; missing 1; /);
  });
});

describe("code owners need write access now (as GitHub counts them)", () => {
  it("reads the legacy permission, with the push flag as a cross-check; anything else is unknown", () => {
    // maintain maps to write and triage to read in `permission`; custom roles report their base.
    expect(hasWriteAccess({ permission: "admin", roleName: "admin", push: true })).toBe(true);
    expect(hasWriteAccess({ permission: "write", roleName: "maintain", push: true })).toBe(true);
    expect(hasWriteAccess({ permission: "write", roleName: "access-approver" })).toBe(true);
    expect(hasWriteAccess({ permission: "read", roleName: "triage", push: false })).toBe(false);
    expect(hasWriteAccess({ permission: "none", roleName: "none", push: false })).toBe(false);
    expect(hasWriteAccess({ permission: "write", roleName: "write", push: false })).toBeUndefined();
    expect(hasWriteAccess({ permission: "read", push: true })).toBeUndefined();
    for (const odd of ["", "Write", "maintain", "push", "triage", "owner"]) {
      expect(hasWriteAccess({ permission: odd }), odd).toBeUndefined();
    }
  });

  it("ignores an owner without write access, with the role, and counts the others", () => {
    const result = evaluateApprovals(
      input([review("carol", "APPROVED", { id: 1 }), review("dave", "APPROVED", { id: 2 })], {
        required: 2,
        owners: {
          logins: ["carol", "dave"],
          unreadableTeams: [],
          withoutWriteAccess: [{ login: "Carol", role: "triage" }],
        },
      }),
    );
    expect(result.satisfied).toBe(false);
    expect(result.counted.map((c) => c.login)).toEqual(["dave"]);
    expect(result.ignored).toEqual([
      {
        login: "carol",
        reviewId: 1,
        reason: "code owner without write access to the repository now (role: triage); GitHub ignores such owners",
      },
    ]);
    expect(result.failure).toBeUndefined();
  });

  it("fails closed when any counted owner's permission could not be read", () => {
    const result = evaluateApprovals(
      input([review("carol", "APPROVED", { id: 1 }), review("dave", "APPROVED", { id: 2 })], {
        owners: {
          logins: ["carol", "dave"],
          unreadableTeams: [],
          unreadablePermissions: [{ login: "carol", why: "HTTP 403: Resource not accessible by integration" }],
        },
      }),
    );
    expect(result.satisfied).toBe(false);
    expect(result.counted.map((c) => c.login)).toEqual(["dave"]);
    expect(result.failure).toBe(
      "cannot read the repository permission of @carol (HTTP 403: Resource not accessible by integration); " +
        "an approval counts only from a code owner with write access, so none is counted until it can be read " +
        "(the job's token needs Metadata: read on the repository)",
    );
  });

  it("never counts more approvals with permission facts than without them", () => {
    const logins = ["carol", "dave", "erin"];
    fc.assert(
      fc.property(
        fc.array(fc.record({ login: fc.constantFrom(...logins), approve: fc.boolean() }), { maxLength: 6 }),
        fc.subarray(logins),
        fc.subarray(logins),
        (decisions, demoted, unreadable) => {
          const reviews = decisions.map((d, i) =>
            review(d.login, d.approve ? "APPROVED" : "CHANGES_REQUESTED", { id: i + 1, at: at(i + 1) }),
          );
          const plain = evaluateApprovals(input(reviews, { owners: { logins, unreadableTeams: [] } }));
          const judged = evaluateApprovals(
            input(reviews, {
              owners: {
                logins,
                unreadableTeams: [],
                withoutWriteAccess: demoted.map((login) => ({ login, role: "read" })),
                unreadablePermissions: unreadable.map((login) => ({ login, why: "HTTP 500" })),
              },
            }),
          );
          expect(judged.counted.length).toBeLessThanOrEqual(plain.counted.length);
          for (const c of judged.counted) expect([...demoted, ...unreadable]).not.toContain(c.login);
          if (unreadable.length > 0) expect(judged.satisfied).toBe(false);
        },
      ),
    );
  });
});
