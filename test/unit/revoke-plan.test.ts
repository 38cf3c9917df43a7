import { describe, expect, it } from "vitest";
import {
  cutoffPolicyName,
  cutoffPolicyText,
  grantPolicyText,
  iamPolicySize,
  parseGrantPolicy,
} from "../../src/domain/grant-policy.js";
import {
  type Inventory,
  type InventoryGrant,
  type InventoryRole,
  type KnownRequest,
  parseExactCutoff,
  planRevocations,
  readRequestFacts,
  rolesNeedingSessionDuration,
  staleRequestEnd,
} from "../../src/domain/revoke-plan.js";

const ACCOUNT = "123456789012";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/elevated/EC2_FullAccess_Role`;
const OTHER_ROLE = `arn:aws:iam::${ACCOUNT}:role/elevated/S3_Admin`;
const FOREIGN_ROLE = "arn:aws:iam::210987654321:role/Prod_Admin";
const T = (iso: string) => new Date(iso);
const NOW = T("2026-11-30T12:00:00Z");

function grant(
  requestId: string,
  iamUser: string,
  roleArn: string,
  notBefore: string,
  notAfter: string,
): InventoryGrant {
  const text = grantPolicyText({ requestId, iamUser, roleArn, notBefore: T(notBefore), notAfter: T(notAfter) });
  const policy = parseGrantPolicy(encodeURIComponent(text));
  if (!policy) throw new Error("fixture policy does not parse");
  return { iamUser, policyName: `elevate-${requestId}`, requestId, policy };
}

function role(arn: string, sizes: Record<string, number> = {}, max?: number): [string, InventoryRole] {
  const name = arn.split("/").at(-1) as string;
  return [
    arn,
    {
      arn,
      name,
      inlinePolicySizes: new Map(Object.entries(sizes)),
      ...(max === undefined ? {} : { maxSessionDurationSeconds: max }),
    },
  ];
}

function inventory(parts: Partial<Inventory> = {}): Inventory {
  return {
    accountId: ACCOUNT,
    grants: [],
    cutoffs: [],
    roles: new Map([role(ROLE), role(OTHER_ROLE)]),
    ...parts,
  };
}

/** Git knows every grant exactly as granted (evidence note present). */
function knownFor(...grants: InventoryGrant[]): Map<string, KnownRequest> {
  return new Map(
    grants.map((g) => [
      g.requestId,
      {
        requestId: g.requestId,
        file: `requests/ec2-admin/${g.requestId}.yaml`,
        deleted: false,
        // The merged request that asked for exactly this grant, and its Elevate-Grant execution (SSM).
        requested: {
          iamUser: g.iamUser,
          target: { kind: "role", roleArn: g.policy?.roleArn as string },
          durationMs: (g.policy?.notAfter.getTime() ?? 0) - (g.policy?.notBefore.getTime() ?? 0),
          mergedAt: g.policy?.notBefore as Date,
        },
        grantRecords: [
          {
            executionId: `exec-${g.requestId}`,
            requestId: g.requestId,
            iamUser: g.iamUser,
            roleArn: g.policy?.roleArn as string,
            notBefore: g.policy?.notBefore as Date,
            notAfter: g.policy?.notAfter as Date,
          },
        ],
      },
    ]),
  );
}

describe("planRevocations: expiry and early revoke", () => {
  it("revokes an expired grant with a cut-off just after notAfter and keeps an active one", () => {
    const expired = grant("resize-asg", "alice", ROLE, "2026-11-30T09:00:00Z", "2026-11-30T11:00:00Z");
    const active = grant("rotate-keys", "bob", ROLE, "2026-11-30T11:30:00Z", "2026-11-30T13:00:00Z");
    const plan = planRevocations({
      inventory: inventory({ grants: [expired, active] }),
      now: NOW,
      earlyRevokeIds: [],
      knownRequests: knownFor(expired, active),
      driftMode: "revoke",
    });
    expect(plan.revoke).toHaveLength(1);
    expect(plan.revoke[0]).toMatchObject({
      requestId: "resize-asg",
      iamUser: "alice",
      reason: "expired",
      cutOff: true,
      roleName: "EC2_FullAccess_Role",
      revokedAt: T("2026-11-30T11:00:01Z"),
    });
    expect(plan.keep).toEqual([
      expect.objectContaining({ requestId: "rotate-keys", state: "active", remainingMs: 3_600_000, drift: false }),
    ]);
    expect(plan.drift).toEqual([]);
  });

  it("revokes early by id with a cut-off stamped by the runbook (no earlier than now), and lists ids with no policy as not found", () => {
    const active = grant("rotate-keys", "bob", ROLE, "2026-11-30T11:30:00Z", "2026-11-30T13:00:00Z");
    const plan = planRevocations({
      inventory: inventory({ grants: [active] }),
      now: T("2026-11-30T12:00:00.700Z"),
      earlyRevokeIds: new Map([
        ["rotate-keys", "deleted by PR #7"],
        ["gone-already", "deleted by PR #7"],
      ]),
      knownRequests: knownFor(active),
      driftMode: "revoke",
    });
    expect(plan.revoke).toEqual([
      expect.objectContaining({
        requestId: "rotate-keys",
        reason: "early",
        why: "deleted by PR #7",
        cutOff: true,
        // The floor is the plan's second; the runbook stamps its own time + CUTOFF_MARGIN_MS.
        revokedAt: NOW,
        stampAtRunTime: true,
      }),
    ]);
    expect(plan.revoke[0]?.stampNotAfter).toBeUndefined();
    expect(plan.notFound).toEqual(["gone-already"]);
  });

  it("revokes a grant whose request file is no longer on the default branch (a missed push run)", () => {
    const active = grant("rotate-keys", "bob", ROLE, "2026-11-30T11:30:00Z", "2026-11-30T13:00:00Z");
    const known = knownFor(active);
    (known.get("rotate-keys") as KnownRequest).deleted = true;
    const plan = planRevocations({
      inventory: inventory({ grants: [active] }),
      now: NOW,
      earlyRevokeIds: [],
      knownRequests: known,
      driftMode: "report",
    });
    expect(plan.revoke.map((r) => [r.requestId, r.reason])).toEqual([["rotate-keys", "early"]]);
    expect(plan.revoke[0]?.why).toContain("no longer on the default branch");
  });

  it("revokes a pending grant early without a cut-off (no session can exist)", () => {
    const pending = grant("later-on", "bob", ROLE, "2026-11-30T15:00:00Z", "2026-11-30T16:00:00Z");
    const plan = planRevocations({
      inventory: inventory({ grants: [pending] }),
      now: NOW,
      earlyRevokeIds: ["later-on"],
      knownRequests: knownFor(pending),
      driftMode: "revoke",
    });
    expect(plan.revoke[0]).toMatchObject({ cutOff: false, cutOffNote: expect.stringContaining("never opened") });
  });
});

describe("planRevocations: overlapping grants (AWS TEAM #279)", () => {
  it("does not cut off when another active grant of the same user covers the same role", () => {
    const first = grant("first-one", "alice", ROLE, "2026-11-30T09:00:00Z", "2026-11-30T11:00:00Z");
    const second = grant("second-one", "alice", ROLE, "2026-11-30T10:30:00Z", "2026-11-30T13:00:00Z");
    const plan = planRevocations({
      inventory: inventory({ grants: [first, second] }),
      now: NOW,
      earlyRevokeIds: [],
      knownRequests: knownFor(first, second),
      driftMode: "revoke",
    });
    expect(plan.revoke).toEqual([
      expect.objectContaining({
        requestId: "first-one",
        cutOff: false,
        cutOffNote: expect.stringContaining("second-one"),
      }),
    ]);
    expect(plan.keep.map((k) => k.requestId)).toEqual(["second-one"]);
  });

  it("cuts off on one role while the same user keeps a grant on another role", () => {
    const onRole = grant("ec2-work", "alice", ROLE, "2026-11-30T09:00:00Z", "2026-11-30T11:00:00Z");
    const onOther = grant("s3-work", "alice", OTHER_ROLE, "2026-11-30T11:00:00Z", "2026-11-30T13:00:00Z");
    const plan = planRevocations({
      inventory: inventory({ grants: [onRole, onOther] }),
      now: NOW,
      earlyRevokeIds: [],
      knownRequests: knownFor(onRole, onOther),
      driftMode: "revoke",
    });
    expect(plan.revoke).toEqual([expect.objectContaining({ requestId: "ec2-work", cutOff: true })]);
    expect(plan.keep.map((k) => k.requestId)).toEqual(["s3-work"]);
  });

  it("an active grant of another user never prevents or suffers the cut-off (it matches one user only)", () => {
    const alice = grant("alice-work", "alice", ROLE, "2026-11-30T09:00:00Z", "2026-11-30T11:00:00Z");
    const bob = grant("bob-work", "bob", ROLE, "2026-11-30T11:00:00Z", "2026-11-30T13:00:00Z");
    const plan = planRevocations({
      inventory: inventory({ grants: [alice, bob] }),
      now: NOW,
      earlyRevokeIds: [],
      knownRequests: knownFor(alice, bob),
      driftMode: "revoke",
    });
    expect(plan.revoke).toEqual([expect.objectContaining({ iamUser: "alice", cutOff: true })]);
  });

  it("gives two revoked grants of one user on one role the same, latest revocation time", () => {
    const a = grant("grant-a", "alice", ROLE, "2026-11-30T08:00:00Z", "2026-11-30T09:00:00Z");
    const b = grant("grant-b", "alice", ROLE, "2026-11-30T09:30:00Z", "2026-11-30T13:00:00Z");
    const plan = planRevocations({
      inventory: inventory({ grants: [a, b] }),
      now: NOW,
      earlyRevokeIds: ["grant-b"],
      knownRequests: knownFor(a, b),
      driftMode: "revoke",
    });
    // One early revoke in the pair: both are written by the runbook's stamp, from the plan's second on.
    expect(plan.revoke.map((r) => [r.requestId, r.cutOff, r.revokedAt, r.stampAtRunTime])).toEqual([
      ["grant-a", true, NOW, true],
      ["grant-b", true, NOW, true],
    ]);
  });

  it("never moves an existing cut-off back, and never into a pending grant of the same user", () => {
    const expired = grant("old-work", "alice", ROLE, "2026-11-30T08:00:00Z", "2026-11-30T09:00:00Z");
    const later = T("2026-11-30T10:00:00Z");
    const withExisting = planRevocations({
      inventory: inventory({
        grants: [expired],
        cutoffs: [
          {
            roleArn: ROLE,
            roleName: "EC2_FullAccess_Role",
            policyName: cutoffPolicyName("alice"),
            iamUser: "alice",
            revokedAt: later,
          },
        ],
      }),
      now: NOW,
      earlyRevokeIds: [],
      knownRequests: knownFor(expired),
      driftMode: "revoke",
    });
    expect(withExisting.revoke[0]?.revokedAt).toEqual(later);
    expect(withExisting.clearCutoffs).toEqual([]);

    const active = grant("now-work", "alice", ROLE, "2026-11-30T11:00:00Z", "2026-11-30T13:00:00Z");
    const pending = grant("next-work", "alice", ROLE, "2026-11-30T12:00:30Z", "2026-11-30T14:00:00Z");
    const clamped = planRevocations({
      inventory: inventory({ grants: [active, pending] }),
      now: NOW,
      earlyRevokeIds: ["now-work"],
      knownRequests: knownFor(active, pending),
      driftMode: "revoke",
    });
    // The runbook stamps at its own time + 60 s, but never past the pending grant's start.
    expect(clamped.revoke).toEqual([
      expect.objectContaining({
        requestId: "now-work",
        cutOff: true,
        revokedAt: NOW,
        stampAtRunTime: true,
        stampNotAfter: T("2026-11-30T12:00:30Z"),
      }),
    ]);
  });
});

describe("planRevocations: cut-off limits", () => {
  // Issue 15: a member account's role gets its cut-off there (Elevate-Revoke's
  // multi-account step); the hub's inventory has neither the role nor its cut-offs.
  it("cuts off a role in a member account too, without the hub's inventory of it", () => {
    const g = grant("cross-acct", "alice", FOREIGN_ROLE, "2026-11-30T09:00:00Z", "2026-11-30T11:00:00Z");
    const plan = planRevocations({
      inventory: inventory({ grants: [g] }),
      now: NOW,
      earlyRevokeIds: [],
      knownRequests: knownFor(g),
      driftMode: "revoke",
    });
    expect(plan.revoke[0]).toMatchObject({ cutOff: true, revokedAt: T("2026-11-30T11:00:01Z"), stampAtRunTime: false });
    expect(plan.revoke[0]?.cutOffNote).toBeUndefined();
  });

  it("keeps a member role's sessions when another active grant of the user covers it", () => {
    const ended = grant("cross-1", "alice", FOREIGN_ROLE, "2026-11-30T09:00:00Z", "2026-11-30T11:00:00Z");
    const active = grant("cross-2", "alice", FOREIGN_ROLE, "2026-11-30T09:00:00Z", "2026-11-30T13:00:00Z");
    const plan = planRevocations({
      inventory: inventory({ grants: [ended, active] }),
      now: NOW,
      earlyRevokeIds: [],
      knownRequests: knownFor(ended, active),
      driftMode: "revoke",
    });
    expect(plan.revoke.map((r) => [r.requestId, r.cutOff])).toEqual([["cross-1", false]]);
    expect(plan.revoke[0]?.cutOffNote).toContain("cross-2");
  });

  it("skips the cut-off when the role's 10,240-character inline budget would overflow", () => {
    const g = grant("too-full", "alice", ROLE, "2026-11-30T09:00:00Z", "2026-11-30T11:00:00Z");
    const cutoffSize = iamPolicySize(cutoffPolicyText("alice", T("2026-11-30T11:00:01Z")));
    const fits = planRevocations({
      inventory: inventory({ grants: [g], roles: new Map([role(ROLE, { other: 10_240 - cutoffSize })]) }),
      now: NOW,
      earlyRevokeIds: [],
      knownRequests: knownFor(g),
      driftMode: "revoke",
    });
    expect(fits.revoke[0]?.cutOff).toBe(true);
    const full = planRevocations({
      inventory: inventory({ grants: [g], roles: new Map([role(ROLE, { other: 10_241 - cutoffSize })]) }),
      now: NOW,
      earlyRevokeIds: [],
      knownRequests: knownFor(g),
      driftMode: "revoke",
    });
    expect(full.revoke[0]).toMatchObject({ cutOff: false, cutOffNote: expect.stringContaining("10240") });
  });

  it("counts cut-offs cleared in the same run as freed budget", () => {
    const g = grant("needs-room", "alice", ROLE, "2026-11-30T09:00:00Z", "2026-11-30T11:00:00Z");
    const cutoffSize = iamPolicySize(cutoffPolicyText("alice", T("2026-11-30T11:00:01Z")));
    const old = cutoffPolicyName("carol");
    const plan = planRevocations({
      inventory: inventory({
        grants: [g],
        cutoffs: [
          {
            roleArn: ROLE,
            roleName: "EC2_FullAccess_Role",
            policyName: old,
            iamUser: "carol",
            revokedAt: T("2026-11-29T12:00:00Z"),
          },
        ],
        roles: new Map([role(ROLE, { other: 10_240 - cutoffSize, [old]: 300 })]),
      }),
      now: NOW,
      earlyRevokeIds: [],
      knownRequests: knownFor(g),
      driftMode: "revoke",
    });
    expect(plan.clearCutoffs.map((c) => c.iamUser)).toEqual(["carol"]);
    expect(plan.revoke[0]?.cutOff).toBe(true);
  });

  it("clears cut-offs older than the role's MaxSessionDuration or 12 h, keeps younger ones", () => {
    const cut = (iamUser: string, at: string) => ({
      roleArn: ROLE,
      roleName: "EC2_FullAccess_Role",
      policyName: cutoffPolicyName(iamUser),
      iamUser,
      revokedAt: T(at),
    });
    const cutoffs = [
      cut("old", "2026-11-29T23:00:00Z"), // 13 h: always clear
      cut("mid", "2026-11-30T10:00:00Z"), // 2 h: depends on MaxSessionDuration
      cut("young", "2026-11-30T11:30:00Z"), // 30 min: always keep
    ];
    const unknown = inventory({ cutoffs });
    expect(rolesNeedingSessionDuration(unknown, NOW)).toEqual([ROLE]);
    const withOneHour = inventory({ cutoffs, roles: new Map([role(ROLE, {}, 3600)]) });
    expect(rolesNeedingSessionDuration(withOneHour, NOW)).toEqual([]);
    const plan = (inv: Inventory) =>
      planRevocations({
        inventory: inv,
        now: NOW,
        earlyRevokeIds: [],
        knownRequests: new Map(),
        driftMode: "revoke",
      }).clearCutoffs.map((c) => c.iamUser);
    expect(plan(unknown)).toEqual(["old"]);
    expect(plan(withOneHour)).toEqual(["old", "mid"]);
    expect(plan(inventory({ cutoffs, roles: new Map([role(ROLE, {}, 4 * 3600)]) }))).toEqual(["old"]);
  });
});

describe("planRevocations: drift", () => {
  const active = grant("no-request", "mallory", ROLE, "2026-11-30T11:00:00Z", "2026-11-30T13:00:00Z");

  it("revokes a grant with no request in git when drift = revoke, reports it when drift = report", () => {
    const revoked = planRevocations({
      inventory: inventory({ grants: [active] }),
      now: NOW,
      earlyRevokeIds: [],
      knownRequests: new Map(),
      driftMode: "revoke",
    });
    expect(revoked.revoke).toEqual([
      expect.objectContaining({ requestId: "no-request", reason: "drift", cutOff: true }),
    ]);
    expect(revoked.drift).toEqual([expect.objectContaining({ kind: "unknown-request", action: "revoke" })]);

    const reported = planRevocations({
      inventory: inventory({ grants: [active] }),
      now: NOW,
      earlyRevokeIds: [],
      knownRequests: new Map(),
      driftMode: "report",
    });
    expect(reported.revoke).toEqual([]);
    expect(reported.keep).toEqual([expect.objectContaining({ requestId: "no-request", drift: true })]);
    expect(reported.drift).toEqual([expect.objectContaining({ kind: "unknown-request", action: "report" })]);
  });

  it("does not judge drift when git could not be read (knownRequests undefined)", () => {
    const plan = planRevocations({
      inventory: inventory({ grants: [active] }),
      now: NOW,
      earlyRevokeIds: [],
      knownRequests: undefined,
      driftMode: "revoke",
    });
    expect(plan.revoke).toEqual([]);
    expect(plan.drift).toEqual([]);
  });

  it("finds a window that differs from its Elevate-Grant execution by one second", () => {
    const known = knownFor(active);
    const entry = known.get("no-request") as KnownRequest;
    const [record] = entry.grantRecords ?? [];
    entry.grantRecords = [{ ...(record as NonNullable<typeof record>), notAfter: T("2026-11-30T12:59:59Z") }];
    const plan = planRevocations({
      inventory: inventory({ grants: [active] }),
      now: NOW,
      earlyRevokeIds: [],
      knownRequests: known,
      driftMode: "revoke",
    });
    expect(plan.drift).toEqual([expect.objectContaining({ kind: "window-mismatch" })]);
    expect(plan.drift[0]?.message).toContain("2026-11-30T12:59:59Z");
  });

  it("checks a grant without evidence against the request file: duration exactly, start within the merge tolerance", () => {
    const known = new Map<string, KnownRequest>([
      [
        "no-request",
        {
          requestId: "no-request",
          file: "requests/ec2-admin/no-request.yaml",
          deleted: false,
          requested: {
            iamUser: "mallory",
            target: { kind: "role", roleArn: ROLE },
            durationMs: 2 * 3_600_000,
            mergedAt: T("2026-11-30T11:00:03Z"),
          },
        },
      ],
    ]);
    const ok = planRevocations({
      inventory: inventory({ grants: [active] }),
      now: NOW,
      earlyRevokeIds: [],
      knownRequests: known,
      driftMode: "revoke",
    });
    expect(ok.drift).toEqual([]);
    (known.get("no-request") as KnownRequest).requested = {
      iamUser: "mallory",
      target: { kind: "role", roleArn: ROLE },
      durationMs: 3_600_000,
      mergedAt: T("2026-11-30T11:00:00Z"),
    };
    const longer = planRevocations({
      inventory: inventory({ grants: [active] }),
      now: NOW,
      earlyRevokeIds: [],
      knownRequests: known,
      driftMode: "revoke",
    });
    expect(longer.drift[0]?.message).toContain("lasts 7200 s, the request asks for 3600 s");
  });

  it("revokes a policy that is not our exact shape without a cut-off, and reports unaddressable names", () => {
    const malformed: InventoryGrant = { iamUser: "alice", policyName: "elevate-hand-made", requestId: "hand-made" };
    const badName: InventoryGrant = { iamUser: "alice", policyName: "elevate-X", requestId: "X" };
    const plan = planRevocations({
      inventory: inventory({ grants: [malformed, badName] }),
      now: NOW,
      earlyRevokeIds: [],
      knownRequests: new Map(),
      driftMode: "revoke",
    });
    expect(plan.revoke).toEqual([expect.objectContaining({ requestId: "hand-made", reason: "drift", cutOff: false })]);
    expect(plan.drift.map((d) => [d.kind, d.action])).toEqual([
      ["malformed", "revoke"],
      ["not-addressable", "report"],
    ]);
  });

  it("reports malformed cut-offs, never touches them", () => {
    const plan = planRevocations({
      inventory: inventory({
        cutoffs: [
          { roleArn: ROLE, roleName: "EC2_FullAccess_Role", policyName: cutoffPolicyName("eve"), iamUser: "eve" },
        ],
      }),
      now: NOW,
      earlyRevokeIds: [],
      knownRequests: new Map(),
      driftMode: "revoke",
    });
    expect(plan.clearCutoffs).toEqual([]);
    expect(plan.drift.map((d) => [d.kind, d.action])).toEqual([["malformed-cutoff", "report"]]);
  });
});

describe("reading policies and request files", () => {
  it("parses exactly the cut-off Elevate writes, URL-encoded or not", () => {
    const at = T("2026-11-30T11:00:01Z");
    const text = cutoffPolicyText("alice", at);
    expect(parseExactCutoff(text, "alice")).toEqual(at);
    expect(parseExactCutoff(encodeURIComponent(text), "alice")).toEqual(at);
    expect(parseExactCutoff(text, "bob")).toBeUndefined();
    expect(parseExactCutoff(text.replace('"Action":"*"', '"Action":"s3:*"'), "alice")).toBeUndefined();
    expect(parseExactCutoff(text.replace("11:00:01Z", "25:00:01Z"), "alice")).toBeUndefined();
  });

  it("reads start and duration leniently and finds stale requests", () => {
    const facts = readRequestFacts(
      "requester: alice\nrole: ec2-admin\nduration: 1h30m\nreason: Resize the web ASG\nstart: 2026-11-30T09:00:00+09:00\n",
    );
    expect(facts).toEqual({
      requester: "alice",
      role: "ec2-admin",
      durationMs: 5_400_000,
      start: T("2026-11-30T00:00:00Z"),
    });
    expect(staleRequestEnd(facts, T("2026-11-30T01:30:00Z"))).toBeUndefined();
    expect(staleRequestEnd(facts, T("2026-11-30T01:30:01Z"))).toEqual(T("2026-11-30T01:30:00Z"));
    expect(staleRequestEnd(readRequestFacts("duration: 1h\n"), T("2099-01-01T00:00:00Z"))).toBeUndefined();
    expect(readRequestFacts("- not a map\n")).toBeUndefined();
  });
});
