// The grant decision on gathered facts (src/domain/grant-decision.ts): one row per
// refusal class, the exact runbook parameters of a grant, and the check's
// pre-merge judgement agreeing with the grant's.
import { describe, expect, it } from "vitest";
import type { PullRequestReview } from "../../src/domain/approvals.js";
import { parseGrantableRoles } from "../../src/domain/ceiling.js";
import { parseCodeowners } from "../../src/domain/codeowners.js";
import { decideGrant, decideMergedGrant, type GrantDecision, requestChanges } from "../../src/domain/grant-decision.js";
import type { MergedGrantFacts, MergedRequestFileFacts, PreMergeGrantFacts } from "../../src/domain/grant-facts.js";
import type { PreMergeVerdict } from "../../src/domain/grant-pre-merge.js";
import { plannedOf } from "../../src/domain/grant-target.js";
import { exampleConfig, IC_CONFIG, IC_INSTANCE, IC_PERMISSION_SET, requestText } from "./domain-fixtures.js";

const HEAD = "a".repeat(40);
const OLD_HEAD = "c".repeat(40);
const MERGE = "b".repeat(40);
const BEFORE = "d".repeat(40);
const TIP = "e".repeat(40);
const FILE = "requests/read-only/fix-orders-db.yaml";
const READ_ONLY_ARN = "arn:aws:iam::210987654321:role/ReadOnly";
const MERGED_AT = "2026-11-29T10:00:00Z";

const CONFIG_WITH_GATE = `version: 1
aws:
  region: ap-northeast-1
  accountId: "123456789012"
  grantRoleArn: arn:aws:iam::123456789012:role/elevate-grant
  revokeRoleArn: arn:aws:iam::123456789012:role/elevate-revoke
  automationRoleArn: arn:aws:iam::123456789012:role/elevate-automation
  grantDocument: Elevate-Grant
  revokeDocument: Elevate-Revoke
users:
  alice: alice.smith
  bob: bob
roles:
  read-only:
    arn: arn:aws:iam::210987654321:role/ReadOnly
    awsApproval:
      approvers: ["arn:aws:iam::123456789012:user/alice.smith"]
      minApprovals: 1
`;

function approval(login: string, commit = HEAD, body: string | null = null, id = 100): PullRequestReview {
  return { id, user: { login }, state: "APPROVED", commit_id: commit, submitted_at: "2026-11-29T09:00:00Z", body };
}

const READ_ONLY_REQUEST = {
  requester: "alice",
  role: "read-only",
  duration: "1h",
  reason: "Look at the orders table during INC-77",
};

/** A clean merge of one request that the decision grants; rows change one fact. */
function facts(): MergedGrantFacts {
  const text = new TextEncoder().encode(requestText(READ_ONLY_REQUEST));
  const file: MergedRequestFileFacts = {
    blobAtMerge: "1".repeat(40),
    blobAtHead: "1".repeat(40),
    blobAtTip: "1".repeat(40),
    text,
    approvers: { logins: ["bob"], unreadableTeams: [] },
  };
  const ceiling = parseGrantableRoles(`${READ_ONLY_ARN}=4h`);
  return {
    phase: "merged",
    config: exampleConfig(),
    defaultBranch: "main",
    now: new Date("2026-11-29T10:00:05Z"),
    before: BEFORE,
    mergeSha: MERGE,
    pushed: [{ status: "A", path: FILE }],
    pr: {
      number: 7,
      author: "alice",
      headSha: HEAD,
      mergedAt: MERGED_AT,
      linear: true,
      headPresent: true,
      tip: { sha: TIP, containsMerge: true },
      codeowners: { path: ".github/CODEOWNERS", ...parseCodeowners("/requests/ @bob\n") },
      reviews: [approval("bob")],
      requestFilesAfter: [FILE],
      files: { [FILE]: file },
      ceiling,
    },
  };
}

type Mutation = (f: MergedGrantFacts & { pr: NonNullable<MergedGrantFacts["pr"]> }) => void;
const fileOf = (f: { pr: NonNullable<MergedGrantFacts["pr"]> }) => f.pr.files[FILE] as MergedRequestFileFacts;
const withRequest = (fields: Record<string, string | undefined>): Mutation => {
  return (f) => {
    fileOf(f).text = new TextEncoder().encode(requestText({ ...READ_ONLY_REQUEST, ...fields }));
  };
};

