/**
 * `elevate status` for Identity Center: the catalogued permission sets'
 * assignments as rows (kept, awaiting the revoker, drift) and their text. Pure;
 * the plan comes from planPermissionSetRevocations, as the revoker's does.
 */
import { formatIamTime } from "./grant-policy.js";
import { humanDuration } from "./grant-report.js";
import type { PermissionSetPlan } from "./permission-set-revoke.js";
import { textTable } from "./text-table.js";

export interface PermissionSetStatusRow {
  requestId: string;
  identityCenterUser: string;
  permissionSetArn: string;
  accountId: string;
  notBefore: string | null;
  notAfter: string | null;
  /** active: kept; expired / withdrawn: the revoker deletes it; drift: nothing accounts for it. */
  state: "active" | "expired" | "withdrawn" | "drift";
  remainingSeconds: number | null;
  requestFile: string | null;
  why?: string;
}

export interface PermissionSetStatus {
  assignments: PermissionSetStatusRow[];
  /** Assignments the runbook cannot name (groups, unknown users): a person must remove them. */
  unaddressable: string[];
}

/** Pure: the Identity Center rows of `elevate status`. */
export function permissionSetStatus(plan: PermissionSetPlan): PermissionSetStatus {
  const rows: PermissionSetStatusRow[] = plan.keep.map((k) => ({
    requestId: k.requestId,
    identityCenterUser: k.userName,
    permissionSetArn: k.permissionSetArn,
    accountId: k.accountId,
    notBefore: formatIamTime(k.window.notBefore),
    notAfter: formatIamTime(k.window.notAfter),
    state: "active",
    remainingSeconds: Math.floor(k.remainingMs / 1000),
    requestFile: k.file ?? null,
  }));
  for (const r of plan.revoke) {
    rows.push({
      requestId: r.requestId,
      identityCenterUser: r.userName,
      permissionSetArn: r.permissionSetArn,
      accountId: r.accountId,
      notBefore: r.window ? formatIamTime(r.window.notBefore) : null,
      notAfter: r.window ? formatIamTime(r.window.notAfter) : null,
      state: r.reason === "revoked-early" ? "withdrawn" : r.reason,
      remainingSeconds: r.reason === "expired" ? 0 : null,
      requestFile: null,
      why: r.why,
    });
  }
  return { assignments: rows, unaddressable: plan.report.map((r) => r.why) };
}

/** Drift among the assignments: what the revoker would delete for nothing accounting for it, or cannot delete. */
export function permissionSetDrift(status: PermissionSetStatus | undefined): number {
  return status ? status.assignments.filter((a) => a.state === "drift").length + status.unaddressable.length : 0;
}

/** The status text's Identity Center section (none when there is nothing to say). */
export function permissionSetStatusLines(ps: PermissionSetStatus | undefined): string[] {
  const lines: string[] = [];
  if (ps && (ps.assignments.length > 0 || ps.unaddressable.length > 0)) {
    lines.push("", "Identity Center assignments:");
    const header = ["REQUEST", "USER", "PERMISSION SET", "ACCOUNT", "NOT AFTER", "STATE", "REMAINING"];
    const body = ps.assignments.map((a) => [
      a.state === "drift" ? `${a.requestId} (drift)` : a.requestId,
      a.identityCenterUser,
      a.permissionSetArn,
      a.accountId,
      a.notAfter ?? "?",
      a.state,
      a.remainingSeconds === null ? "-" : a.state === "expired" ? "ended" : humanDuration(a.remainingSeconds * 1000),
    ]);
    if (body.length > 0) lines.push(textTable([header, ...body]));
    for (const a of ps.assignments.filter((x) => x.state === "drift")) lines.push(`  drift: ${a.why ?? ""}`);
    for (const why of ps.unaddressable) lines.push(`  drift (remove by hand): ${why}`);
  }
  return lines;
}
