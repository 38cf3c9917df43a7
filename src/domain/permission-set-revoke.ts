/**
 * What the revoker (and `elevate status`) decides about the Identity Center
 * account assignments of the catalogued permission sets: pure, facts in,
 * decisions out.
 *
 * A grant of a permission set is one (user, permission set, account, window),
 * known from a merged request on the default branch or from a successful
 * Elevate-GrantPermissionSet execution (its exact parameters, read from SSM).
 * Each assignment is then:
 *   - kept while a grant whose request is still on the default branch covers now;
 *   - revoked early when its covering grant's request file was deleted;
 *   - revoked as expired when every grant of it has ended (its end schedule did
 *     not run, or failed): expiry repair;
 *   - drift when no grant accounts for it (never granted, or only a future
 *     window): deleted like the others, through Elevate-RevokePermissionSet;
 *   - drift reported, not acted on, when the runbook cannot name it: a group
 *     assignment, or a user whose name is gone or outside the runbook's pattern.
 * Elevate-RevokePermissionSet itself keeps an assignment that another active
 * grant still covers, so revoking one grant never ends another's access.
 */
import { type ElevateConfig, findRole, findUserEntry, IDENTITY_CENTER_USER_NAME } from "./config.js";
import type { RequestFacts } from "./request-facts.js";
import { computeWindow } from "./window.js";

export interface NamedAssignment {
  permissionSetArn: string;
  accountId: string;
  principalType: "USER" | "GROUP";
  principalId: string;
  /** DescribeUser's UserName; undefined for a group, or a user that no longer exists. */
  userName: string | undefined;
}

/** A successful Elevate-GrantPermissionSet execution, with its exact parameters. */
export interface PermissionSetGrantRecord {
  executionId: string;
  requestId: string;
  userName: string;
  permissionSetArn: string;
  accountId: string;
  notBefore: Date;
  notAfter: Date;
}

/** One permission-set grant, from a merged request or an Elevate-GrantPermissionSet execution. */
export interface PermissionSetGrant {
  requestId: string;
  userName: string;
  permissionSetArn: string;
  accountId: string;
  notBefore: Date;
  notAfter: Date;
  /** The request file on the default branch; undefined when known from SSM only. */
  file?: string;
  /** The request file was deleted from the default branch: its grant is withdrawn. */
  deleted: boolean;
  source: "request" | "execution";
  executionId?: string;
}

export type PermissionSetRevokeReason = "revoked-early" | "expired" | "drift";

export interface PermissionSetKeep {
  requestId: string;
  userName: string;
  permissionSetArn: string;
  accountId: string;
  window: { notBefore: Date; notAfter: Date };
  remainingMs: number;
  file?: string;
}

export interface PermissionSetRevoke {
  reason: PermissionSetRevokeReason;
  /** The grant's request id; for drift, a stable id made from the assignment (`drift-…`). */
  requestId: string;
  userName: string;
  permissionSetArn: string;
  accountId: string;
  window?: { notBefore: Date; notAfter: Date };
  why: string;
}

export interface PermissionSetRevokeOutcome extends PermissionSetRevoke {
  /** "reported": drift left in place because the run's `drift` input is `report`. */
  status: "revoked" | "failed" | "planned" | "reported";
  message: string;
  executionId?: string;
}

/** What a revoke run did about Identity Center assignments (its report's section). */
export interface PermissionSetRunReport {
  outcomes: PermissionSetRevokeOutcome[];
  /** Assignments kept: an active grant covers each. */
  kept: number;
  /** Drift left for a person (groups, unknown users). */
  report: PermissionSetReport[];
}

export interface PermissionSetReport {
  permissionSetArn: string;
  accountId: string;
  principalType: "USER" | "GROUP";
  principalId: string;
  userName: string | undefined;
  why: string;
}

export interface PermissionSetPlan {
  keep: PermissionSetKeep[];
  revoke: PermissionSetRevoke[];
  /** Drift the runbook cannot act on: a person must remove it. */
  report: PermissionSetReport[];
}