function decide(mutate: Mutation): GrantDecision {
  const f = facts() as MergedGrantFacts & { pr: NonNullable<MergedGrantFacts["pr"]> };
  mutate(f);
  return decideMergedGrant(f);
}

describe("decideMergedGrant: refusal classes", () => {
  const rows: {
    name: string;
    mutate: Mutation;
    reason: string;
    message: RegExp;
    errors?: RegExp;
    evidence?: boolean;
  }[] = [
    {
      name: "no PR: a direct push",
      mutate: (f) => {
        delete (f as MergedGrantFacts).pr;
      },
      reason: "not-a-merge",
      message: /is not the merge of a pull request into main \(a direct push\?\)/,
    },
    {
      name: "a force push",
      mutate: (f) => {
        f.pr.linear = false;
      },
      reason: "force-push",
      message: /does not descend from d{12} \(a force push\?\)/,
    },
    {
      name: "a change outside requests/",
      mutate: (f) => {
        f.pushed = [...f.pushed, { status: "M", path: "src/app.ts" }];
      },
      reason: "outside-requests",
      message: /PR #7 also changes files outside requests\/ \(src\/app\.ts\); a request PR may change only requests\//,
    },
    {
      name: "a rename out of requests/ counts as outside",
      mutate: (f) => {
        f.pushed = [...f.pushed, { status: "R", path: "requests/x.md", oldPath: "docs/x.md" }];
      },
      reason: "outside-requests",
      message: /outside requests\/ \(requests\/x\.md\)/,
    },
    {
      name: "the default branch's tip cannot be read",
      mutate: (f) => {
        f.pr.tip = { error: "network down" };
      },
      reason: "branch-tip-unreadable",
      message: /could not read the current tip of main from origin \(network down\)/,
    },
    {
      name: "the merge is no longer on the default branch",
      mutate: (f) => {
        f.pr.tip = { sha: TIP, containsMerge: false };
      },
      reason: "merge-not-on-branch",
      message: /the merge b{12} is no longer on main/,
    },
    {
      name: "the PR head is not in the checkout",
      mutate: (f) => {
        f.pr.headPresent = false;
      },
      reason: "head-missing",
      message: /the head commit a{12} of PR #7 is not in the checkout/,
    },
    {
      name: "no CODEOWNERS file",
      mutate: (f) => {
        f.pr.codeowners = undefined;
      },
      reason: "codeowners-untrusted",
      message: /there is no CODEOWNERS file on main/,
    },
    {
      name: "CODEOWNERS with an invalid line",
      mutate: (f) => {
        f.pr.codeowners = { path: ".github/CODEOWNERS", ...parseCodeowners("/requests/ @bob\n/x/ not-an-owner\n") };
      },
      reason: "codeowners-untrusted",
      message: /\.github\/CODEOWNERS on main has 1 invalid line\(s\)/,
    },
    {
      name: "the merged file is not the one at the PR head",
      mutate: (f) => {
        fileOf(f).blobAtHead = "2".repeat(40);
      },
      reason: "not-the-approved-file",
      message: /is not the file PR #7 added at its head a{12}; only the approved file is granted/,
      evidence: true,
    },
    {
      name: "the file is gone from the default branch",
      mutate: (f) => {
        delete fileOf(f).blobAtTip;
      },
      reason: "deleted-from-branch",
      message: /was deleted from main \(tip e{12}\) before this grant job ran/,
      evidence: true,
    },
    {
      name: "the file was changed on the default branch after the merge",
      mutate: (f) => {
        fileOf(f).blobAtTip = "3".repeat(40);
      },
      reason: "changed-on-branch",
      message: /was changed on main \(tip e{12}\) after the merge/,
      evidence: true,
    },
    {
      name: "a request id used twice",
      mutate: (f) => {
        f.pr.requestFilesAfter = [FILE, "requests/ec2-admin/fix-orders-db.yaml"];
      },
      reason: "duplicate-id",
      message: /request id fix-orders-db is already used by requests\/ec2-admin\/fix-orders-db\.yaml/,
      evidence: true,
    },
    {
      name: "the file cannot be read from the merge",
      mutate: (f) => {
        delete fileOf(f).text;
      },
      reason: "missing-from-merge",
      message: /is not in the merge commit/,
      evidence: true,
    },
    {
      name: "an unknown role",
      mutate: (f) => {
        const moved = "requests/db-admin/fix-orders-db.yaml";
        f.pushed = [{ status: "A", path: moved }];
        f.pr.requestFilesAfter = [moved];
        f.pr.files = {
          [moved]: {
            ...fileOf(f),
            text: new TextEncoder().encode(requestText({ ...READ_ONLY_REQUEST, role: "db-admin" })),
          },
        };
      },
      reason: "invalid-request",
      message: /is not a valid request \(\d+ error\(s\)\)/,
      errors: /db-admin/,
      evidence: true,
    },
    {
      name: "the requester is not the PR author",
      mutate: withRequest({ requester: "bob" }),
      reason: "invalid-request",
      message: /is not a valid request/,
      errors: /requester "bob" is not the pull request author "alice"/,
      evidence: true,
    },
    {
      name: "a duration over the role's maxDuration",
      mutate: withRequest({ duration: "5h" }),
      reason: "invalid-request",
      message: /is not a valid request/,
      errors: /duration "5h" is longer than the maximum of 4h for role "read-only"/,
      evidence: true,
    },
    {
      name: "no code owner matches the file",
      mutate: (f) => {
        f.pr.codeowners = { path: ".github/CODEOWNERS", ...parseCodeowners("/docs/ @bob\n") };
        delete fileOf(f).approvers;
      },
      reason: "no-code-owners",
      message: /has no code owners on main \(\.github\/CODEOWNERS\); nobody can approve it/,
      evidence: true,
    },
    {
      name: "not enough code-owner approvals",
      mutate: (f) => {
        f.pr.reviews = [];
      },
      reason: "approvals",
      message: /0 of 1 required approval\(s\) from code owners \(@bob\) on the PR head a{12}/,
      evidence: true,
    },
    {
      name: "an approval on a stale head",
      mutate: (f) => {
        f.pr.reviews = [approval("bob", OLD_HEAD)];
      },
      reason: "approvals",
      message: /not counted: @bob: stale approval on commit c{40}/,
      evidence: true,
    },
    {
      name: "a self-approval by the PR author",
      mutate: (f) => {
        f.pr.reviews = [approval("alice")];
        fileOf(f).approvers = { logins: ["bob", "alice"], unreadableTeams: [] };
      },
      reason: "approvals",
      message: /@alice: the pull request author cannot approve their own request/,
      evidence: true,
    },
    {
      name: "a code owner without write access",
      mutate: (f) => {
        fileOf(f).approvers = {
          logins: ["bob"],
          unreadableTeams: [],
          withoutWriteAccess: [{ login: "bob", role: "triage" }],
        };
      },
      reason: "approvals",
      message: /@bob: code owner without write access to the repository now \(role: triage\)/,
      evidence: true,
    },
    {
      name: "an owning team whose membership cannot be read",
      mutate: (f) => {
        fileOf(f).approvers = { logins: [], unreadableTeams: ["acme/approvers"] };
      },
      reason: "approvals",
      message: /cannot read the membership of code-owner team @acme\/approvers.*members-token/,
      evidence: true,
    },
    {
      name: "an approver's cap that cannot be read",
      mutate: (f) => {
        f.pr.reviews = [approval("bob", HEAD, "elevate: duration soon")];
      },
      reason: "approver-cap",
      message: /cap/,
      evidence: true,
    },
    {
      name: "the window has already closed",
      mutate: (f) => {
        f.now = new Date("2026-11-29T12:00:00Z");
      },
      reason: "window-closed",
      message: /the window 2026-11-29T10:00:00Z – 2026-11-29T11:00:00Z has already closed; nothing was granted/,
      evidence: true,
    },
    {
      name: "a window over the stack's ceiling",
      mutate: (f) => {
        f.pr.ceiling = parseGrantableRoles(`${READ_ONLY_ARN}=30m`);
      },
      reason: "stack-ceiling",
      message: /allows at most 30m for arn:aws:iam::210987654321:role\/ReadOnly.*Nothing was started/,
      evidence: true,
    },
    {
      name: "a role missing from the stack's ceiling",
      mutate: (f) => {
        f.pr.ceiling = parseGrantableRoles("arn:aws:iam::210987654321:role/Other=4h");
      },
      reason: "stack-ceiling",
      message: /is not in the AWS stack's grant catalog/,
      evidence: true,
    },
    {
      name: "dual control whose only approver is the requester",
      mutate: (f) => {
        f.config = exampleConfig(CONFIG_WITH_GATE);
      },
      reason: "dual-control-approvers",
      message: /never approves her own request/,
      evidence: true,
    },
  ];

  it.each(rows)("$name", ({ mutate, reason, message, errors, evidence }) => {
    const decision = decide(mutate);
    expect(decision.grants).toEqual([]);
    expect(decision.refusals).toHaveLength(1);
    const refusal = decision.refusals[0]!;
    expect(refusal.reason).toBe(reason);
    expect(refusal.message).toMatch(message);
    expect(refusal.requestId).toBe("fix-orders-db");
    // Refusals of one request's approval get an evidence note; merge-wide ones do not.
    expect(refusal.evidence !== undefined).toBe(evidence === true);
    // Only requests judged one by one are notified and noted; merge-wide refusals are only reported.
    expect(decision.requestsJudged).toBe(evidence === true);
    // An invalid request file is annotated at its lines, with what is wrong.
    if (errors) expect(refusal.annotation.errors.map((e) => e.message).join("\n")).toMatch(errors);
    else expect(refusal.annotation.errors).toEqual([]);
  });

  it("a ticket the role requires, missing: located errors, not a bare message", () => {
    const file = "requests/ec2-admin/resize-asg.yaml";
    const decision = decide((f) => {
      f.pushed = [{ status: "A", path: file }];
      f.pr.requestFilesAfter = [file];
      const text = requestText({
        requester: "alice",
        role: "ec2-admin",
        duration: "1h",
        reason: "Resize the web ASG now",
      });
      f.pr.files = { [file]: { ...fileOf(f), text: new TextEncoder().encode(text) } };
    });
    const refusal = decision.refusals[0]!;
    expect(refusal.reason).toBe("invalid-request");
    expect(refusal.annotation.errors.map((e) => e.message).join("\n")).toMatch(/ticket/);
    expect(refusal.annotation.errors[0]).toMatchObject({ file, line: expect.any(Number), col: expect.any(Number) });
  });

  it.each([
    { status: "M" as const, message: /is an existing request that was edited: edits grant nothing/ },
    { status: "R" as const, message: /was renamed from requests\/read-only\/old\.yaml: a rename grants nothing/ },
  ])("a request file changed after approval ($status)", ({ status, message }) => {
    const decision = decide((f) => {
      f.pushed = [{ status, path: FILE, ...(status === "R" ? { oldPath: "requests/read-only/old.yaml" } : {}) }];
    });
    expect(decision.concernsRequests).toBe(true);
    expect(decision.requestsJudged).toBe(false);
    expect(decision.refusals).toHaveLength(1);
    expect(decision.refusals[0]).toMatchObject({ reason: "changed-after-approval", file: FILE });
    expect(decision.refusals[0]!.annotation.title).toBe("Elevate: request changed after approval");
    expect(decision.refusals[0]!.message).toMatch(message);
  });
});

