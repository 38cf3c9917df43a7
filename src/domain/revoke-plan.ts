/**
 * What the revoker does with the grants it finds in IAM (docs/threat-model.md
 * invariants 3 and 6). Pure: the inventory, the git facts and the time come in
 * as parameters; `planRevocations` decides, revoke mode executes and
 * `elevate status` prints the same decisions.
 *
 * The rules, in the order they apply to one `elevate-*` user policy:
 *   1. A policy Elevate's runbook cannot address (a name outside the runbook's
 *      allowedPattern) is drift that needs a person; nothing else happens to it.
 *   2. A policy past its window (`now > notAfter`) is revoked: it already denies
 *      by itself, the revoke only removes it and cuts off sessions.
 *   3. A request id asked for early (dispatch input, deleted request file) is revoked.
 *   4. A policy that does not parse as our exact shape, or that no merged request
 *      accounts for, or whose window or identity differ from the request, is drift:
 *      revoked when `driftMode` is "revoke", only reported when it is "report".
 *   5. Everything else is kept.
 * Session cut-off (invariant 3): after a revoke, the role denies that user's sessions
 * issued before the revocation time, unless another kept, active grant of the same user
 * covers the same role (the overlap that AWS TEAM's issue #279 gets wrong), the window
 * never opened, the role is in another account, or the role's inline budget is full.
 * The revocation time of an expired grant is exact (notAfter + 1 s); that of an early or
 * drift revoke is stamped by the Elevate-Revoke runbook from AWS's clock when it writes
 * the cut-off (invariant 8), between the bounds decided here.
 */
import { parseDuration } from "./duration.js";
import {
  CUTOFF_STATEMENT_SID,
  cutoffPolicyName,
  cutoffPolicyText,
  decodePolicyDocument,
  formatIamTime,
  grantPolicyName,
  iamPolicySize,
  type ParsedGrantPolicy,
  POLICY_PREFIX,
  ROLE_INLINE_POLICY_BUDGET,
  sameJson,
} from "./grant-policy.js";
import { parseRoleArn } from "./grant-report.js";
import { parseTimestamp } from "./request.js";
import { REQUEST_ID, RESERVED_ID_PREFIX } from "./request-path.js";
import { parseStrictYaml } from "./strict-yaml.js";
import { computeWindow, truncateToSecond } from "./window.js";

// --- Inventory (what IAM holds) -------------------------------------------------------------

export interface InventoryGrant {
  /** The IAM user that holds the inline policy. */
  iamUser: string;
  /** `elevate-<requestId>`. */
  policyName: string;
  /** The policy name without `elevate-`; not necessarily a valid request id. */
  requestId: string;
  /** The policy read back with `parseGrantPolicy`; undefined when it is not our exact shape. */
  policy?: ParsedGrantPolicy;
}

export interface InventoryCutoff {
  roleArn: string;
  roleName: string;
  policyName: string;
  /** The user named by the policy name `elevate-cutoff-<user>`. */
  iamUser: string;
  /** Undefined when the document is not exactly `cutoffPolicyText(iamUser, revokedAt)`. */
  revokedAt?: Date;
}

export interface InventoryRole {
  arn: string;
  name: string;
  /** Size of every inline policy of the role as IAM counts it (no white space), by name. */
  inlinePolicySizes: ReadonlyMap<string, number>;
  /**
   * The role's MaxSessionDuration, seconds. GetAccountAuthorizationDetails does not
   * return it (RoleDetail has no such field), so it is read with GetRole, and only for
   * the roles `rolesNeedingSessionDuration` names.
   */
  maxSessionDurationSeconds?: number;
}

export interface Inventory {
  /** The account that holds the users (and the roles listed in `roles`). */
  accountId: string;
  grants: InventoryGrant[];
  /**
   * Every `elevate-cutoff-*` inline role policy. Other role policies are not Elevate's to
   * judge: the stack's own roles carry inline policies named `elevate-grant`,
   * `elevate-revoke` and `elevate-automation` (infra/template.yaml).
   */
  cutoffs: InventoryCutoff[];
  /** Roles of `accountId`, by ARN. */
  roles: ReadonlyMap<string, InventoryRole>;
}

