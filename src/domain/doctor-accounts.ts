/**
 * `elevate doctor`: where each IAM role of the catalog lives, against what its session
 * cut-off needs there (docs/infra.md, "Many accounts"). The grant itself works for a
 * role in any account; the cut-off (early revoke, expiry, drift) is written on the role
 * by the hub's automation role (hub roles listed in the stack's PrivilegedRoleArns) or,
 * in another account, by the member stack's execution role, reached through the hub's
 * AWS-SystemsManager-AutomationAdministrationRole, on roles under its
 * PrivilegedRolePath (never "/"). A role outside those gets a grant whose revoke fails
 * and whose sessions outlive it, so each gap is an error that names the fix.
 * Pure: the config, and the stack's describe-stacks JSON when given.
 */
import { type ElevateConfig, findRole } from "./config.js";
import { type Finding, finding } from "./doctor-findings.js";
import type { SourcePosition } from "./errors.js";
import { parseRoleArn } from "./grant-report.js";
import type { StackOutputs } from "./stack-outputs.js";

type Locate = (path: readonly (string | number)[]) => SourcePosition;

/** SSM Automation's fixed name for the hub's multi-account administration role. */
export const AUTOMATION_ADMINISTRATION_ROLE = "AWS-SystemsManager-AutomationAdministrationRole";

interface CatalogRole {
  key: string;
  arn: string;
  accountId: string;
  path: string;
}

function iamRoles(config: ElevateConfig): CatalogRole[] {
  const roles: CatalogRole[] = [];
  for (const key of Object.keys(config.roles)) {
    const role = findRole(config, key);
    if (role?.target.kind !== "role") continue;
    const parsed = parseRoleArn(role.target.roleArn);
    if (parsed) roles.push({ key, arn: role.target.roleArn, accountId: parsed.accountId, path: parsed.path });
  }
  return roles;
}

/**
 * Offline: a role in another account than the hub without an IAM path. The member
 * stack's execution role may only write cut-offs under its PrivilegedRolePath, which
 * cannot be "/" (infra/member-template.yaml), so such a role can never be cut off.
 */
export function memberRolePathFindings(config: ElevateConfig, file: string, locate: Locate): Finding[] {
  return iamRoles(config)
    .filter((role) => role.accountId !== config.aws.accountId && role.path === "/")
    .map((role) =>
      finding(
        file,
        locate(["roles", role.key, "arn"]),
        "error",
        `roles.${role.key}: ${role.arn} is in account ${role.accountId}, not the hub, and has no IAM path; the member stack there may only cut off sessions on roles under its PrivilegedRolePath (default /elevated/, never /), so every revoke of it would fail; grant a role created under that path (a role's path cannot be changed)`,
      ),
    );
}

/** With the stack's describe-stacks JSON: the hub's own roles and the multi-account path. */
export function accountFindings(stack: StackOutputs, config: ElevateConfig, file: string, locate: Locate): Finding[] {
  const out: Finding[] = [];
  const roles = iamRoles(config);

  // Hub roles: the automation role writes cut-offs only on PrivilegedRoleArns, plus the
  // example and canary roles the template adds when it creates them.
  const listed = stack.parameters.get("PrivilegedRoleArns");
  if (listed !== undefined) {
    const privileged = new Set(
      listed
        .split(",")
        .map((arn) => arn.trim())
        .filter((arn) => arn !== ""),
    );
    for (const key of ["ExampleRoleArn", "SmokeTestRoleArn"]) {
      const arn = stack.values.get(key);
      if (arn !== undefined) privileged.add(arn);
    }
    for (const role of roles) {
      if (role.accountId !== config.aws.accountId || privileged.has(role.arn)) continue;
      out.push(
        finding(
          file,
          locate(["roles", role.key, "arn"]),
          "error",
          `roles.${role.key}: ${role.arn} is in the hub account but not in the stack's PrivilegedRoleArns, so the automation role may not write its session cut-off: every early revoke and expiry of it fails, and sessions outlive the grant until the role's MaxSessionDuration; add ${role.arn} to PrivilegedRoleArns and update the stack`,
        ),
      );
    }
  }

  // Roles in other accounts: cut-offs run there through multi-account automation.
  const members = roles.filter((role) => role.accountId !== config.aws.accountId);
  const first = members[0];
  // Judged only when describe-stacks lists the parameter (a stack from a template that has it).
  const create = stack.parameters.get("CreateAutomationAdministrationRole");
  const created = stack.values.has("AutomationAdministrationRoleArn") || create === "true";
  if (first && create !== undefined && !created) {
    const accounts = [...new Set(members.map((role) => role.accountId))];
    const executionRole = stack.values.get("MemberExecutionRoleName") ?? "elevate-member-cutoff";
    out.push(
      finding(
        file,
        locate(["roles", first.key, "arn"]),
        "warning",
        `roles.${members.map((role) => role.key).join(", roles.")} ${members.length === 1 ? "is" : "are"} in ${accounts.length === 1 ? "account" : "accounts"} ${accounts.join(", ")}, not the hub; session cut-offs run there through SSM Automation's multi-account execution, which needs ${AUTOMATION_ADMINISTRATION_ROLE} in the hub, and this stack did not create it: update the stack with CreateAutomationAdministrationRole=true (or, if the hub already has that role, allow it sts:AssumeRole on ${executionRole}), and deploy infra/member-template.yaml to those accounts with the StackSet (docs/infra.md, "Many accounts")`,
      ),
    );
  }
  return out;
}

/** Whose credentials `doctor --aws` runs with (sts:GetCallerIdentity, which needs no permission). */
export type CallerFact = { ok: true; value: { account: string; arn: string } } | { ok: false; message: string };

/**
 * Every --aws check reads the account of the credentials it runs with; credentials of
 * another account (the management account, a member) make each of them fail with a
 * message that hides the cause, so that is said first.
 */
export function callerFindings(
  caller: CallerFact | undefined,
  config: ElevateConfig,
  file: string,
  locate: Locate,
): Finding[] {
  if (caller === undefined) return [];
  const at = locate(["aws", "accountId"]);
  if (!caller.ok) {
    return [
      finding(
        file,
        at,
        "error",
        `cannot tell whose AWS credentials these are (${caller.message}); give doctor --aws credentials of the hub account ${config.aws.accountId} (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`,
      ),
    ];
  }
  if (caller.value.account === config.aws.accountId) return [];
  return [
    finding(
      file,
      at,
      "error",
      `these AWS credentials (${caller.value.arn}) are of account ${caller.value.account}, but aws.accountId is ${config.aws.accountId}: the other checks read the wrong account; run doctor --aws with credentials of the hub account ${config.aws.accountId} (e.g. AWS_PROFILE=<its profile>)`,
    ),
  ];
}
