/**
 * What IAM holds, as the revoker reads it (docs/threat-model.md invariant 6): the
 * `elevate-*` grant policies on users, the `elevate-cutoff-*` policies on roles and the
 * roles' inline-policy budgets, with the pure parsers that turn IAM's documents into
 * these shapes and the age rules of a cut-off. The I/O that fills them is
 * src/modes/inventory.ts.
 *
 * Each kind of live access is its own list (`grants`: IAM user policies); another
 * kind of grant (Identity Center account assignments) joins as another list of
 * `RevokeFacts`, not as optional fields here.
 */
import {
  CUTOFF_STATEMENT_SID,
  cutoffPolicyName,
  cutoffPolicyText,
  decodePolicyDocument,
  formatIamTime,
  type ParsedGrantPolicy,
  POLICY_PREFIX,
  sameJson,
} from "./grant-policy.js";

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

/**
 * A role session lasts at most the role's MaxSessionDuration (IAM User Guide,
 * "Update the maximum session duration for a role"); once that much time has
 * passed since the cut-off's revocation time, every session issued before it has
 * expired. Lowering MaxSessionDuration does not shorten sessions already issued,
 * so a recently lowered value can clear a cut-off early: lower it only with the
 * cut-offs already cleared, or wait 12 hours.
 */
export function cutoffExpiry(c: InventoryCutoff, role: InventoryRole | undefined, now: Date): string | undefined {
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