// --- Known requests (what git holds) --------------------------------------------------------

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
   * fail after a grant). `mergedAt` is the committer time of the commit that added it.
   */
  requested?: { iamUser?: string; roleArn?: string; durationMs: number; start?: Date; mergedAt: Date };
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

// --- Plan -----------------------------------------------------------------------------------

export type RevokeReason = "expired" | "early" | "drift";
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

export interface Revocation {
  requestId: string;
  policyName: string;
  iamUser: string;
  /** Undefined when the policy did not parse. */
  roleArn?: string;
  roleName?: string;
  window?: GrantWindowDates;
  reason: RevokeReason;
  /** Human sentence: why this grant is revoked. */
  why: string;
  cutOff: boolean;
  /** Why there is no cut-off, when `cutOff` is false. */
  cutOffNote?: string;
  /**
   * Sessions of the user on the role issued before this instant are denied (when
   * `cutOff`). With `stampAtRunTime` the earliest such instant: the runbook stamps
   * the cut-off later, at its own time (after revoking it reports the stamped time).
   */
  revokedAt: Date;
  /**
   * True for an early or drift revoke: the Elevate-Revoke runbook stamps the cut-off
   * from AWS's clock when it runs (+ 60 s for IAM to propagate the deletion), not from
   * the plan, so a session assumed between the plan and the runbook is cut off too.
   */
  stampAtRunTime: boolean;
  /** The latest time the runbook may stamp: the start of a pending grant of the same user on the role. */
  stampNotAfter?: Date;
}

export type GrantState = "active" | "pending" | "expired";

export interface KeptGrant {
  requestId: string;
  policyName: string;
  iamUser: string;
  roleArn: string;
  window: GrantWindowDates;
  state: Exclude<GrantState, "expired">;
  /** Until notAfter. */
  remainingMs: number;
  /** The request file it was matched to, if any. */
  file?: string;
  /** True when kept only because drift is reported, not revoked. */
  drift: boolean;
}

export interface CutoffClear {
  roleArn: string;
  roleName: string;
  iamUser: string;
  policyName: string;
  revokedAt: Date;
  /** Why no session it could match is still alive. */
  why: string;
}

export interface DriftFinding {
  kind: DriftKind;
  policyName: string;
  /** For user policies. */
  iamUser?: string;
  /** For role policies. */
  roleArn?: string;
  requestId?: string;
  message: string;
  /** What this run does about it. */
  action: "revoke" | "report";
}

export interface RevokePlan {
  revoke: Revocation[];
  keep: KeptGrant[];
  clearCutoffs: CutoffClear[];
  drift: DriftFinding[];
  /** Early-revoke ids with no grant policy in IAM: already revoked, expired and cleaned, or never granted. */
  notFound: string[];
}

export interface PlanInput {
  inventory: Inventory;
  now: Date;
  /** Request ids to revoke now, with a reason each (dispatch input, deleted request file). */
  earlyRevokeIds: ReadonlyMap<string, string> | readonly string[];
  /** Request ids found in git; undefined when git history could not be read (drift is then not judged). */
  knownRequests: ReadonlyMap<string, KnownRequest> | undefined;
  driftMode: "revoke" | "report";
}

/**
 * An early or drift revocation cuts off sessions issued up to this long after the
 * runbook deleted the grant policy, so that sessions issued while IAM propagates the
 * deletion are cut off too. The Elevate-Revoke runbook's stampCutOff step adds it to
 * its own time (infra/runbooks/elevate-revoke.yaml); it is clamped so that it never
 * reaches into another grant of the same user on the same role (see decideCutoffs).
 */
export const CUTOFF_MARGIN_MS = 60_000;

/**
 * IAM caps MaxSessionDuration at 12 hours (IAM API reference, CreateRole
 * MaxSessionDuration: 3600 to 43200 seconds), and no role session outlives it:
 * a cut-off this old can no longer match anything, whatever the role.
 */
export const MAX_ROLE_SESSION_SECONDS = 43_200;
/** The smallest MaxSessionDuration IAM allows: a cut-off younger than this is always still needed. */
export const MIN_ROLE_SESSION_SECONDS = 3_600;

/**
 * The Elevate runbooks' allowedPattern for UserName and RoleName (infra/runbooks):
 * IAM names, but not starting with a dot. A name outside it cannot be passed to the runbook.
 */
