/**
 * Session cut-offs (docs/threat-model.md invariant 3): whether a revocation gets one,
 * its bounds, and which old cut-offs can be cleared. Pure; called by planRevocations.
 *
 * The invariant for overlapping grants (AWS TEAM's issue #279): revoking one grant
 * never cuts off another active grant of the same user on the same role, so there is
 * no cut-off while another kept, active grant of that user covers the role, and a
 * cut-off never reaches into the window of a pending one.
 */
import { cutoffPolicyName, cutoffPolicyText, iamPolicySize, ROLE_INLINE_POLICY_BUDGET } from "./grant-policy.js";
import { parseRoleArn } from "./grant-report.js";
import {
  cutoffExpiry,
  type Inventory,
  type InventoryCutoff,
  type InventoryRole,
  RUNBOOK_NAME,
} from "./revoke-inventory.js";
import type { Revocation, RevokePlan } from "./revoke-plan.js";

/**
 * An early or drift revocation cuts off sessions issued up to this long after the
 * runbook deleted the grant policy, so that sessions issued while IAM propagates the
 * deletion are cut off too. The Elevate-Revoke runbook's stampCutOff step adds it to
 * its own time (infra/runbooks/elevate-revoke.yaml); it is clamped so that it never
 * reaches into another grant of the same user on the same role (see decideCutoffs).
 */
export const CUTOFF_MARGIN_MS = 60_000;

export function pairKey(iamUser: string, roleArn: string): string {
  return `${iamUser}\n${roleArn}`;
}

/** Fills `cutOff`, `cutOffNote` and `revokedAt` of each revocation, and `clearCutoffs`. */
export function decideCutoffs(plan: RevokePlan, inventory: Inventory, now: Date): void {
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
      r.cutOffNote = note.note;
      if (note.coveringRequests) {
        r.coveringRequests = note.coveringRequests;
        // Should the runbook cut off after all, never into a pending grant's window.
        const limit = nextStart.get(pairKey(r.iamUser, r.roleArn as string));
        if (limit !== undefined) r.stampNotAfter = new Date(limit);
      }
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
    const role = inventory.roles.get(roleArn);
    if (role === undefined) {
      // A member account's role: the hub reads neither its cut-offs nor its inline budget;
      // Elevate-MemberCutoff keeps a later cut-off there, and a full budget fails the revoke.
      memberCutoff(revocations, nextStart.get(key));
      continue;
    }
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

/** The cut-off of revocations on a member account's role: bounded as on the hub's, written there. */
function memberCutoff(revocations: Revocation[], limit: number | undefined): void {
  const atRunTime = revocations.some((r) => r.reason !== "expired");
  const at = Math.min(Math.max(...revocations.map((r) => r.revokedAt.getTime())), limit ?? Number.POSITIVE_INFINITY);
  for (const r of revocations) {
    r.revokedAt = new Date(at);
    r.stampAtRunTime = atRunTime;
    if (atRunTime && limit !== undefined) r.stampNotAfter = new Date(limit);
    r.cutOff = true;
  }
}

function noCutoffReason(
  r: Revocation,
  inventory: Inventory,
  covering: ReadonlyMap<string, string[]>,
  now: Date,
): { note: string; coveringRequests?: string[] } | undefined {
  const note = noCutoffNote(r, inventory, now);
  if (note !== undefined) return { note };
  const others = covering.get(pairKey(r.iamUser, r.roleArn as string));
  if (others && others.length > 0) {
    return {
      note: `another active grant of ${r.iamUser} covers the same role (${others.join(", ")}), so its sessions stay valid`,
      coveringRequests: [...others],
    };
  }
  const role = parseRoleArn(r.roleArn as string);
  if (!RUNBOOK_NAME.test(role?.name ?? ""))
    return { note: `role name ${role?.name} is outside the runbook's RoleName pattern` };
  return undefined;
}

function noCutoffNote(r: Revocation, inventory: Inventory, now: Date): string | undefined {
  if (r.roleArn === undefined || r.window === undefined) {
    return "the policy did not parse, so the role it allowed is unknown";
  }
  if (r.window.notBefore.getTime() > now.getTime()) return "its window never opened, so no session came from it";
  const role = parseRoleArn(r.roleArn);
  if (!role) return `${r.roleArn} is not a role ARN`;
  // A member account's role is not in the hub's inventory: Elevate-Revoke writes its
  // cut-off there through multi-account automation (docs/infra.md, "Many accounts").
  if (role.accountId === inventory.accountId && !inventory.roles.has(r.roleArn)) {
    return `role ${r.roleArn} does not exist in account ${inventory.accountId}`;
  }
  return undefined;
}
