/**
 * The authorities for what a live grant may be (docs/threat-model.md "Forged
 * evidence"): the request files merged on the default branch (git), the successful
 * Elevate-Grant executions with their exact parameters (SSM) and the approved
 * AWS-side approval gates (SSM). Never the evidence notes: anyone who can push
 * `refs/notes/elevate` could write one. Pure: `driftOf` judges one grant against them.
 */
import type { RoleTarget } from "./config.js";
import { formatIamTime, type ParsedGrantPolicy } from "./grant-policy.js";
import { RESERVED_ID_PREFIX } from "./request-path.js";
import type { InventoryGrant } from "./revoke-inventory.js";
import { computeWindow } from "./window.js";

export interface KnownRequest {
  requestId: string;
  /**
   * `requests/<role>/<id>.yaml` as last added on the default branch; absent for a
   * break-glass grant, which has no request file.
   */
  file?: string;
  /** The file is no longer on the default branch: its deletion revokes (also when a push run was missed). */
  deleted: boolean;
  /**
   * From AWS: the exact grant an approved dual-control gate fixed (its window starts at
   * the approval). Never from the evidence notes: anyone who can push
   * `refs/notes/elevate` could write one.
   */
  granted?: { iamUser: string; roleArn: string; notBefore: Date; notAfter: Date };
  /**
   * From AWS: the successful Elevate-Grant executions for this request id (SSM
   * DescribeAutomationExecutions + GetAutomationExecution), with their exact
   * parameters; undefined when SSM was not read. A live grant must equal one of them.
   */
  grantRecords?: GrantRecord[];
  /**
   * Set for a break-glass grant (`breakglass-<run id>`), which has no request file: it
   * is known only from its Elevate-Grant execution in SSM.
   */
  breakGlass?: { executionId: string };
  /** GitHub login of the requester (or break-glass dispatcher), when the evidence says. */
  requester?: string;
  /** Catalog key of the role (the folder of the request file, or the break-glass role). */
  role?: string;
  /**
   * From the request file as added, when there is no evidence note (the note push can
   * fail after a grant). `mergedAt` is the committer time of the commit that added it;
   * `iamUser` is the requester's IAM user and `target` what the request's role grants,
   * when the config still maps them.
   */
  requested?: { iamUser?: string; target?: RoleTarget; durationMs: number; start?: Date; mergedAt: Date };
}

/** One successful Elevate-Grant execution: the grant it attached, exactly. */
export interface GrantRecord {
  executionId: string;
  requestId: string;
  iamUser: string;
  roleArn: string;
  notBefore: Date;
  notAfter: Date;
}

/**
 * The merge time is known only as the merge commit's
 * committer time, which GitHub writes within seconds of `merged_at`; this is the
 * slack allowed between that and the policy's notBefore.
 */
export const MERGE_TIME_TOLERANCE_MS = 5 * 60_000;

export type DriftKind =
  | "malformed"
  | "identity-mismatch"
  | "unknown-request"
  | "window-mismatch"
  | "unverifiable"
  | "not-addressable"
  | "malformed-cutoff";

export interface GrantWindowDates {
  notBefore: Date;
  notAfter: Date;
}

export function windowText(w: GrantWindowDates): string {
  return `${formatIamTime(w.notBefore)} – ${formatIamTime(w.notAfter)}`;
}

function sameInstant(a: Date, b: Date): boolean {
  return a.getTime() === b.getTime();
}

/** Where a known request comes from, for messages: its file, or its break-glass execution. */
export function sourceOf(known: KnownRequest): string {
  if (known.file !== undefined) return known.file;
  if (known.breakGlass) return `break-glass Elevate-Grant execution ${known.breakGlass.executionId}`;
  return `request ${known.requestId}`;
}

function sameGrant(
  a: { iamUser: string; roleArn: string; notBefore: Date; notAfter: Date },
  b: { iamUser: string; roleArn: string; notBefore: Date; notAfter: Date },
): boolean {
  return (
    a.iamUser === b.iamUser &&
    a.roleArn === b.roleArn &&
    sameInstant(a.notBefore, b.notBefore) &&
    sameInstant(a.notAfter, b.notAfter)
  );
}

/**
 * Attaches the Elevate-Grant executions read from SSM to the known requests of the
 * live grants `liveIds`, and makes a break-glass grant known from its execution alone
 * (its evidence note is no authority). Mutates `known`.
 */
export function accountGrantRecords(
  known: Map<string, KnownRequest>,
  records: readonly GrantRecord[],
  liveIds: Iterable<string>,
): void {
  for (const id of new Set(liveIds)) {
    const mine = records.filter((r) => r.requestId === id);
    const entry = known.get(id);
    if (entry) {
      entry.grantRecords = mine;
      continue;
    }
    const latest = mine.at(-1);
    if (id.startsWith(RESERVED_ID_PREFIX) && latest) {
      known.set(id, {
        requestId: id,
        deleted: false,
        breakGlass: { executionId: latest.executionId },
        grantRecords: mine,
      });
    }
  }
}