function pairText(a: { permissionSetArn: string; accountId: string }): string {
  return `${a.permissionSetArn} in ${a.accountId}`;
}

/** A RequestId for the revoke of an assignment no grant accounts for: stable, so a re-run reuses the execution. */
export function driftRequestId(a: { userName: string; permissionSetArn: string; accountId: string }): string {
  // FNV-1a, 64 bits: a name, not a secret (the runbook re-reads everything it acts on).
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(`${a.userName}\n${a.permissionSetArn}\n${a.accountId}`)) {
    h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return `drift-${h.toString(16).padStart(16, "0")}`;
}

function grantKey(userName: string, pair: { permissionSetArn: string; accountId: string }): string {
  return `${userName}\n${pair.permissionSetArn}\n${pair.accountId}`;
}

export function planPermissionSetRevocations(input: {
  now: Date;
  assignments: readonly NamedAssignment[];
  grants: readonly PermissionSetGrant[];
}): PermissionSetPlan {
  const now = input.now.getTime();
  const plan: PermissionSetPlan = { keep: [], revoke: [], report: [] };
  const seen = new Set<string>();
  // Grants by (user, permission set, account), in input order, so each assignment finds
  // its own in one lookup: filtering every grant per assignment made the decision
  // quadratic (bench/README.md, row 6). Keys cannot collide: ARNs and account ids hold no newline.
  const grantsOf = new Map<string, PermissionSetGrant[]>();
  for (const g of input.grants) {
    const key = grantKey(g.userName, g);
    const list = grantsOf.get(key);
    if (list) list.push(g);
    else grantsOf.set(key, [g]);
  }
  for (const a of input.assignments) {
    const key = `${a.principalType}\n${a.principalId}\n${a.permissionSetArn}\n${a.accountId}`;
    if (seen.has(key)) continue; // one assignment, listed twice (overlapping pages): one decision
    seen.add(key);
    const userName = a.userName;
    if (a.principalType !== "USER" || userName === undefined || !IDENTITY_CENTER_USER_NAME.test(userName)) {
      plan.report.push({
        ...a,
        why:
          a.principalType !== "USER"
            ? `group ${a.principalId} is assigned ${pairText(a)}; Elevate assigns users only, so no request accounts for it: remove it by hand and find out who made it`
            : userName === undefined
              ? `user ${a.principalId} (no longer in the identity store) is assigned ${pairText(a)}; no request accounts for it: remove it by hand`
              : `user ${JSON.stringify(userName)} is assigned ${pairText(a)}, a name Elevate's runbooks cannot take; no request can account for it: remove it by hand`,
      });
      continue;
    }
    const mine = grantsOf.get(grantKey(userName, a)) ?? [];
    const covering = (g: PermissionSetGrant) => g.notBefore.getTime() <= now && now < g.notAfter.getTime();
    const active = mine.filter((g) => covering(g) && !g.deleted);
    const target = { userName, permissionSetArn: a.permissionSetArn, accountId: a.accountId };
    const withdrawn = mine.filter((g) => g.deleted && g.notAfter.getTime() > now);
    /**
     * Every withdrawn grant is revoked, latest window first, once each, also while another
     * grant keeps the assignment: Elevate-RevokePermissionSet keeps an assignment while any
     * other grant's end schedule covers now, and only a grant's own revoke deletes its end
     * schedule. A withdrawn grant left unrevoked kept its schedule, which then kept the
     * assignment after the other grants ended (or was deleted), until its own notAfter.
     */
    const revokeWithdrawn = (staysFor: string[]) => {
      const revoked = new Set<string>();
      for (const early of withdrawn.sort((x, y) => y.notAfter.getTime() - x.notAfter.getTime())) {
        if (revoked.has(early.requestId)) continue; // a request and its execution: one grant
        revoked.add(early.requestId);
        plan.revoke.push({
          reason: "revoked-early",
          requestId: early.requestId,
          ...target,
          window: { notBefore: early.notBefore, notAfter: early.notAfter },
          why: `request ${early.requestId} was deleted from the default branch before ${early.notAfter.toISOString()}${staysFor.length > 0 ? `; the assignment stays for ${staysFor.join(", ")}` : ""}`,
        });
      }
    };
    if (active.length > 0) {
      const kept = new Set<string>();
      for (const g of active) {
        if (kept.has(g.requestId)) continue; // a request and its execution: one grant
        kept.add(g.requestId);
        plan.keep.push({
          requestId: g.requestId,
          ...target,
          window: { notBefore: g.notBefore, notAfter: g.notAfter },
          remainingMs: g.notAfter.getTime() - now,
          ...(g.file !== undefined ? { file: g.file } : {}),
        });
      }
      revokeWithdrawn([...kept]);
      continue;
    }
    const ended = mine.filter((g) => g.notAfter.getTime() <= now);
    const last = (list: PermissionSetGrant[]) => list.sort((x, y) => y.notAfter.getTime() - x.notAfter.getTime())[0];
    const expired = last(ended);
    if (withdrawn.length > 0) {
      revokeWithdrawn([]);
    } else if (expired) {
      plan.revoke.push({
        reason: "expired",
        requestId: expired.requestId,
        ...target,
        window: { notBefore: expired.notBefore, notAfter: expired.notAfter },
        why: `the window ended at ${expired.notAfter.toISOString()} but the assignment is still there (its end schedule did not delete it)`,
      });
    } else {
      const pending = mine.find((g) => g.notBefore.getTime() > now);
      plan.revoke.push({
        reason: "drift",
        requestId: driftRequestId(target),
        ...target,
        why: pending
          ? `the assignment exists before its grant's window opens (${pending.requestId} starts ${pending.notBefore.toISOString()}); Elevate creates it at the start, so something else made it`
          : "no merged request and no successful Elevate-GrantPermissionSet execution accounts for it",
      });
    }
  }
  return plan;
}