describe("decideMergedGrant: grants", () => {
  it("grants with the exact Elevate-Grant parameters and the evidence to record", () => {
    const decision = decide(() => {});
    expect(decision.refusals).toEqual([]);
    expect(decision.grants).toHaveLength(1);
    const grant = decision.grants[0]!;
    expect(grant.target).toMatchObject({ kind: "iam-role", documentName: "Elevate-Grant" });
    expect(grant.target.parameters).toEqual({
      AutomationAssumeRole: "arn:aws:iam::123456789012:role/elevate-automation",
      RequestId: "fix-orders-db",
      UserName: "alice.smith",
      RoleArn: READ_ONLY_ARN,
      NotBefore: "2026-11-29T10:00:00Z",
      NotAfter: "2026-11-29T11:00:00Z",
    });
    expect(grant.evidence).toMatchObject({
      requester: "alice",
      iamUser: "alice.smith",
      approvals: [{ login: "bob", reviewId: 100, commitId: HEAD }],
      window: { notBefore: "2026-11-29T10:00:00Z", notAfter: "2026-11-29T11:00:00Z" },
    });
  });

  it("an approver's cap shortens the window, and the parameters follow", () => {
    const decision = decide((f) => {
      f.pr.reviews = [approval("bob", HEAD, "elevate: duration 30m")];
    });
    expect(decision.grants[0]!.target.parameters.NotAfter).toBe("2026-11-29T10:30:00Z");
    expect(decision.grants[0]!.evidence.cappedBy).toMatchObject({ login: "bob", cap: "duration 30m" });
    expect(decision.log.join("\n")).toMatch(/fix-orders-db: /);
  });

  it("an unreadable ceiling is a warning, and the runbook stays the authority", () => {
    const decision = decide((f) => {
      f.pr.ceiling = { ok: false, message: "AccessDenied" };
    });
    expect(decision.grants).toHaveLength(1);
    expect(decision.warnings).toEqual(["the stack's grant ceiling could not be checked before starting: AccessDenied"]);
  });

  it("no ceiling read (a dry run) grants without it", () => {
    const decision = decide((f) => {
      delete f.pr.ceiling;
    });
    expect(decision.grants).toHaveLength(1);
    expect(decision.warnings).toEqual([]);
  });

  it("a dual-control role carries its approval gate", () => {
    const decision = decide((f) => {
      f.config = exampleConfig(
        CONFIG_WITH_GATE.replace(
          'approvers: ["arn:aws:iam::123456789012:user/alice.smith"]',
          'approvers: ["arn:aws:iam::123456789012:user/bob"]',
        ),
      );
    });
    expect(decision.grants[0]!.target.awsApproval).toMatchObject({ minApprovals: 1 });
  });

  it("a push that adds no request concerns no request; deletions are the revoke's", () => {
    const pushing =
      (change: MergedGrantFacts["pushed"][number]): Mutation =>
      (f) => {
        f.pushed = [change];
      };
    expect(decide(pushing({ status: "M", path: "README.md" })).concernsRequests).toBe(false);
    expect(decide(pushing({ status: "D", path: FILE })).concernsRequests).toBe(false);
  });

  it("refusals come in report order: changed files, checks, then the stack's ceiling", () => {
    const second = "requests/read-only/second-one.yaml";
    const decision = decide((f) => {
      f.pushed = [
        { status: "A", path: FILE },
        { status: "A", path: second },
        { status: "M", path: "requests/read-only/older.yaml" },
      ];
      f.pr.requestFilesAfter = [FILE, second, "requests/read-only/older.yaml"];
      f.pr.files = { [FILE]: { ...fileOf(f) }, [second]: { ...fileOf(f), blobAtTip: undefined as never } };
      delete (f.pr.files[second] as MergedRequestFileFacts).blobAtTip;
      f.pr.ceiling = parseGrantableRoles(`${READ_ONLY_ARN}=30m`);
    });
    expect(decision.refusals.map((r) => r.reason)).toEqual([
      "changed-after-approval",
      "deleted-from-branch",
      "stack-ceiling",
    ]);
  });
});

