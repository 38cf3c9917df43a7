/**
 * What a grant starts in AWS: the target kind, its runbook and the exact
 * parameters. Each kind is one member of GrantTarget; the act phase
 * (src/modes/grant-act.ts) starts whatever the decision names.
 */
import type { EffectiveAwsApproval, ElevateConfig } from "./config.js";
import {
  GRANT_PERMISSION_SET_DOCUMENT,
  type PermissionSetGrantPlan,
  type PlannedGrant,
  permissionSetGrantParameters,
} from "./permission-set-plan.js";
import type { GrantPlan } from "./plan.js";

/**
 * What to grant: an IAM role (a policy on the requester's IAM user, written by
 * the Elevate-Grant runbook), or an Identity Center permission set in an
 * account (an account assignment, made by Elevate-GrantPermissionSet).
 */
export type GrantTarget =
  | {
      kind: "iam-role";
      plan: GrantPlan;
      /** The runbook and its exact parameters (the runbook checks each again inside AWS). */
      documentName: string;
      parameters: Record<string, string>;
      /** Dual control: start the AWS-side approval gate instead of the runbook. */
      awsApproval?: EffectiveAwsApproval;
    }
  | {
      kind: "permission-set";
      plan: PermissionSetGrantPlan;
      documentName: string;
      parameters: Record<string, string>;
      awsApproval?: undefined;
    };

/** The target for a planned grant of either kind. */
export function grantTargetFor(
  config: ElevateConfig,
  plan: PlannedGrant,
  awsApproval: EffectiveAwsApproval | undefined,
): GrantTarget {
  if (plan.kind === "permissionSet") {
    return {
      kind: "permission-set",
      plan,
      documentName: GRANT_PERMISSION_SET_DOCUMENT,
      parameters: permissionSetGrantParameters(config, plan),
    };
  }
  const { kind: _, ...rolePlan } = plan;
  return iamRoleTarget(config, rolePlan, awsApproval);
}

/**
 * The Elevate-Grant runbook's parameters: all of them come from the config or
 * from validated request fields, and the runbook's allowedPattern on each
 * checks them again inside AWS (invariant 5).
 */
export function grantRunbookParameters(config: ElevateConfig, plan: GrantPlan): Record<string, string> {
  return {
    AutomationAssumeRole: config.aws.automationRoleArn,
    RequestId: plan.requestId,
    UserName: plan.iamUser,
    RoleArn: plan.roleArn,
    NotBefore: plan.notBefore,
    NotAfter: plan.notAfter,
  };
}

/** The target for an IAM role grant: Elevate-Grant (or the dual-control gate) with `plan`'s parameters. */
export function iamRoleTarget(
  config: ElevateConfig,
  plan: GrantPlan,
  awsApproval: EffectiveAwsApproval | undefined,
): GrantTarget {
  return {
    kind: "iam-role",
    plan,
    documentName: config.aws.grantDocument,
    parameters: grantRunbookParameters(config, plan),
    ...(awsApproval ? { awsApproval } : {}),
  };
}

/** The plan a target carries, tagged with its kind (what reports and `elevate plan` show). */
export function plannedOf(target: GrantTarget): PlannedGrant {
  return target.kind === "iam-role" ? { kind: "role", ...target.plan } : target.plan;
}