export const RUNBOOK_NAME = /^[A-Za-z0-9_+=,@-][A-Za-z0-9_+=,.@-]{0,63}$/;

export function grantState(window: GrantWindowDates, now: Date): GrantState {
  const t = now.getTime();
  if (t > window.notAfter.getTime()) return "expired";
  if (t < window.notBefore.getTime()) return "pending";
  return "active";
}

function windowText(w: GrantWindowDates): string {
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
  if (requested.roleArn !== undefined && requested.roleArn !== policy.roleArn) {
    problems.push(`it allows ${policy.roleArn}, the request's role is ${requested.roleArn}`);
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

function earlyMap(ids: PlanInput["earlyRevokeIds"]): Map<string, string> {
  if (ids instanceof Map) return new Map(ids);
  const map = new Map<string, string>();
  for (const id of ids as readonly string[]) map.set(id, "revoked early on request");
  return map;
}

function pairKey(iamUser: string, roleArn: string): string {
  return `${iamUser}\n${roleArn}`;
}

export function planRevocations(input: PlanInput): RevokePlan {
  const { inventory, now, knownRequests, driftMode } = input;
  const early = earlyMap(input.earlyRevokeIds);
  const plan: RevokePlan = { revoke: [], keep: [], clearCutoffs: [], drift: [], notFound: [] };
  // The earliest revocation time of an early or drift revoke; the runbook stamps the real one.
  const planSecond = truncateToSecond(now);
  const seenIds = new Set<string>();

  for (const grant of inventory.grants) {
    seenIds.add(grant.requestId);
    const known = knownRequests?.get(grant.requestId);
    if (!REQUEST_ID.test(grant.requestId) || !RUNBOOK_NAME.test(grant.iamUser)) {
      plan.drift.push({
        kind: "not-addressable",
        policyName: grant.policyName,
        iamUser: grant.iamUser,
        message: `${grant.policyName} on ${grant.iamUser} has a name the Elevate-Revoke runbook cannot take (request id ${REQUEST_ID.source}, user ${RUNBOOK_NAME.source}); Elevate never writes such a policy: remove it by hand and find out who did`,
        action: "report",
      });
      continue;
    }
    const base = { requestId: grant.requestId, policyName: grant.policyName, iamUser: grant.iamUser };
    const policy = grant.policy;
    if (!policy || policy.iamUserSessionName !== grant.iamUser) {
      const kind: DriftKind = policy ? "identity-mismatch" : "malformed";
      const message = policy
        ? `${grant.policyName} on ${grant.iamUser} allows role sessions named ${policy.iamUserSessionName}, not the user's own name`
        : `${grant.policyName} on ${grant.iamUser} is not an Elevate grant policy of the exact shape Elevate writes`;
      const expired = policy !== undefined && policy.notAfter.getTime() < now.getTime();
      const revokeIt = driftMode === "revoke" || early.has(grant.requestId) || expired;
      plan.drift.push({ kind, ...base, message, action: revokeIt ? "revoke" : "report" });
      if (revokeIt) {
        plan.revoke.push({
          ...base,
          ...(policy
            ? { roleArn: policy.roleArn, window: { notBefore: policy.notBefore, notAfter: policy.notAfter } }
            : {}),
          reason: "drift",
          why: message,
          cutOff: false,
          revokedAt: planSecond,
          stampAtRunTime: false,
        });
      }
      continue;
    }
    const window = { notBefore: policy.notBefore, notAfter: policy.notAfter };
    const state = grantState(window, now);
    const drift = knownRequests ? driftOf({ ...grant, policy }, known) : undefined;
    const earlyWhy =
      early.get(grant.requestId) ??
      (known?.deleted ? `its request file ${sourceOf(known)} is no longer on the default branch` : undefined);
    const revocation = {
      ...base,
      roleArn: policy.roleArn,
      window,
      cutOff: false,
      revokedAt: planSecond,
      stampAtRunTime: false,
    };
    if (drift) {
      const acted = state === "expired" || earlyWhy !== undefined || driftMode === "revoke";
      plan.drift.push({ kind: drift.kind, ...base, message: drift.message, action: acted ? "revoke" : "report" });
    }
    if (state === "expired") {
      // The policy has denied by itself since notAfter; sessions issued up to notAfter
      // (inclusive, to the second) are the ones to cut off.
      plan.revoke.push({
        ...revocation,
        reason: "expired",
        why: `its window ended at ${formatIamTime(policy.notAfter)}`,
        revokedAt: new Date(policy.notAfter.getTime() + 1000),
      });
    } else if (earlyWhy !== undefined) {
      plan.revoke.push({ ...revocation, reason: "early", why: earlyWhy });
    } else if (drift && driftMode === "revoke") {
      plan.revoke.push({ ...revocation, reason: "drift", why: drift.message });
    } else {
      plan.keep.push({
        ...base,
        roleArn: policy.roleArn,
        window,
        state,
        remainingMs: Math.max(0, policy.notAfter.getTime() - now.getTime()),
        ...(known?.file !== undefined ? { file: known.file } : {}),
        drift: drift !== undefined,
      });
    }
  }
  for (const id of early.keys()) if (!seenIds.has(id)) plan.notFound.push(id);

  decideCutoffs(plan, inventory, now);
  return plan;
}

/** Fills `cutOff`, `cutOffNote` and `revokedAt` of each revocation, and `clearCutoffs`. */
function decideCutoffs(plan: RevokePlan, inventory: Inventory, now: Date): void {
  const covering = new Map<string, string[]>();
  const nextStart = new Map<string, number>();
  for (const k of plan.keep) {
    const key = pairKey(k.iamUser, k.roleArn);
    if (k.state === "active") covering.set(key, [...(covering.get(key) ?? []), k.requestId]);
    else nextStart.set(key, Math.min(nextStart.get(key) ?? Number.POSITIVE_INFINITY, k.window.notBefore.getTime()));
  }
  const existing = new Map<string, InventoryCutoff>();
  for (const c of inventory.cutoffs) existing.set(pairKey(c.iamUser, c.roleArn), c);

  // Candidates: revocations that need a cut-off and can have one, grouped by (user, role).
  const pairs = new Map<string, Revocation[]>();
  for (const r of plan.revoke) {
    const note = noCutoffReason(r, inventory, covering, now);
    if (note !== undefined) {
      r.cutOff = false;
      r.cutOffNote = note;
      continue;
    }
    const role = parseRoleArn(r.roleArn as string);
    r.roleName = role?.name as string;
    const key = pairKey(r.iamUser, r.roleArn as string);
    pairs.set(key, [...(pairs.get(key) ?? []), r]);
  }

  // Cut-offs old enough that no session they match can still be alive.
  for (const c of inventory.cutoffs) {
    if (c.revokedAt === undefined) {
      plan.drift.push({
        kind: "malformed-cutoff",
        policyName: c.policyName,
        roleArn: c.roleArn,
        message: `${c.policyName} on role ${c.roleName} is not the exact cut-off Elevate writes; it only denies, so Elevate leaves it: check and remove it by hand`,
        action: "report",
      });
      continue;
    }
    if (pairs.has(pairKey(c.iamUser, c.roleArn))) continue; // rewritten by a revoke of this run
    if (!RUNBOOK_NAME.test(c.iamUser) || !RUNBOOK_NAME.test(c.roleName)) continue;
    const why = cutoffExpiry(c, inventory.roles.get(c.roleArn), now);
    if (why) {
      plan.clearCutoffs.push({
        roleArn: c.roleArn,
        roleName: c.roleName,
        iamUser: c.iamUser,
        policyName: c.policyName,
        revokedAt: c.revokedAt,
        why,
      });
    }
  }

  // One revocation time per (user, role): the latest wanted, and never earlier than the
  // cut-off already there, so a cut-off only moves forward (PutRolePolicy replaces it).
  // With an early or drift revoke among them, that time is the floor the runbook stamps
  // from (its own time + margin), and the next pending grant's start its ceiling.
  const usedByRole = new Map<string, number>();
  const sizeOf = (role: InventoryRole): number => {
    let size = usedByRole.get(role.arn);
    if (size === undefined) {
      size = 0;
      for (const [name, s] of role.inlinePolicySizes) {
        if (!plan.clearCutoffs.some((c) => c.roleArn === role.arn && c.policyName === name)) size += s;
      }
    }
    return size;
  };
  for (const [key, revocations] of [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const first = revocations[0] as Revocation;
    const roleArn = first.roleArn as string;
    const role = inventory.roles.get(roleArn) as InventoryRole;
    // Never into the window of a pending grant of the same user on the same role ...
    const limit = nextStart.get(key);
    let at = Math.min(Math.max(...revocations.map((r) => r.revokedAt.getTime())), limit ?? Number.POSITIVE_INFINITY);
    const atRunTime = revocations.some((r) => r.reason !== "expired");
    // ... and never back: an existing later cut-off stays as it is.
    const current = existing.get(key);
    if (current?.revokedAt && current.revokedAt.getTime() > at) at = current.revokedAt.getTime();
    const revokedAt = new Date(at);
    const name = cutoffPolicyName(first.iamUser);
    const newSize = iamPolicySize(cutoffPolicyText(first.iamUser, revokedAt));
    const used = sizeOf(role) - (role.inlinePolicySizes.get(name) ?? 0) + newSize;
    for (const r of revocations) {
      r.revokedAt = revokedAt;
      r.stampAtRunTime = atRunTime;
      if (atRunTime && limit !== undefined) r.stampNotAfter = new Date(limit);
      if (used > ROLE_INLINE_POLICY_BUDGET) {
        r.cutOff = false;
        r.cutOffNote = `the cut-off would bring ${role.name}'s inline policies to ${used} characters, over IAM's ${ROLE_INLINE_POLICY_BUDGET}; sessions already issued live until they expire (at most the role's MaxSessionDuration)`;
      } else {
        r.cutOff = true;
      }
    }
    if (used <= ROLE_INLINE_POLICY_BUDGET) usedByRole.set(role.arn, used);
  }
}

function noCutoffReason(
  r: Revocation,
  inventory: Inventory,
  covering: ReadonlyMap<string, string[]>,
  now: Date,
): string | undefined {
  if (r.roleArn === undefined || r.window === undefined) {
    return "the policy did not parse, so the role it allowed is unknown";
  }
  if (r.window.notBefore.getTime() > now.getTime()) return "its window never opened, so no session came from it";
  const role = parseRoleArn(r.roleArn);
  if (!role) return `${r.roleArn} is not a role ARN`;
  if (role.accountId !== inventory.accountId) {
    return `${r.roleArn} is in account ${role.accountId}, not ${inventory.accountId}: a cut-off is not possible there; sessions already issued live until they expire (at most that role's MaxSessionDuration)`;
  }
  if (!inventory.roles.has(r.roleArn)) return `role ${r.roleArn} does not exist in account ${inventory.accountId}`;
  const others = covering.get(pairKey(r.iamUser, r.roleArn));
  if (others && others.length > 0) {
    return `another active grant of ${r.iamUser} covers the same role (${others.join(", ")}), so its sessions stay valid`;
  }
  if (!RUNBOOK_NAME.test(role.name)) return `role name ${role.name} is outside the runbook's RoleName pattern`;
  return undefined;
}

/**
 * A role session lasts at most the role's MaxSessionDuration (IAM User Guide,
 * "Update the maximum session duration for a role"); once that much time has
 * passed since the cut-off's revocation time, every session issued before it has
 * expired. Lowering MaxSessionDuration does not shorten sessions already issued,
 * so a recently lowered value can clear a cut-off early: lower it only with the
 * cut-offs already cleared, or wait 12 hours.
 */
function cutoffExpiry(c: InventoryCutoff, role: InventoryRole | undefined, now: Date): string | undefined {
  const revokedAt = c.revokedAt as Date;
  const age = now.getTime() - revokedAt.getTime();
  if (age >= MAX_ROLE_SESSION_SECONDS * 1000) {
    return `revoked at ${formatIamTime(revokedAt)}, more than IAM's 12-hour session maximum ago`;
  }
  const max = role?.maxSessionDurationSeconds;
  if (max !== undefined && age >= max * 1000) {
    return `revoked at ${formatIamTime(revokedAt)}, more than ${role?.name}'s MaxSessionDuration (${max} s) ago`;
  }
  return undefined;
}

/**
 * Roles whose MaxSessionDuration decides whether one of their cut-offs can be
 * cleared now: cut-offs between 1 and 12 hours old. Younger ones always stay,
 * older ones always go, so only these need a GetRole.
 */
export function rolesNeedingSessionDuration(inventory: Inventory, now: Date): string[] {
  const arns = new Set<string>();
  for (const c of inventory.cutoffs) {
    if (!c.revokedAt) continue;
    const age = now.getTime() - c.revokedAt.getTime();
    const role = inventory.roles.get(c.roleArn);
    if (!role || role.maxSessionDurationSeconds !== undefined) continue;
    if (age >= MIN_ROLE_SESSION_SECONDS * 1000 && age < MAX_ROLE_SESSION_SECONDS * 1000) arns.add(c.roleArn);
  }
  return [...arns].sort();
}

// --- Reading policies and request files -----------------------------------------------------

/** The request id of an `elevate-*` user policy name, or undefined if it is not ours. */
export function requestIdOfPolicyName(policyName: string): string | undefined {
  return policyName.startsWith(POLICY_PREFIX) ? policyName.slice(POLICY_PREFIX.length) : undefined;
}

/** The user of an `elevate-cutoff-<user>` role policy name, or undefined. */
export function userOfCutoffPolicyName(policyName: string): string | undefined {
  const prefix = cutoffPolicyName("");
  return policyName.startsWith(prefix) && policyName.length > prefix.length
    ? policyName.slice(prefix.length)
    : undefined;
}

/**
 * The revocation time of a cut-off policy named for `iamUser`, when its document is
 * exactly `cutoffPolicyText(iamUser, t)` (any key order, URL-encoded or not);
 * undefined for anything else.
 */
export function parseExactCutoff(document: string, iamUser: string): Date | undefined {
  const parsed = decodePolicyDocument(document);
  const statement = (
    parsed as { Statement?: { Sid?: unknown; Condition?: { DateLessThan?: Record<string, unknown> } }[] }
  )?.Statement?.[0];
  if (statement?.Sid !== CUTOFF_STATEMENT_SID) return undefined;
  const at = statement.Condition?.DateLessThan?.["aws:TokenIssueTime"];
  if (typeof at !== "string" || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(at)) return undefined;
  const revokedAt = new Date(at);
  if (Number.isNaN(revokedAt.getTime()) || formatIamTime(revokedAt) !== at) return undefined;
  return sameJson(JSON.parse(cutoffPolicyText(iamUser, revokedAt)), parsed) ? revokedAt : undefined;
}

export interface RequestFacts {
  requester?: string;
  role?: string;
  durationMs?: number;
  start?: Date;
}

/**
 * The fields the revoker needs from a request file, read leniently: a file that
 * validated at merge may not validate against today's config or clock, and the
 * revoker only compares windows. Undefined when the file is not a YAML map.
 */
export function readRequestFacts(text: string): RequestFacts | undefined {
  const parsed = parseStrictYaml(text);
  if (!parsed.ok) return undefined;
  const root = parsed.document.value;
  if (root === null || typeof root !== "object" || Array.isArray(root)) return undefined;
  const text_ = (key: string): string | undefined => {
    const v = Object.hasOwn(root, key) ? root[key] : undefined;
    return typeof v === "string" ? v : undefined;
  };
  const facts: RequestFacts = {};
  const requester = text_("requester");
  if (requester !== undefined) facts.requester = requester;
  const role = text_("role");
  if (role !== undefined) facts.role = role;
  const duration = text_("duration");
  if (duration !== undefined) {
    const d = parseDuration(duration);
    if (d.ok) facts.durationMs = d.ms;
  }
  const start = text_("start");
  if (start !== undefined) {
    const s = parseTimestamp(start);
    if (s.ok) facts.start = s.date;
  }
  return facts;
}

/**
 * An open request PR is stale when its requested window has already closed:
 * `start + duration` is before `now`. Without `start` the window opens at merge,
 * so the request can never be stale. Returns the closing time when stale.
 */
export function staleRequestEnd(facts: RequestFacts | undefined, now: Date): Date | undefined {
  if (!facts?.start || facts.durationMs === undefined) return undefined;
  const end = new Date(truncateToSecond(facts.start).getTime() + facts.durationMs);
  return now.getTime() > end.getTime() ? end : undefined;
}

/** `elevate-<id>` for a request id: re-exported for the modes' messages. */
export const policyNameOf = grantPolicyName;