/** The PR check's facts for the same PR, before its merge: judged "if merged now". */
function preMergeOf(f: MergedGrantFacts): PreMergeGrantFacts {
  const pr = f.pr!;
  return {
    phase: "pre-merge",
    config: f.config,
    configPath: ".github/elevate.yml",
    baseRef: "main",
    now: new Date(pr.mergedAt ?? f.now),
    author: pr.author,
    headSha: pr.headSha,
    files: requestChanges(f.pushed).added.map((file) => {
      const facts = pr.files[file];
      return {
        file,
        status: "added" as const,
        ...(facts?.text ? { text: facts.text } : {}),
        ...(facts?.approvers ? { approvers: facts.approvers } : {}),
      };
    }),
    outside: [],
    duplicates: new Map(),
    codeowners: pr.codeowners,
    reviews: pr.reviews,
  };
}

describe("decideGrant: the check (pre-merge) and the grant agree", () => {
  const rows: { name: string; mutate: Mutation; grant: "granted" | "refused"; check: PreMergeVerdict["verdict"] }[] = [
    { name: "an approved, valid request", mutate: () => {}, grant: "granted", check: "grant" },
    {
      name: "an approver's cap shortens the window",
      mutate: (f) => {
        f.pr.reviews = [approval("bob", HEAD, "elevate: duration 30m")];
      },
      grant: "granted",
      check: "grant",
    },
    {
      name: "approvals still missing",
      mutate: (f) => {
        f.pr.reviews = [];
      },
      grant: "refused",
      check: "pending",
    },
    {
      name: "an approval on a stale head",
      mutate: (f) => {
        f.pr.reviews = [approval("bob", OLD_HEAD)];
      },
      grant: "refused",
      check: "pending",
    },
    {
      name: "a code owner without write access",
      mutate: (f) => {
        fileOf(f).approvers = {
          logins: ["bob"],
          unreadableTeams: [],
          withoutWriteAccess: [{ login: "bob", role: "read" }],
        };
      },
      grant: "refused",
      check: "pending",
    },
    {
      name: "requester not the PR author",
      mutate: withRequest({ requester: "bob" }),
      grant: "refused",
      check: "refused",
    },
    {
      name: "over the role's maxDuration",
      mutate: withRequest({ duration: "5h" }),
      grant: "refused",
      check: "refused",
    },
    {
      name: "a start too far ahead",
      mutate: withRequest({ start: "2027-01-30T00:00:00Z" }),
      grant: "refused",
      check: "refused",
    },
    {
      name: "nobody owns the file",
      mutate: (f) => {
        f.pr.codeowners = { path: ".github/CODEOWNERS", ...parseCodeowners("/docs/ @bob\n") };
        delete fileOf(f).approvers;
      },
      grant: "refused",
      check: "refused",
    },
    {
      name: "an unreadable approver cap",
      mutate: (f) => {
        f.pr.reviews = [approval("bob", HEAD, "elevate: until tomorrow")];
      },
      grant: "refused",
      check: "refused",
    },
    {
      name: "dual control the requester alone could approve",
      mutate: (f) => {
        f.config = exampleConfig(CONFIG_WITH_GATE);
      },
      grant: "refused",
      check: "refused",
    },
  ];

  it.each(rows)("$name: grant $grant, check $check", ({ mutate, grant, check }) => {
    const merged = facts() as MergedGrantFacts & { pr: NonNullable<MergedGrantFacts["pr"]> };
    mutate(merged);
    merged.now = new Date(MERGED_AT);
    const decision = decideGrant(merged);
    const [verdict] = decideGrant(preMergeOf(merged));
    expect(verdict?.verdict).toBe(check);
    if (grant === "granted") {
      expect(decision.grants).toHaveLength(1);
      // The check shows the very window and parameters the grant starts.
      expect(verdict?.verdict !== "revokes" && verdict?.judged?.plan).toEqual(plannedOf(decision.grants[0]!.target));
      return;
    }
    expect(decision.grants).toEqual([]);
    const refusal = decision.refusals[0]!;
    if (check === "refused" && verdict?.verdict === "refused") {
      expect(verdict.reason).toBe(refusal.reason);
      // The same located errors, or the same message annotated at the file (a file
      // nobody owns is worded for each audience: "on main" vs "on the base branch").
      if (refusal.reason !== "no-code-owners") {
        const expected =
          refusal.annotation.errors.length > 0
            ? refusal.annotation.errors
            : [{ file: FILE, line: 1, col: 1, message: refusal.message }];
        expect(verdict.errors).toEqual(expected);
      }
    } else {
      expect(refusal.reason).toBe("approvals");
    }
  });

  it("changes the grant refuses for the whole PR are refused by the check too, per file", () => {
    const base = preMergeOf(facts() as MergedGrantFacts);
    const edited = decideGrant({ ...base, files: [{ file: FILE, status: "modified" }] });
    expect(edited[0]).toMatchObject({ verdict: "refused", reason: "changed-after-approval" });
    const mixed = decideGrant({ ...base, outside: ["src/app.ts"] });
    expect(mixed[0]).toMatchObject({ verdict: "refused", reason: "outside-requests" });
    expect(mixed[0]?.verdict === "refused" && mixed[0].errors[0]?.message).toMatch(
      /also changes files outside requests\//,
    );
    const removed = decideGrant({ ...base, files: [{ file: FILE, status: "removed" }] });
    expect(removed[0]).toMatchObject({ verdict: "revokes" });
    const noConfig = decideGrant({ ...base, config: undefined });
    expect(noConfig[0]?.verdict === "refused" && noConfig[0].errors[0]?.message).toMatch(/cannot validate/);
  });
});

