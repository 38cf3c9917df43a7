/**
 * The plan for a permission-set request: which Identity Center user gets
 * which permission set in which account, for which window, and the exact
 * parameters the Elevate-GrantPermissionSet runbook is started with. `elevate
 * plan` prints it, the PR check posts it, and the grant executes it, as
 * GrantPlan does for IAM roles (src/domain/plan.ts).
 */
import { type ElevateConfig, findRole, findUserEntry } from "./config.js";
import { formatIamTime } from "./grant-policy.js";
import { buildGrantPlan, type GrantPlan } from "./plan.js";
import type { ValidRequest } from "./request.js";
import { computeWindow } from "./window.js";

/** The runbooks infra/template.yaml deploys for permission sets (fixed names, like Elevate-ClearCutoff). */
export const GRANT_PERMISSION_SET_DOCUMENT = "Elevate-GrantPermissionSet";
export const REVOKE_PERMISSION_SET_DOCUMENT = "Elevate-RevokePermissionSet";

export interface PermissionSetGrantPlan {
  kind: "permissionSet";
  requestId: string;
  /** Identity Center UserName the assignment is for. */
  identityCenterUser: string;
  instanceArn: string;
  permissionSetArn: string;
  /** The account the permission set is assigned in. */
  accountId: string;
  /** `YYYY-MM-DDTHH:MM:SSZ`, as the runbook takes them. */
  notBefore: string;
  notAfter: string;
}

/** What a request plans, whichever kind its role is: `elevate plan` prints this. */
export type PlannedGrant = ({ kind: "role" } & GrantPlan) | PermissionSetGrantPlan;

export type PermissionSetPlanResult = { ok: true; plan: PermissionSetGrantPlan } | { ok: false; message: string };

/**
 * Builds the plan for a validated permission-set request merged at
 * `mergedAt`, looking the role and the user up again in `config` (the config
 * the merge is judged against), as buildGrantPlan does.
 */
export function buildPermissionSetPlan(
  request: ValidRequest,
  config: ElevateConfig,
  mergedAt: Date,
  options: { capNotAfter?: Date } = {},
): PermissionSetPlanResult {
  const { access } = request;
  const target = findRole(config, request.role)?.target;
  if (
    access.kind !== "permissionSet" ||
    target?.kind !== "permissionSet" ||
    target.permissionSetArn !== access.permissionSetArn
  ) {
    return {
      ok: false,
      message: `role ${JSON.stringify(request.role)} is not (or no longer) in the config's catalog as a permission set as validated`,
    };
  }
  const user = findUserEntry(config, request.requester);
  if (!user?.identityCenterUser || user.identityCenterUser !== access.identityCenterUser) {
    return {
      ok: false,
      message: `requester ${JSON.stringify(request.requester)} is not (or no longer) mapped to Identity Center user ${JSON.stringify(access.identityCenterUser)}`,
    };
  }
  const requested = computeWindow({ mergedAt, start: request.start, durationMs: request.durationMs });
  const cap = options.capNotAfter;
  if (cap && cap.getTime() <= requested.notBefore.getTime()) {
    return { ok: false, message: `the approvers' cap ends the window before it starts (${formatIamTime(cap)})` };
  }
  const notAfter = cap && cap.getTime() < requested.notAfter.getTime() ? cap : requested.notAfter;
  const { instanceArn, permissionSetArn, accountId } = target;
  return {
    ok: true,
    plan: {
      kind: "permissionSet",
      requestId: request.id,
      identityCenterUser: user.identityCenterUser,
      instanceArn,
      permissionSetArn,
      accountId,
      notBefore: formatIamTime(requested.notBefore),
      notAfter: formatIamTime(notAfter),
    },
  };
}

/**
 * The parameters Elevate-GrantPermissionSet is started with, exactly its
 * contract (docs/infra.md): the instance ARN and identity store id are the
 * stack's own parameters, never the caller's.
 */
export function permissionSetGrantParameters(
  config: ElevateConfig,
  plan: PermissionSetGrantPlan,
): Record<string, string> {
  return {
    AutomationAssumeRole: config.aws.automationRoleArn,
    RequestId: plan.requestId,
    UserName: plan.identityCenterUser,
    PermissionSetArn: plan.permissionSetArn,
    AccountId: plan.accountId,
    NotBefore: plan.notBefore,
    NotAfter: plan.notAfter,
  };
}

/**
 * The AWS access portal of an identity store: `https://<id>.awsapps.com/start`
 * for a `d-…` id (IAM Identity Center User Guide, "Customizing the AWS access
 * portal URL"; an instance may have set an alias instead, which the same
 * page resolves to). Undefined for a UUID-form id, which has no default URL.
 */
export function accessPortalUrl(identityStoreId: string): string | undefined {
  return /^d-[0-9a-f]{10}$/.test(identityStoreId) ? `https://${identityStoreId}.awsapps.com/start` : undefined;
}

/**
 * How to use an assignment from a terminal: an AWS CLI profile on an
 * `sso-session` (AWS CLI User Guide, "Configuring IAM Identity Center
 * authentication"), then `aws sso login`. The role name AWS shows is the
 * permission set's name, which only AWS knows: the caller passes it when it
 * has it, else a placeholder says where to read it.
 */
export function ssoProfileSnippet(input: {
  profile: string;
  identityStoreId: string;
  region: string;
  accountId: string;
  permissionSetName?: string | undefined;
}): string {
  const startUrl = accessPortalUrl(input.identityStoreId) ?? "<your AWS access portal URL>";
  return [
    `[profile ${input.profile}]`,
    "sso_session = elevate",
    `sso_account_id = ${input.accountId}`,
    `sso_role_name = ${input.permissionSetName ?? "<the permission set's name, as the access portal shows it>"}`,
    `region = ${input.region}`,
    "",
    "[sso-session elevate]",
    `sso_start_url = ${startUrl}`,
    `sso_region = ${input.region}`,
    "sso_registration_scopes = sso:account:access",
  ].join("\n");
}

/** The plan of a validated request, whichever kind its role is. */
export function buildPlannedGrant(
  request: ValidRequest,
  config: ElevateConfig,
  mergedAt: Date,
  options: { capNotAfter?: Date } = {},
): { ok: true; plan: PlannedGrant } | { ok: false; message: string } {
  if (request.access.kind === "permissionSet") return buildPermissionSetPlan(request, config, mergedAt, options);
  const planned = buildGrantPlan(request, config, mergedAt, options);
  return planned.ok ? { ok: true, plan: { kind: "role", ...planned.plan } } : planned;
}
