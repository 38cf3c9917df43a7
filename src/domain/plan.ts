/**
 * GrantPlan: exactly what merging a request would grant. `elevate plan`
 * prints it, the PR check posts it, and grant mode executes it, so all three
 * show the same policy text (README.md "CLI", invariant 2).
 */
import { type ElevateConfig, findRole, findUser } from "./config.js";
import {
  formatIamTime,
  type GrantPolicyDocument,
  grantPolicyBudgetProblem,
  grantPolicyDocument,
  grantPolicyName,
} from "./grant-policy.js";
import type { ValidRequest } from "./request.js";
import { computeWindow } from "./window.js";

export interface GrantPlan {
  requestId: string;
  iamUser: string;
  roleArn: string;
  /** `YYYY-MM-DDTHH:MM:SSZ`, as in the policy's `aws:CurrentTime` conditions. */
  notBefore: string;
  notAfter: string;
  policyName: string;
  policyDocument: GrantPolicyDocument;
}

/** Check `ok`; on failure `message` says why nothing may be granted. */
export type GrantPlanResult = { ok: true; plan: GrantPlan } | { ok: false; message: string };

/**
 * Builds the plan for a validated request merged at `mergedAt`. The request's
 * role and user are looked up again in `config` (the config the merge will be
 * judged against), so a plan is never built from a stale validation.
 *
 * The size check covers this policy alone. IAM's 2,048-character budget is for
 * all of a user's inline policies together, so grant mode must also count the
 * user's existing policies before writing this one.
 */
export function buildGrantPlan(
  request: ValidRequest,
  config: ElevateConfig,
  mergedAt: Date,
  /** An approver's cap (src/domain/approver-cap.ts): may end the window earlier, never later. */
  options: { capNotAfter?: Date } = {},
): GrantPlanResult {
  const { access } = request;
  if (access.kind !== "role") {
    return {
      ok: false,
      message: `role ${JSON.stringify(request.role)} is an Identity Center permission set, which Elevate-GrantPermissionSet assigns (buildPermissionSetPlan), not an IAM role policy`,
    };
  }
  const target = findRole(config, request.role)?.target;
  if (target?.kind !== "role" || target.roleArn !== access.roleArn) {
    return {
      ok: false,
      message: `role ${JSON.stringify(request.role)} is not (or no longer) in the config's catalog as validated`,
    };
  }
  const user = findUser(config, request.requester);
  if (!user || user.iamUser !== access.iamUser) {
    return {
      ok: false,
      message: `requester ${JSON.stringify(request.requester)} is not (or no longer) mapped to IAM user ${JSON.stringify(access.iamUser)}`,
    };
  }
  const requested = computeWindow({ mergedAt, start: request.start, durationMs: request.durationMs });
  const cap = options.capNotAfter;
  if (cap && cap.getTime() <= requested.notBefore.getTime()) {
    return { ok: false, message: `the approvers' cap ends the window before it starts (${formatIamTime(cap)})` };
  }
  const window =
    cap && cap.getTime() < requested.notAfter.getTime() ? { notBefore: requested.notBefore, notAfter: cap } : requested;
  const policyInput = {
    requestId: request.id,
    iamUser: user.iamUser,
    roleArn: target.roleArn,
    notBefore: window.notBefore,
    notAfter: window.notAfter,
  };
  const overBudget = grantPolicyBudgetProblem(policyInput);
  if (overBudget) return { ok: false, message: `${overBudget}; use a shorter request id or role ARN` };
  return {
    ok: true,
    plan: {
      requestId: request.id,
      iamUser: user.iamUser,
      roleArn: target.roleArn,
      notBefore: formatIamTime(window.notBefore),
      notAfter: formatIamTime(window.notAfter),
      policyName: grantPolicyName(request.id),
      policyDocument: grantPolicyDocument(policyInput),
    },
  };
}