describe("decideGrant: permission sets", () => {
  const PS_FILE = "requests/prod-admin/fix-prod-db.yaml";
  function psFacts(requester = "dora"): MergedGrantFacts & { pr: NonNullable<MergedGrantFacts["pr"]> } {
    const f = facts() as MergedGrantFacts & { pr: NonNullable<MergedGrantFacts["pr"]> };
    f.config = exampleConfig(IC_CONFIG);
    f.now = new Date(MERGED_AT);
    f.pushed = [{ status: "A", path: PS_FILE }];
    f.pr.author = requester;
    f.pr.requestFilesAfter = [PS_FILE];
    const file = { ...(f.pr.files[FILE] as MergedRequestFileFacts) };
    file.text = new TextEncoder().encode(
      requestText({ requester, role: "prod-admin", duration: "1h", reason: "Repair the prod database INC-77" }),
    );
    f.pr.files = { [PS_FILE]: file };
    return f;
  }

  it("a merged, approved permission-set request starts Elevate-GrantPermissionSet with the contract's parameters", () => {
    const f = psFacts();
    const decision = decideGrant(f);
    expect(decision.refusals).toEqual([]);
    expect(decision.grants).toHaveLength(1);
    const grant = decision.grants[0]!;
    expect(grant.target).toEqual({
      kind: "permission-set",
      plan: {
        kind: "permissionSet",
        requestId: "fix-prod-db",
        identityCenterUser: "dora@acme.com",
        instanceArn: IC_INSTANCE,
        permissionSetArn: IC_PERMISSION_SET,
        accountId: "210987654321",
        notBefore: "2026-11-29T10:00:00Z",
        notAfter: "2026-11-29T11:00:00Z",
      },
      documentName: "Elevate-GrantPermissionSet",
      parameters: {
        AutomationAssumeRole: "arn:aws:iam::123456789012:role/elevate-automation",
        RequestId: "fix-prod-db",
        UserName: "dora@acme.com",
        PermissionSetArn: IC_PERMISSION_SET,
        AccountId: "210987654321",
        NotBefore: "2026-11-29T10:00:00Z",
        NotAfter: "2026-11-29T11:00:00Z",
      },
    });
    expect(grant.evidence).toMatchObject({
      requester: "dora",
      identityCenterUser: "dora@acme.com",
      permissionSetArn: IC_PERMISSION_SET,
      accountId: "210987654321",
    });
    expect(grant.evidence.iamUser).toBeUndefined();
    // The check shows the same plan the grant starts.
    const [verdict] = decideGrant(preMergeOf(f));
    expect(verdict?.verdict).toBe("grant");
    expect(verdict?.verdict !== "revokes" && verdict?.judged?.plan).toEqual(plannedOf(grant.target));
  });

  it("the IAM-role ceiling does not refuse a permission set (its own runbook enforces GrantablePermissionSets)", () => {
    const f = psFacts();
    f.pr.ceiling = parseGrantableRoles("");
    expect(decideGrant(f).grants).toHaveLength(1);
  });

  it("a requester without an Identity Center user is refused at the request's requester line, check and grant alike", () => {
    const f = psFacts("alice");
    const decision = decideGrant(f);
    expect(decision.grants).toEqual([]);
    expect(decision.refusals[0]).toMatchObject({ reason: "invalid-request" });
    expect(decision.refusals[0]?.annotation.errors[0]?.message).toMatch(/users\.alice has no identityCenterUser/);
    const [verdict] = decideGrant(preMergeOf(f));
    expect(verdict?.verdict).toBe("refused");
  });
});
