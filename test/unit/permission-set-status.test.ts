// `elevate status` for Identity Center: rows for kept, withdrawn, expired and drifting
// assignments, the text section, and what counts as drift (exit 1).
import { describe, expect, it } from "vitest";
import { planPermissionSetRevocations } from "../../src/domain/permission-set-revoke.js";
import {
  permissionSetDrift,
  permissionSetStatus,
  permissionSetStatusLines,
} from "../../src/domain/permission-set-status.js";

const PS = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef";
const at = (hhmm: string) => new Date(`2026-11-30T${hhmm}:00Z`);
const user = (name: string, id: string) => ({
  permissionSetArn: PS,
  accountId: "210987654321",
  principalType: "USER" as const,
  principalId: id,
  userName: name,
});
const grant = (requestId: string, userName: string, over: { notAfter?: Date; deleted?: boolean } = {}) => ({
  requestId,
  userName,
  permissionSetArn: PS,
  accountId: "210987654321",
  notBefore: at("09:00"),
  notAfter: over.notAfter ?? at("11:00"),
  deleted: over.deleted ?? false,
  source: "request" as const,
  file: `requests/prod-admin/${requestId}.yaml`,
});

describe("permissionSetStatus", () => {
  const plan = planPermissionSetRevocations({
    now: at("10:00"),
    assignments: [
      user("dora@acme.com", "u-1"),
      user("bob@acme.com", "u-2"),
      user("eve@acme.com", "u-3"),
      user("carol@acme.com", "u-4"),
      { ...user("x", "g-1"), principalType: "GROUP", userName: undefined },
    ],
    grants: [
      grant("active-one", "dora@acme.com"),
      grant("withdrawn-one", "bob@acme.com", { deleted: true }),
      grant("ended-one", "carol@acme.com", { notAfter: at("09:30") }),
    ],
  });
  const status = permissionSetStatus(plan);

  it("one row per assignment with its state; drift counts unaccounted and unaddressable assignments", () => {
    expect(
      status.assignments.map((a) => [
        a.requestId.startsWith("drift-") ? "drift-…" : a.requestId,
        a.identityCenterUser,
        a.state,
        a.remainingSeconds,
      ]),
    ).toEqual([
      ["active-one", "dora@acme.com", "active", 3600],
      ["withdrawn-one", "bob@acme.com", "withdrawn", null],
      ["drift-…", "eve@acme.com", "drift", null],
      ["ended-one", "carol@acme.com", "expired", 0],
    ]);
    expect(status.unaddressable).toEqual([expect.stringMatching(/^group g-1 is assigned/)]);
    expect(permissionSetDrift(status)).toBe(2);
    expect(permissionSetDrift(undefined)).toBe(0);
    expect(permissionSetDrift(permissionSetStatus({ keep: plan.keep, revoke: [], report: [] }))).toBe(0);
  });

  it("the text section names each assignment, and says why each drift is drift", () => {
    const text = permissionSetStatusLines(status).join("\n");
    expect(text).toContain("Identity Center assignments:");
    expect(text).toMatch(
      /active-one\s+dora@acme\.com\s+arn:aws:sso:::permissionSet\/\S+\s+210987654321\s+2026-11-30T11:00:00Z\s+active\s+1h/,
    );
    expect(text).toMatch(
      /drift: no merged request and no successful Elevate-GrantPermissionSet execution accounts for it/,
    );
    expect(text).toMatch(/drift \(remove by hand\): group g-1/);
    expect(permissionSetStatusLines({ assignments: [], unaddressable: [] })).toEqual([]);
  });
});