/**
 * Why a grant's policy is not accounted for; undefined when it is. The authorities are
 * AWS and the default branch, never the evidence notes (docs/threat-model.md "Forged
 * evidence"):
 *   - a request file merged on the default branch bounds the grant: the requester's
 *     user, the request's role, a window starting at max(merge, start) (or later, at an
 *     approved dual-control gate) and no longer than requested (an approver may shorten
 *     it);
 *   - an approved dual-control gate (SSM) fixes the window exactly;
 *   - the successful Elevate-Grant executions (SSM) fix the exact parameters: when SSM
 *     was read, the policy must equal one of them. A break-glass grant has no request
 *     file: its execution is its only authority.
 */
export function driftOf(
  grant: InventoryGrant & { policy: ParsedGrantPolicy },
  known: KnownRequest | undefined,
): { kind: DriftKind; message: string } | undefined {
  const { policy } = grant;
  const live = {
    iamUser: grant.iamUser,
    roleArn: policy.roleArn,
    notBefore: policy.notBefore,
    notAfter: policy.notAfter,
  };
  if (!known) {
    return {
      kind: "unknown-request",
      message: grant.requestId.startsWith(RESERVED_ID_PREFIX)
        ? `no successful Elevate-Grant execution for ${grant.requestId} (SSM) accounts for it; a break-glass evidence note is no authority`
        : `no request file requests/<role>/${grant.requestId}.yaml was ever added on the default branch`,
    };
  }
  const problems: string[] = [];
  const granted = known.granted;
  if (granted) {
    if (granted.iamUser !== grant.iamUser)
      problems.push(`it is on user ${grant.iamUser}, the approval gate says ${granted.iamUser}`);
    if (granted.roleArn !== policy.roleArn)
      problems.push(`it allows ${policy.roleArn}, the approval gate says ${granted.roleArn}`);
    if (!sameInstant(granted.notBefore, policy.notBefore) || !sameInstant(granted.notAfter, policy.notAfter)) {
      problems.push(`its window is ${windowText(policy)}, the approval gate says ${windowText(granted)}`);
    }
  }
  const records = known.grantRecords;
  if (records !== undefined && !records.some((r) => sameGrant(r, live))) {
    const latest = records.at(-1);
    problems.push(
      latest
        ? `no successful Elevate-Grant execution has its parameters (the latest, ${latest.executionId}, granted ${latest.roleArn} to ${latest.iamUser} for ${windowText(latest)})`
        : "no successful Elevate-Grant execution for it was found in SSM",
    );
  }
  if (known.file === undefined) {
    if (!records && !granted) {
      problems.push("no Elevate-Grant execution could be read for it");
    }
    if (problems.length === 0) return undefined;
    return { kind: "window-mismatch", message: `${problems.join("; ")} (${sourceOf(known)})` };
  }
  const requested = known.requested;
  if (!requested) {
    if (problems.length > 0) return { kind: "window-mismatch", message: `${problems.join("; ")} (${sourceOf(known)})` };
    return { kind: "unverifiable", message: `${sourceOf(known)} cannot be read as a request` };
  }
  if (requested.iamUser !== undefined && requested.iamUser !== grant.iamUser) {
    problems.push(`it is on user ${grant.iamUser}, the request maps to ${requested.iamUser}`);
  }
  const target = requested.target;
  if (target?.kind === "role" && target.roleArn !== policy.roleArn) {
    problems.push(`it allows ${policy.roleArn}, the request's role is ${target.roleArn}`);
  }
  // A permission-set request grants no IAM role: an IAM grant policy under its id never matches it.
  if (target?.kind === "permissionSet") {
    problems.push(`it allows ${policy.roleArn}, the request's role is ${target.permissionSetArn}`);
  }
  const policyMs = policy.notAfter.getTime() - policy.notBefore.getTime();
  if (policyMs > requested.durationMs) {
    problems.push(`its window lasts ${policyMs / 1000} s, the request asks for ${requested.durationMs / 1000} s`);
  }
  const expected = computeWindow({
    mergedAt: requested.mergedAt,
    start: requested.start,
    durationMs: requested.durationMs,
  });
  const lateBy = policy.notBefore.getTime() - expected.notBefore.getTime();
  // An approved gate starts the window at the approval, later than the merge.
  if (lateBy < -MERGE_TIME_TOLERANCE_MS || (!granted && lateBy > MERGE_TIME_TOLERANCE_MS)) {
    problems.push(
      `its window starts ${formatIamTime(policy.notBefore)}, the request ${formatIamTime(expected.notBefore)}`,
    );
  }
  if (problems.length === 0) return undefined;
  return { kind: "window-mismatch", message: `${problems.join("; ")} (${sourceOf(known)})` };
}

/**
 * A grant can be attached at most this long before its window opens (the stack's
 * MaxGrantLeadTime default, 7 days) plus a day: executions that started earlier than
 * this before the oldest live grant's notBefore cannot be that grant's.
 */
export const GRANT_RECORD_LOOKBACK_MS = 8 * 86_400_000;

/** Since when the Elevate-Grant executions of the live grants `grants` must be read. */
export function grantRecordsSince(grants: readonly InventoryGrant[], now: Date): Date {
  const starts = grants.flatMap((g) => (g.policy ? [g.policy.notBefore.getTime()] : []));
  return new Date(Math.min(now.getTime(), ...starts) - GRANT_RECORD_LOOKBACK_MS);
}
