// The revoker's decision on Identity Center assignments, table-driven: kept, revoked early,
// expired (repair), drift (acted on / reported), overlapping grants, duplicates.
import { describe, expect, it } from "vitest";
import {
  driftRequestId,
  type NamedAssignment,
  type PermissionSetGrant,
  planPermissionSetRevocations,
} from "../../src/domain/permission-set-revoke.js";

const PS = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef";
const NOW = new Date("2026-11-30T10:00:00Z");
const at = (hhmm: string) => new Date(`2026-11-30T${hhmm}:00Z`);

const assignment = (over: Partial<NamedAssignment> = {}): NamedAssignment => ({
  permissionSetArn: PS,
  accountId: "210987654321",
  principalType: "USER",
  principalId: "906744f8-1011-70f2-6b9b-0a1b2c3d4e5f",
  userName: "dora@acme.com",
  ...over,
});

const grant = (
  over: Partial<Omit<PermissionSetGrant, "file">> & { file?: string | undefined } = {},
): PermissionSetGrant => {
  const { file, ...rest } = { file: "requests/prod-admin/fix-prod-db.yaml" as string | undefined, ...over };
  return { ...base(rest), ...(file !== undefined ? { file } : {}) };
};
const base = (over: Partial<PermissionSetGrant>): PermissionSetGrant => ({
  requestId: "fix-prod-db",
  userName: "dora@acme.com",
  permissionSetArn: PS,
  accountId: "210987654321",
  notBefore: at("09:00"),
  notAfter: at("11:00"),
  deleted: false,
  source: "request",
  ...over,
});

function decide(assignments: NamedAssignment[], grants: PermissionSetGrant[]) {
  return planPermissionSetRevocations({ now: NOW, assignments, grants });
}

