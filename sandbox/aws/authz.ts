/**
 * Authorization: the sandbox defers every allow/deny decision to
 * @cloud-copilot/iam-simulate (an independent implementation of the IAM policy
 * evaluation logic, "Policy evaluation logic",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)
 * rather than re-implementing it. Policies are read live from the IAM store, so
 * a policy written a moment ago (a grant, a session cut-off) takes effect on the
 * next call, as in IAM.
 */
import { createValidatedPolicy, validateTrustPolicy } from "@cloud-copilot/iam-policy";
import { isWildcardOnlyAction, runSimulation, runUnsafeSimulation } from "@cloud-copilot/iam-simulate";
import type { Principal } from "./iam-store.js";
import { formatIamTime } from "./time-format.js";

export type Decision = { allowed: true } | { allowed: false; reason: string };

export interface AuthorizeInput {
  principal: Principal;
  /** `service:Action`, e.g. `iam:PutUserPolicy`. */
  action: string;
  /** The resource ARN of the request, or `*` for actions without resource types. */
  resource: string;
  resourceAccountId: string;
  now: Date;
  /** Action-specific context keys (e.g. `sts:RoleSessionName`, `iam:PassedToService`). */
  extraContext?: Record<string, string | string[]>;
  /** A resource-based policy, e.g. the role trust policy for `sts:AssumeRole`. */
  resourcePolicy?: unknown;
  /** Region of the request (`aws:RequestedRegion`). */
  region?: string;
}

/**
 * Global condition keys that IAM sets for the signer of a request. See "AWS
 * global condition context keys",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
 */
export function principalContext(principal: Principal, now: Date): Record<string, string> {
  const ctx: Record<string, string> = {
    "aws:CurrentTime": formatIamTime(now),
    "aws:EpochTime": String(Math.floor(now.getTime() / 1000)),
    "aws:PrincipalAccount": principal.accountId,
    // AWS endpoints only accept TLS; the sandbox stands in for them.
    "aws:SecureTransport": "true",
  };
  switch (principal.kind) {
    case "root":
      ctx["aws:PrincipalArn"] = principal.arn;
      ctx["aws:userid"] = principal.accountId;
      ctx["aws:PrincipalType"] = "Account";
      break;
    case "user":
      ctx["aws:PrincipalArn"] = principal.arn;
      ctx["aws:userid"] = principal.user.userId;
      ctx["aws:username"] = principal.user.userName;
      ctx["aws:PrincipalType"] = "User";
      break;
    case "role-session":
      // For a role session, aws:PrincipalArn is the role's ARN, not the session ARN,
      // and aws:userid is "<role id>:<session name>".
      ctx["aws:PrincipalArn"] = principal.role.arn;
      ctx["aws:userid"] = `${principal.role.roleId}:${principal.sessionName}`;
      ctx["aws:PrincipalType"] = "AssumedRole";
      ctx["aws:TokenIssueTime"] = formatIamTime(principal.issuedAt);
      break;
  }
  return ctx;
}

function identityPolicies(principal: Principal): { name: string; policy: unknown }[] {
  const policies =
    principal.kind === "user"
      ? principal.user.inlinePolicies
      : principal.kind === "role-session"
        ? principal.role.inlinePolicies
        : new Map<string, string>();
  return [...policies].map(([name, text]) => ({ name, policy: JSON.parse(text) as unknown }));
}

/** Evaluates a signed request against the caller's identity policies (and a resource policy, if any). */
export async function authorize(input: AuthorizeInput): Promise<Decision> {
  if (input.principal.kind === "root" && input.resourcePolicy === undefined) return { allowed: true };
  const [service, actionName] = input.action.split(":");
  const resource = (await isWildcardOnlyAction(service!, actionName!)) ? "*" : input.resource;
  const context: Record<string, string | string[]> = {
    ...principalContext(input.principal, input.now),
    ...(input.region ? { "aws:RequestedRegion": input.region } : {}),
    ...input.extraContext,
  };
  const result = await runSimulation(
    {
      request: {
        principal: input.principal.arn,
        action: input.action,
        resource: { resource, accountId: input.resourceAccountId },
        contextVariables: context,
      },
      identityPolicies: identityPolicies(input.principal),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(input.resourcePolicy !== undefined ? { resourcePolicy: input.resourcePolicy } : {}),
    },
    {},
  );
  if (result.resultType === "error") {
    // Fail closed, loudly: a policy the simulator cannot evaluate never grants access.
    return { allowed: false, reason: `policy evaluation failed: ${JSON.stringify(result.errors)}` };
  }
  if (result.overallResult === "Allowed") return { allowed: true };
  return {
    allowed: false,
    reason:
      result.overallResult === "ExplicitlyDenied"
        ? "with an explicit deny"
        : "because no identity-based policy allows the action",
  };
}

/**
 * Evaluates a role trust policy for a web identity or service principal. The
 * validated simulator drops condition keys it does not know for the action,
 * and IAM's OIDC keys (`<provider>:sub`, `<provider>:aud`, …) are per-provider,
 * so this path uses the unvalidated simulator with the exact keys STS would set.
 * "Available keys for AWS web identity federation",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif
 */
export function evaluateTrust(input: {
  principal: string;
  action: string;
  roleArn: string;
  roleAccountId: string;
  trustPolicy: unknown;
  context: Record<string, string | string[]>;
}): Decision {
  const result = runUnsafeSimulation(
    {
      request: {
        principal: input.principal,
        action: input.action,
        resource: { resource: input.roleArn, accountId: input.roleAccountId },
        contextVariables: input.context,
      },
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      // The unvalidated engine reads the resource policy's name from its metadata,
      // which only a ValidatedPolicy carries.
      resourcePolicy: createValidatedPolicy(input.trustPolicy, validateTrustPolicy, {
        name: "AssumeRolePolicyDocument",
      }),
    },
    {},
  );
  if (result === "Allowed") return { allowed: true };
  return { allowed: false, reason: result === "ExplicitlyDenied" ? "explicitly denied" : "not allowed" };
}
