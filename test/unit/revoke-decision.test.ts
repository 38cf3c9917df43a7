/**
 * The revoke run's one decision (src/domain/revoke-decision.ts), table-driven: facts
 * in (IAM inventory, merged requests, Elevate-Grant records, AWS time, early-revoke
 * ids, gates, evidence notes), actions out (runbook starts with exact parameters,
 * drift findings, problems).
 */
import { describe, expect, it } from "vitest";
import type { DualControlOutcome } from "../../src/domain/dual-control.js";
import { cutoffPolicyName, grantPolicyText, parseGrantPolicy } from "../../src/domain/grant-policy.js";
import type { GrantRecord, KnownRequest } from "../../src/domain/revoke-authority.js";
import { decideRevoke, type RevokeDecision, type RevokeFacts } from "../../src/domain/revoke-decision.js";
import type { Inventory, InventoryCutoff, InventoryGrant, InventoryRole } from "../../src/domain/revoke-inventory.js";
import type { Revocation } from "../../src/domain/revoke-plan.js";
import { revokeStart } from "../../src/domain/revoke-runbooks.js";

const ACCOUNT = "123456789012";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/elevated/EC2_FullAccess_Role`;
const OTHER_ROLE = `arn:aws:iam::${ACCOUNT}:role/elevated/S3_Admin`;
const AUTOMATION = `arn:aws:iam::${ACCOUNT}:role/elevate-automation`;
const T = (iso: string) => new Date(iso);
/** AWS's time in every case (the Date of its responses). */
const NOW = "2026-11-30T12:00:00Z";

function grant(
  requestId: string,
  iamUser: string,
  roleArn: string,
  notBefore: string,
  notAfter: string,
): InventoryGrant {
  const text = grantPolicyText({ requestId, iamUser, roleArn, notBefore: T(notBefore), notAfter: T(notAfter) });
  const policy = parseGrantPolicy(text);
  if (!policy) throw new Error("fixture policy does not parse");
  return { iamUser, policyName: `elevate-${requestId}`, requestId, policy };
}

function record(g: InventoryGrant, changes: Partial<GrantRecord> = {}): GrantRecord {
  const p = g.policy as NonNullable<InventoryGrant["policy"]>;
  return {
    executionId: `exec-${g.requestId}`,
    requestId: g.requestId,
    iamUser: g.iamUser,
    roleArn: p.roleArn,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    ...changes,
  };
}

/** The request file merged on the default branch that asked for exactly `g` (or with `changes`). */
function merged(g: InventoryGrant, changes: Partial<KnownRequest> = {}): [string, KnownRequest] {
  const p = g.policy as NonNullable<InventoryGrant["policy"]>;
  return [
    g.requestId,
    {
      requestId: g.requestId,
      file: `requests/ec2-admin/${g.requestId}.yaml`,
      deleted: false,
      requested: {
        iamUser: g.iamUser,
        target: { kind: "role", roleArn: p.roleArn },
        durationMs: p.notAfter.getTime() - p.notBefore.getTime(),
        mergedAt: p.notBefore,
      },
      ...changes,
    },
  ];
}

function role(arn: string, max?: number): [string, InventoryRole] {
  const name = arn.split("/").at(-1) as string;
  return [
    arn,
    { arn, name, inlinePolicySizes: new Map(), ...(max === undefined ? {} : { maxSessionDurationSeconds: max }) },
  ];
}

function cutoff(iamUser: string, revokedAt: string, roleArn = ROLE): InventoryCutoff {
  return {
    roleArn,
    roleName: roleArn.split("/").at(-1) as string,
    policyName: cutoffPolicyName(iamUser),
    iamUser,
    revokedAt: T(revokedAt),
  };
}

interface Case {
  name: string;
  grants?: InventoryGrant[];
  cutoffs?: InventoryCutoff[];
  roles?: [string, InventoryRole][];
  /** Merged requests (default: every grant, exactly as granted); an Error when git could not be read. */
  merged?: [string, KnownRequest][] | Error;
  /** Elevate-Grant records (default: one per grant, exactly as granted); an Error when SSM could not be read; null when not read. */
  records?: GrantRecord[] | Error | null;
  early?: [string, string][];
  gates?: DualControlOutcome[];
  notes?: string[];
  now?: string;
  driftMode?: "revoke" | "report";
  expect: Partial<Summary>;
}

interface Summary {
  revoke: {
    id: string;
    reason: string;
    why?: string;
    cutOff: boolean;
    note?: string;
    parameters?: Record<string, string>;
  }[];
  keep: { id: string; drift: boolean }[];
  clear: { policy: string; parameters: Record<string, string>; document: string }[];
  drift: { kind: string; id?: string; action: string; message: string }[];
  notFound: string[];
  problems: string[];
}

function facts(c: Case): RevokeFacts {
  const grants = c.grants ?? [];
  const inventory: Inventory = {
    accountId: ACCOUNT,
    grants,
    cutoffs: c.cutoffs ?? [],
    roles: new Map(c.roles ?? [role(ROLE), role(OTHER_ROLE)]),
  };
  const records = c.records === undefined ? grants.map((g) => record(g)) : c.records;
  return {
    now: T(c.now ?? NOW),
    driftMode: c.driftMode ?? "revoke",
    settings: { aws: { automationRoleArn: AUTOMATION, revokeDocument: "Elevate-Revoke", accountId: ACCOUNT } },
    iam: inventory,
    earlyRevokeIds: new Map(c.early ?? []),
    mergedRequests:
      c.merged instanceof Error
        ? { ok: false, error: c.merged.message }
        : { ok: true, value: new Map(c.merged ?? grants.map((g) => merged(g))) },
    grantRecords:
      records === null
        ? undefined
        : records instanceof Error
          ? { ok: false, error: records.message }
          : { ok: true, value: records },
    evidenceNotes: c.notes ?? [],
    approvalGates: c.gates ?? [],
  };
}

function summary(d: RevokeDecision): Summary {
  return {
    revoke: d.actions.flatMap((a) =>
      a.kind === "revoke-grant"
        ? [
            {
              id: a.revocation.requestId,
              reason: a.revocation.reason,
              why: a.revocation.why,
              cutOff: a.revocation.cutOff,
              ...(a.revocation.cutOffNote ? { note: a.revocation.cutOffNote } : {}),
              ...("error" in a.runbook ? {} : { parameters: a.runbook.parameters }),
            },
          ]
        : [],
    ),
    keep: d.plan.keep.map((k) => ({ id: k.requestId, drift: k.drift })),
    clear: d.actions.flatMap((a) =>
      a.kind === "clear-cutoff"
        ? [{ policy: a.clear.policyName, parameters: a.runbook.parameters, document: a.runbook.documentName }]
        : [],
    ),
    drift: d.plan.drift.map((f) => ({
      kind: f.kind,
      ...(f.requestId ? { id: f.requestId } : {}),
      action: f.action,
      message: f.message,
    })),
    notFound: d.plan.notFound,
    problems: d.problems,
  };
}

const revokeParams = (id: string, over: Record<string, string>) => ({
  AutomationAssumeRole: AUTOMATION,
  RequestId: id,
  UserName: "alice",
  RoleName: "EC2_FullAccess_Role",
  CutOff: "true",
  StampAtRunTime: "false",
  StampNotAfter: "9999-12-31T23:59:59Z",
  ...over,
});

const expired = grant("resize-asg", "alice", ROLE, "2026-11-30T09:00:00Z", "2026-11-30T11:00:00Z");
const active = grant("rotate-keys", "alice", ROLE, "2026-11-30T11:30:00Z", "2026-11-30T13:00:00Z");
const activeToo = grant("debug-asg", "alice", ROLE, "2026-11-30T11:00:00Z", "2026-11-30T14:00:00Z");
const pending = grant("night-shift", "alice", ROLE, "2026-11-30T18:00:00Z", "2026-11-30T19:00:00Z");
const otherRole = grant("s3-fix", "alice", OTHER_ROLE, "2026-11-30T11:00:00Z", "2026-11-30T14:00:00Z");
const bobSameRole = grant("bob-keys", "bob", ROLE, "2026-11-30T11:00:00Z", "2026-11-30T14:00:00Z");
const glass = grant("breakglass-9001", "alice", ROLE, "2026-11-30T11:45:00Z", "2026-11-30T12:45:00Z");
const glassNote = JSON.stringify({
  schema: "elevate.breakglass/v1",
  event: "granted",
  requestId: "breakglass-9001",
  requester: "alice-gh",
  iamUser: "alice",
  role: "ec2-admin",
  roleArn: ROLE,
  commit: "0".repeat(40),
  window: { notBefore: "2026-11-30T11:45:00Z", notAfter: "2026-11-30T12:45:00Z" },
  run: { id: "9001", attempt: "1", url: "https://example.invalid/run" },
  recordedAt: "2026-11-30T11:45:01Z",
});

const cases: Case[] = [
  {
    name: "expired grant: revoked, cut-off exactly one second after notAfter (not stamped at run time)",
    grants: [expired],
    expect: {
      revoke: [
        {
          id: "resize-asg",
          reason: "expired",
          why: "its window ended at 2026-11-30T11:00:00Z",
          cutOff: true,
          parameters: revokeParams("resize-asg", { RevokedAt: "2026-11-30T11:00:01Z" }),
        },
      ],
      keep: [],
      drift: [],
      problems: [],
    },
  },
  {
    name: "active grant accounted for: kept, no action",
    grants: [active],
    expect: { revoke: [], keep: [{ id: "rotate-keys", drift: false }], clear: [], drift: [], problems: [] },
  },
  {
    name: "early revoke by deletion of the request file: cut-off stamped by the runbook from AWS's time",
    grants: [active],
    merged: [merged(active, { deleted: true })],
    expect: {
      revoke: [
        {
          id: "rotate-keys",
          reason: "early",
          why: "its request file requests/ec2-admin/rotate-keys.yaml is no longer on the default branch",
          cutOff: true,
          parameters: revokeParams("rotate-keys", { RevokedAt: "2026-11-30T12:00:00Z", StampAtRunTime: "true" }),
        },
      ],
      keep: [],
    },
  },
  {
    name: "early revoke by dispatch: the dispatch's reason, and an id with no policy is not found",
    grants: [active],
    early: [
      ["rotate-keys", "revoked early on request (manual run by @carol)"],
      ["gone-already", "revoked early on request (manual run by @carol)"],
    ],
    expect: {
      revoke: [
        {
          id: "rotate-keys",
          reason: "early",
          why: "revoked early on request (manual run by @carol)",
          cutOff: true,
          parameters: revokeParams("rotate-keys", { RevokedAt: "2026-11-30T12:00:00Z", StampAtRunTime: "true" }),
        },
      ],
      notFound: ["gone-already"],
    },
  },
  {
    name: "overlap: revoking one of two active grants of the same user on the same role cuts nothing off",
    grants: [active, activeToo],
    early: [["rotate-keys", "withdrawn"]],
    expect: {
      revoke: [
        {
          id: "rotate-keys",
          reason: "early",
          why: "withdrawn",
          cutOff: false,
          note: "another active grant of alice covers the same role (debug-asg), so its sessions stay valid",
          // The runbook checks debug-asg again when it runs, and cuts off if it has ended since.
          parameters: revokeParams("rotate-keys", {
            CutOff: "false",
            RevokedAt: "2026-11-30T12:00:00Z",
            CoveringRequests: "debug-asg",
          }),
        },
      ],
      keep: [{ id: "debug-asg", drift: false }],
    },
  },
  {
    name: "overlap: an expired grant next to an active one of the same user and role gets no cut-off",
    grants: [expired, activeToo],
    expect: {
      revoke: [
        {
          id: "resize-asg",
          reason: "expired",
          why: "its window ended at 2026-11-30T11:00:00Z",
          cutOff: false,
          note: "another active grant of alice covers the same role (debug-asg), so its sessions stay valid",
        },
      ],
      keep: [{ id: "debug-asg", drift: false }],
    },
  },
  {
    name: "overlap: both grants of the same user and role revoked: one cut-off covers both",
    grants: [active, activeToo],
    early: [
      ["rotate-keys", "withdrawn"],
      ["debug-asg", "withdrawn"],
    ],
    expect: {
      revoke: [
        { id: "rotate-keys", reason: "early", why: "withdrawn", cutOff: true },
        { id: "debug-asg", reason: "early", why: "withdrawn", cutOff: true },
      ],
      keep: [],
    },
  },
  {
    name: "overlap: a pending grant of the same user and role bounds the runbook's stamp (never into its window)",
    grants: [active, pending],
    early: [["rotate-keys", "withdrawn"]],
    expect: {
      revoke: [
        {
          id: "rotate-keys",
          reason: "early",
          why: "withdrawn",
          cutOff: true,
          parameters: revokeParams("rotate-keys", {
            RevokedAt: "2026-11-30T12:00:00Z",
            StampAtRunTime: "true",
            StampNotAfter: "2026-11-30T18:00:00Z",
          }),
        },
      ],
      keep: [{ id: "night-shift", drift: false }],
    },
  },
  {
    name: "overlap: another active grant of the same user on another role does not prevent the cut-off",
    grants: [active, otherRole],
    early: [["rotate-keys", "withdrawn"]],
    expect: {
      revoke: [{ id: "rotate-keys", reason: "early", why: "withdrawn", cutOff: true }],
      keep: [{ id: "s3-fix", drift: false }],
    },
  },
  {
    name: "overlap: another user's active grant on the same role does not prevent the cut-off (it names only alice)",
    grants: [active, bobSameRole],
    early: [["rotate-keys", "withdrawn"]],
    expect: {
      revoke: [{ id: "rotate-keys", reason: "early", why: "withdrawn", cutOff: true }],
      keep: [{ id: "bob-keys", drift: false }],
    },
  },
  {
    name: "drift, no merged request: revoked in drift mode 'revoke'",
    grants: [active],
    merged: [],
    records: [],
    expect: {
      revoke: [
        {
          id: "rotate-keys",
          reason: "drift",
          why: "no request file requests/<role>/rotate-keys.yaml was ever added on the default branch",
          cutOff: true,
        },
      ],
      drift: [
        {
          kind: "unknown-request",
          id: "rotate-keys",
          action: "revoke",
          message: "no request file requests/<role>/rotate-keys.yaml was ever added on the default branch",
        },
      ],
    },
  },
  {
    name: "drift, no merged request: only reported (and kept) in drift mode 'report'",
    grants: [active],
    merged: [],
    records: [],
    driftMode: "report",
    expect: {
      revoke: [],
      keep: [{ id: "rotate-keys", drift: true }],
      drift: [
        {
          kind: "unknown-request",
          id: "rotate-keys",
          action: "report",
          message: "no request file requests/<role>/rotate-keys.yaml was ever added on the default branch",
        },
      ],
    },
  },
  {
    name: "drift, merged request but no successful Elevate-Grant execution",
    grants: [active],
    records: [],
    driftMode: "report",
    expect: {
      keep: [{ id: "rotate-keys", drift: true }],
      drift: [
        {
          kind: "window-mismatch",
          id: "rotate-keys",
          action: "report",
          message:
            "no successful Elevate-Grant execution for it was found in SSM (requests/ec2-admin/rotate-keys.yaml)",
        },
      ],
    },
  },
  {
    name: "drift, window widened beyond the request and the execution",
    grants: [active],
    merged: [
      merged(active, {
        requested: {
          iamUser: "alice",
          target: { kind: "role", roleArn: ROLE },
          durationMs: 3_600_000,
          mergedAt: T("2026-11-30T11:30:00Z"),
        },
      }),
    ],
    records: [record(active, { executionId: "exec-1h", notAfter: T("2026-11-30T12:30:00Z") })],
    expect: {
      revoke: [{ id: "rotate-keys", reason: "drift", cutOff: true }],
      drift: [
        {
          kind: "window-mismatch",
          id: "rotate-keys",
          action: "revoke",
          message:
            "no successful Elevate-Grant execution has its parameters (the latest, exec-1h, granted " +
            `${ROLE} to alice for 2026-11-30T11:30:00Z – 2026-11-30T12:30:00Z); its window lasts 5400 s, the request asks for 3600 s (requests/ec2-admin/rotate-keys.yaml)`,
        },
      ],
    },
  },
  {
    name: "drift, forged note: a break-glass grant with only an evidence note and no Elevate-Grant execution",
    grants: [glass],
    merged: [],
    records: [],
    notes: [glassNote],
    driftMode: "report",
    expect: {
      keep: [{ id: "breakglass-9001", drift: true }],
      drift: [
        {
          kind: "unknown-request",
          id: "breakglass-9001",
          action: "report",
          message:
            "no successful Elevate-Grant execution for breakglass-9001 (SSM) accounts for it; a break-glass evidence note is no authority",
        },
      ],
    },
  },
  {
    name: "break-glass with its Elevate-Grant execution: accounted for and kept",
    grants: [glass],
    merged: [],
    notes: [glassNote],
    expect: { keep: [{ id: "breakglass-9001", drift: false }], drift: [], problems: [] },
  },
  {
    name: "cut-off expiry: older than 12 hours cleared; older than the role's MaxSessionDuration cleared; younger ones stay",
    cutoffs: [
      cutoff("alice", "2026-11-29T23:59:59Z"),
      cutoff("bob", "2026-11-30T10:00:00Z", OTHER_ROLE),
      cutoff("carol", "2026-11-30T10:00:00Z"),
      cutoff("dave", "2026-11-30T11:30:00Z", OTHER_ROLE),
    ],
    roles: [role(ROLE, 43_200), role(OTHER_ROLE, 3_600)],
    expect: {
      clear: [
        {
          policy: "elevate-cutoff-alice",
          document: "Elevate-ClearCutoff",
          parameters: { AutomationAssumeRole: AUTOMATION, UserName: "alice", RoleName: "EC2_FullAccess_Role" },
        },
        {
          policy: "elevate-cutoff-bob",
          document: "Elevate-ClearCutoff",
          parameters: { AutomationAssumeRole: AUTOMATION, UserName: "bob", RoleName: "S3_Admin" },
        },
      ],
      revoke: [],
    },
  },
  {
    name: "skewed runner clock: only AWS's time decides (a grant live by AWS's time is kept, a cut-off young by it stays)",
    // The runner's clock might read 14:00 here; the decision is given AWS's 12:00 and nothing else.
    grants: [active],
    cutoffs: [cutoff("bob", "2026-11-30T00:00:01Z")],
    expect: { revoke: [], keep: [{ id: "rotate-keys", drift: false }], clear: [] },
  },
  {
    name: "skewed runner clock, the other way: a grant expired by AWS's time is revoked",
    grants: [active],
    now: "2026-11-30T13:00:01Z",
    expect: {
      revoke: [
        {
          id: "rotate-keys",
          reason: "expired",
          why: "its window ended at 2026-11-30T13:00:00Z",
          cutOff: true,
          parameters: revokeParams("rotate-keys", { RevokedAt: "2026-11-30T13:00:01Z" }),
        },
      ],
    },
  },
  {
    name: "unreadable SSM: drift not judged (an unknown grant is kept), expired and withdrawn grants still revoked",
    grants: [expired, active, grant("who-knows", "alice", OTHER_ROLE, "2026-11-30T11:00:00Z", "2026-11-30T14:00:00Z")],
    merged: [merged(expired), merged(active, { deleted: true })],
    records: new Error("ThrottlingException: Rate exceeded"),
    expect: {
      revoke: [
        // Revoked with rotate-keys, alice's only other grant on the role: one cut-off for both.
        { id: "resize-asg", reason: "expired", why: "its window ended at 2026-11-30T11:00:00Z", cutOff: true },
        {
          // A deletion git history shows (a missed push run) still withdraws the grant.
          id: "rotate-keys",
          reason: "early",
          why: "its request file requests/ec2-admin/rotate-keys.yaml is no longer on the default branch",
          cutOff: true,
        },
      ],
      keep: [{ id: "who-knows", drift: false }],
      drift: [],
      problems: [
        "the Elevate-Grant executions could not be read from SSM (ThrottlingException: Rate exceeded); drift was not judged this run, expired and withdrawn grants were still revoked",
      ],
    },
  },
  {
    name: "SSM not read although there are live grants: drift not judged rather than judged without the records",
    grants: [active],
    merged: [],
    records: null,
    expect: {
      revoke: [],
      keep: [{ id: "rotate-keys", drift: false }],
      drift: [],
      problems: [
        "the Elevate-Grant executions could not be read from SSM (they were not read); drift was not judged this run, expired and withdrawn grants were still revoked",
      ],
    },
  },
  {
    name: "unreadable git history: drift not judged, expired grant still revoked",
    grants: [expired, active],
    merged: new Error("the checkout is shallow"),
    expect: {
      revoke: [
        {
          id: "resize-asg",
          reason: "expired",
          why: "its window ended at 2026-11-30T11:00:00Z",
          cutOff: false,
          note: "another active grant of alice covers the same role (rotate-keys), so its sessions stay valid",
        },
      ],
      keep: [{ id: "rotate-keys", drift: false }],
      problems: [
        "git history could not be read (the checkout is shallow); drift was not judged this run, expired and withdrawn grants were still revoked",
      ],
    },
  },
  {
    name: "approved AWS-side gate: its window (starting at the approval, after the merge) is the authority",
    grants: [active],
    merged: [
      merged(active, {
        requested: {
          iamUser: "alice",
          target: { kind: "role", roleArn: ROLE },
          durationMs: 5_400_000,
          mergedAt: T("2026-11-30T09:00:00Z"),
        },
      }),
    ],
    gates: [
      {
        gateExecutionId: "gate-1",
        status: "granted",
        requestId: "rotate-keys",
        iamUser: "alice",
        roleArn: ROLE,
        notBefore: "2026-11-30T11:30:00Z",
        notAfter: "2026-11-30T13:00:00Z",
        message: "granted",
      } as DualControlOutcome,
    ],
    expect: { revoke: [], keep: [{ id: "rotate-keys", drift: false }], drift: [] },
  },
  {
    name: "same merged request without the gate: the late start is drift",
    grants: [active],
    merged: [
      merged(active, {
        requested: {
          iamUser: "alice",
          target: { kind: "role", roleArn: ROLE },
          durationMs: 5_400_000,
          mergedAt: T("2026-11-30T09:00:00Z"),
        },
      }),
    ],
    driftMode: "report",
    expect: {
      keep: [{ id: "rotate-keys", drift: true }],
      drift: [
        {
          kind: "window-mismatch",
          id: "rotate-keys",
          action: "report",
          message:
            "its window starts 2026-11-30T11:30:00Z, the request 2026-11-30T09:00:00Z (requests/ec2-admin/rotate-keys.yaml)",
        },
      ],
    },
  },
  {
    name: "malformed grant policy: drift, revoked without a cut-off (its role is unknown)",
    grants: [{ iamUser: "alice", policyName: "elevate-odd-one", requestId: "odd-one" }],
    merged: [],
    records: [],
    expect: {
      revoke: [
        {
          id: "odd-one",
          reason: "drift",
          why: "elevate-odd-one on alice is not an Elevate grant policy of the exact shape Elevate writes",
          cutOff: false,
          note: "the policy did not parse, so the role it allowed is unknown",
          parameters: revokeParams("odd-one", {
            CutOff: "false",
            RoleName: "alice",
            RevokedAt: "2026-11-30T12:00:00Z",
          }),
        },
      ],
    },
  },
];

describe("decideRevoke", () => {
  it.each(cases)("$name", (c) => {
    const decision = decideRevoke(facts(c));
    expect(summary(decision)).toMatchObject(c.expect);
    if (c.expect.revoke) expect(summary(decision).revoke).toHaveLength(c.expect.revoke.length);
  });

  it("never cuts off a user's sessions on a role while another active grant of theirs covers it (every early subset of three grants)", () => {
    const grants = [active, activeToo, grant("third", "alice", ROLE, "2026-11-30T10:00:00Z", "2026-11-30T15:00:00Z")];
    for (let mask = 1; mask < 1 << grants.length; mask++) {
      const early = grants.filter((_, i) => mask & (1 << i)).map((g): [string, string] => [g.requestId, "withdrawn"]);
      const d = decideRevoke(facts({ name: "", grants, early, expect: {} }));
      const keptActive = d.plan.keep.filter((k) => k.state === "active").length;
      for (const a of d.actions) {
        if (a.kind !== "revoke-grant") continue;
        expect(a.revocation.cutOff).toBe(keptActive === 0);
      }
    }
  });

  it("orders every cut-off clear before the revokes, and leaves the facts as gathered", () => {
    const f = facts({
      name: "",
      grants: [expired],
      cutoffs: [cutoff("bob", "2026-11-29T00:00:00Z", OTHER_ROLE)],
      expect: {},
    });
    const before = JSON.stringify([...(f.mergedRequests.ok ? f.mergedRequests.value : [])]);
    const d = decideRevoke(f);
    expect(d.actions.map((a) => a.kind)).toEqual(["clear-cutoff", "revoke-grant"]);
    expect(JSON.stringify([...(f.mergedRequests.ok ? f.mergedRequests.value : [])])).toBe(before);
    expect(d.known?.get("resize-asg")?.grantRecords).toHaveLength(1);
  });

  it("a revocation the runbook cannot take becomes an action that carries the error (the revoke then fails)", () => {
    const revocation: Revocation = {
      requestId: "odd-role",
      policyName: "elevate-odd-role",
      iamUser: "alice",
      roleArn: `arn:aws:iam::${ACCOUNT}:role/.hidden`,
      reason: "expired",
      why: "its window ended",
      cutOff: true,
      revokedAt: T(NOW),
      stampAtRunTime: false,
    };
    expect(revokeStart(facts({ name: "", expect: {} }).settings, revocation)).toEqual({
      error: `odd-role: a session cut-off needs the role's name, and arn:aws:iam::${ACCOUNT}:role/.hidden has none`,
    });
  });

  it("warns once per drift finding, titled with what was done", () => {
    const d = decideRevoke(
      facts({ name: "", grants: [active], merged: [], records: [], driftMode: "report", expect: {} }),
    );
    expect(d.warnings).toEqual([
      {
        title: "Elevate: drift (unknown-request, reported)",
        message: "no request file requests/<role>/rotate-keys.yaml was ever added on the default branch",
      },
    ]);
  });
});