describe("planPermissionSetRevocations", () => {
  it("keeps an assignment an active grant covers, with its remaining time", () => {
    const plan = decide([assignment()], [grant()]);
    expect(plan).toEqual({
      keep: [
        {
          requestId: "fix-prod-db",
          userName: "dora@acme.com",
          permissionSetArn: PS,
          accountId: "210987654321",
          window: { notBefore: at("09:00"), notAfter: at("11:00") },
          remainingMs: 3_600_000,
          file: "requests/prod-admin/fix-prod-db.yaml",
        },
      ],
      revoke: [],
      report: [],
    });
  });

  it.each([
    [
      "request deleted inside its window: revoked early",
      [grant({ deleted: true })],
      "revoked-early",
      "fix-prod-db",
      /was deleted from the default branch/,
    ],
    ["window ended: expired (repair)", [grant({ notAfter: at("09:30") })], "expired", "fix-prod-db", /window ended/],
    [
      "known only from its successful execution, ended",
      [grant({ source: "execution", file: undefined, notAfter: at("09:59") })],
      "expired",
      "fix-prod-db",
      /window ended/,
    ],
    [
      "no grant at all: drift",
      [],
      "drift",
      driftRequestId({ userName: "dora@acme.com", permissionSetArn: PS, accountId: "210987654321" }),
      /no merged request and no successful/,
    ],
    [
      "only a future window: drift (Elevate creates it at the start)",
      [grant({ notBefore: at("12:00"), notAfter: at("13:00") })],
      "drift",
      driftRequestId({ userName: "dora@acme.com", permissionSetArn: PS, accountId: "210987654321" }),
      /exists before its grant's window opens/,
    ],
    [
      "a grant of the same user in another account does not account for it",
      [grant({ accountId: "111122223333" })],
      "drift",
      driftRequestId({ userName: "dora@acme.com", permissionSetArn: PS, accountId: "210987654321" }),
      /no merged request/,
    ],
    [
      "a grant of another user does not account for it",
      [grant({ userName: "bob@acme.com" })],
      "drift",
      driftRequestId({ userName: "dora@acme.com", permissionSetArn: PS, accountId: "210987654321" }),
      /no merged request/,
    ],
  ])("%s", (_name, grants, reason, requestId, why) => {
    const plan = decide([assignment()], grants);
    expect(plan.keep).toEqual([]);
    expect(plan.report).toEqual([]);
    expect(plan.revoke).toEqual([
      expect.objectContaining({
        reason,
        requestId,
        userName: "dora@acme.com",
        permissionSetArn: PS,
        accountId: "210987654321",
        why: expect.stringMatching(why),
      }),
    ]);
  });

  it("overlapping grants: the assignment stays while any covers now; a deleted one among them is revoked (its end schedule goes, the runbook keeps the assignment)", () => {
    const plan = decide(
      [assignment()],
      [
        grant({ requestId: "first", deleted: true }),
        grant({ requestId: "second", notBefore: at("09:30"), notAfter: at("12:00") }),
      ],
    );
    expect(plan.revoke).toEqual([
      expect.objectContaining({
        reason: "revoked-early",
        requestId: "first",
        why: expect.stringMatching(/was deleted from the default branch .*; the assignment stays for second$/),
      }),
    ]);
    expect(plan.keep.map((k) => k.requestId)).toEqual(["second"]);
  });

  it("every withdrawn grant is revoked, latest window first, once each (each revoke deletes only its own end schedule)", () => {
    // dave-a was deleted first (its revoke kept the assignment for dave-b); now dave-b is deleted too.
    // Revoking dave-a alone again would leave dave-b's end schedule keeping the assignment.
    const plan = decide(
      [assignment()],
      [
        grant({ requestId: "dave-a", deleted: true, notAfter: at("11:30") }),
        grant({ requestId: "dave-b", deleted: true, notAfter: at("11:00") }),
        grant({ requestId: "dave-b", deleted: true, notAfter: at("11:00"), source: "execution", file: undefined }),
      ],
    );
    expect(plan.revoke.map((r) => [r.reason, r.requestId])).toEqual([
      ["revoked-early", "dave-a"],
      ["revoked-early", "dave-b"],
    ]);
    expect(plan.keep).toEqual([]);
  });

  it("early revoke beats expiry when both apply; the latest window names the revoke", () => {
    const plan = decide(
      [assignment()],
      [
        grant({ requestId: "old", notAfter: at("09:30") }),
        grant({ requestId: "new", deleted: true, notAfter: at("11:30") }),
      ],
    );
    expect(plan.revoke).toEqual([expect.objectContaining({ reason: "revoked-early", requestId: "new" })]);
  });

  it("a request and its execution are one grant; an assignment listed twice gets one decision", () => {
    const plan = decide(
      [assignment(), assignment()],
      [grant(), grant({ source: "execution", executionId: "exec-1", file: undefined })],
    );
    expect(plan.keep).toHaveLength(1);
  });

  it.each([
    ["a group", assignment({ principalType: "GROUP", userName: undefined }), /group .* Elevate assigns users only/],
    ["a deleted user", assignment({ userName: undefined }), /no longer in the identity store/],
    ["a name the runbook cannot take", assignment({ userName: "José\n## x" }), /a name Elevate's runbooks cannot take/],
  ])("%s is reported for a person, never started as a revoke", (_name, a, why) => {
    const plan = decide([a], [grant()]);
    expect(plan.revoke).toEqual([]);
    expect(plan.keep).toEqual([]);
    expect(plan.report).toEqual([
      expect.objectContaining({ principalId: a.principalId, why: expect.stringMatching(why) }),
    ]);
  });

  it("drift request ids are stable, distinct per assignment, and fit the runbook's RequestId pattern", () => {
    const a = driftRequestId({ userName: "dora@acme.com", permissionSetArn: PS, accountId: "210987654321" });
    expect(a).toBe(driftRequestId({ userName: "dora@acme.com", permissionSetArn: PS, accountId: "210987654321" }));
    expect(a).not.toBe(driftRequestId({ userName: "dora@acme.com", permissionSetArn: PS, accountId: "210987654322" }));
    expect(a).toMatch(/^[a-z0-9][a-z0-9-]{2,62}$/);
  });
});