/** A merged request on the default branch, as the revoker knows it from git. */
export interface MergedRequestFacts {
  requestId: string;
  file: string;
  addedAt: Date;
  deleted: boolean;
  /** The file as added, read leniently; undefined when unreadable. */
  facts: RequestFacts | undefined;
}

/**
 * The permission-set grants merged requests stand for: the role (the folder) is a
 * permission set of the config, the requester maps to an Identity Center user,
 * and the window is the merge-time one (start, duration). Requests of IAM roles
 * and unreadable files stand for none.
 */
export function permissionSetGrantsOfRequests(
  config: ElevateConfig,
  requests: readonly MergedRequestFacts[],
): PermissionSetGrant[] {
  const out: PermissionSetGrant[] = [];
  for (const r of requests) {
    const role = findRole(config, r.file.split("/")[1] ?? "");
    const facts = r.facts;
    if (role?.target.kind !== "permissionSet" || !facts?.requester || facts.durationMs === undefined) continue;
    const userName = findUserEntry(config, facts.requester)?.identityCenterUser;
    if (userName === undefined) continue;
    const window = computeWindow({ mergedAt: r.addedAt, start: facts.start, durationMs: facts.durationMs });
    out.push({
      requestId: r.requestId,
      userName,
      permissionSetArn: role.target.permissionSetArn,
      accountId: role.target.accountId,
      notBefore: window.notBefore,
      notAfter: window.notAfter,
      file: r.file,
      deleted: r.deleted,
      source: "request",
    });
  }
  return out;
}

/**
 * Grants from successful Elevate-GrantPermissionSet executions: exact windows. A
 * record whose request file was deleted is withdrawn, as its request is.
 */
export function permissionSetGrantsOfRecords(
  records: readonly PermissionSetGrantRecord[],
  deletedRequestIds: ReadonlySet<string>,
): PermissionSetGrant[] {
  return records.map((r) => ({ ...r, deleted: deletedRequestIds.has(r.requestId), source: "execution" as const }));
}
