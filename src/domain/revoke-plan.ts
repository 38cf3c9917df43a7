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
 * never opened, or the role's inline budget is full. A role of a member account gets its
 * cut-off there (Elevate-Revoke's multi-account step); the hub reads neither its budget
 * nor its existing cut-off, which that account's runbook keeps if later.
 * The revocation time of an expired grant is exact (notAfter + 1 s); that of an early or
 * drift revoke is stamped by the Elevate-Revoke runbook from AWS's clock when it writes
 * the cut-off (invariant 8), between the bounds decided here.
 */
import { formatIamTime, grantPolicyName } from "./grant-policy.js";
import { REQUEST_ID } from "./request-path.js";
import { type DriftKind, driftOf, type GrantWindowDates, type KnownRequest, sourceOf } from "./revoke-authority.js";
import { decideCutoffs } from "./revoke-cutoffs.js";
import { type Inventory, RUNBOOK_NAME } from "./revoke-inventory.js";
import { truncateToSecond } from "./window.js";

// The plan's facts and their parsers live in their own modules; they are re-exported
// here because status, the bench and the tests name them from this one place.
export * from "./request-facts.js";
export * from "./revoke-authority.js";
export { CUTOFF_MARGIN_MS } from "./revoke-cutoffs.js";
export * from "./revoke-inventory.js";

// --- Plan -----------------------------------------------------------------------------------

export type RevokeReason = "expired" | "early" | "drift";

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
   * No cut-off because these other active grants of the user cover the role: the
   * runbook checks them again when it runs and cuts off after all when none is still
   * active (one may end at its notAfter between this plan and that run).
   */
  coveringRequests?: string[];
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

export function grantState(window: GrantWindowDates, now: Date): GrantState {
  const t = now.getTime();
  if (t > window.notAfter.getTime()) return "expired";
  if (t < window.notBefore.getTime()) return "pending";
  return "active";
}

function earlyMap(ids: PlanInput["earlyRevokeIds"]): Map<string, string> {
  if (ids instanceof Map) return new Map(ids);
  const map = new Map<string, string>();
  for (const id of ids as readonly string[]) map.set(id, "revoked early on request");
  return map;
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

/** `elevate-<id>` for a request id: re-exported for the modes' messages. */
export const policyNameOf = grantPolicyName;
