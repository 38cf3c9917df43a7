/**
 * `elevate doctor --aws`: the config against the AWS side it relies on. The stack is the
 * ceiling (its GrantableRoles, EligibleUserPath and the eligible-user tag bound what any
 * grant can do); the config is the policy inside it. Pure: the facts are read by
 * src/modes/doctor-aws.ts, the findings point at the config key each one is about.
 */

import { parseGrantablePermissionSets, parseGrantableRoles, permissionSetCeilingKey } from "./ceiling.js";
import { type ElevateConfig, findRole } from "./config.js";
import { accountFindings, type CallerFact, callerFindings } from "./doctor-accounts.js";
import { type Finding, finding } from "./doctor-findings.js";
import { type IdentityCenterUserFacts, identityCenterUserFindings } from "./doctor-identity-center.js";
import { trustFindings } from "./doctor-trusts.js";
import { formatDuration } from "./duration.js";
import type { SourcePosition } from "./errors.js";
import { STACK_OUTPUT_KEYS, type StackOutputKey, type StackOutputs } from "./stack-outputs.js";

/** The tag the stack requires on a user before the automation role may write its grant policy. */
export const ELIGIBLE_TAG = { key: "elevate:eligible", value: "true" } as const;

export type Fact<T> = { ok: true; value: T } | { ok: false; message: string };

export interface DocumentFacts {
  configKey: "grantDocument" | "revokeDocument" | "clearCutoffDocument" | "grantApprovalDocument";
  name: string;
  versions: Fact<{ defaultVersion: string; latestVersion: string }>;
}

export interface TrustFacts {
  configKey: "grantRoleArn" | "revokeRoleArn";
  arn: string;
  /** The role's trust policy, decoded. */
  trust: Fact<unknown>;
}

export interface UserFacts {
  login: string;
  iamUser: string;
  user: Fact<{ path: string; tags: Record<string, string> }>;
}

export interface AwsFacts {
  /** Describe-stacks outputs and parameters, when given. */
  stack: StackOutputs | undefined;
  /** Whose credentials these are (sts:GetCallerIdentity). */
  caller?: CallerFact;
  documents: DocumentFacts[];
  oidcProvider: { arn: string; clientIds: Fact<string[]> };
  trusts: TrustFacts[];
  users: UserFacts[];
  /** Each Identity Center user of the config (none without aws.identityCenter). */
  identityCenterUsers?: IdentityCenterUserFacts[];
  /** OWNER/NAME the trusts must name. */
  repository: string | undefined;
}

export type Locate = (path: readonly (string | number)[]) => SourcePosition;

export { STS_AUDIENCE, trustedClaims } from "./doctor-trusts.js";

function outputChecks(facts: AwsFacts, config: ElevateConfig, file: string, locate: Locate, out: Finding[]) {
  if (!facts.stack) return;
  const stack = facts.stack;
  for (const [key, configKey] of Object.entries(STACK_OUTPUT_KEYS) as [StackOutputKey, string][]) {
    if (!configKey.startsWith("aws.")) continue;
    const field = configKey.slice(4) as keyof ElevateConfig["aws"];
    const expected = stack.values.get(key);
    const actual = config.aws[field];
    if (expected === undefined) continue;
    if (actual === undefined) {
      out.push(
        finding(
          file,
          locate(["aws"]),
          "warning",
          `${configKey} is not set, but the stack has ${key} ${expected}; add ${configKey}: ${expected}`,
        ),
      );
    } else if (actual !== expected) {
      out.push(
        finding(
          file,
          locate(["aws", field]),
          "error",
          `${configKey} is ${actual}, but the stack's ${key} is ${expected}; set ${configKey} to the stack's value`,
        ),
      );
    }
  }

  const grantable = stack.parameters.get("GrantableRoles");
  // Read exactly as the grant runbook and the action read it (src/domain/ceiling.ts):
  // a malformed parameter makes the runbook refuse every grant, so it is an error here.
  const parsed = grantable === undefined ? undefined : parseGrantableRoles(grantable);
  if (parsed && !parsed.ok) {
    out.push(finding(file, locate(["roles"]), "error", `${parsed.message}; the grant runbook refuses every request`));
  }
  if (parsed?.ok) {
    const ceiling = parsed.ceiling.roles;
    const arns = new Set<string>();
    for (const key of Object.keys(config.roles)) {
      const role = findRole(config, key);
      if (role?.target.kind !== "role") continue; // permission sets: GrantablePermissionSets, below
      const { roleArn } = role.target;
      arns.add(roleArn);
      const max = ceiling.get(roleArn);
      if (max === undefined) {
        out.push(
          finding(
            file,
            locate(["roles", key, "arn"]),
            "error",
            `roles.${key}: the stack's GrantableRoles does not include ${roleArn}, so the grant runbook refuses every request for it; add ${roleArn}=${role.maxDuration} to the parameter`,
          ),
        );
      } else if (role.maxDuration && role.maxDurationMs > max) {
        out.push(
          finding(
            file,
            locate(["roles", key]),
            "error",
            `roles.${key} allows ${role.maxDuration}, but the stack's GrantableRoles caps it lower; the runbook refuses longer requests: lower maxDuration or raise the parameter`,
          ),
        );
      }
    }
    for (const arn of ceiling.keys()) {
      if (!arns.has(arn)) {
        out.push(
          finding(
            file,
            locate(["roles"]),
            "warning",
            `the stack's GrantableRoles includes ${arn}, which no role of the config uses; remove it to keep the ceiling tight`,
          ),
        );
      }
    }
  }
  permissionSetChecks(stack.parameters, config, file, locate, out);
  out.push(...accountFindings(stack, config, file, locate));
}

/**
 * The stack's Identity Center side against the config's: the instance and identity
 * store the runbooks use (stack parameters IdentityCenterInstanceArn / IdentityStoreId),
 * and GrantablePermissionSets against the permission-set roles, as GrantableRoles
 * against the IAM roles.
 */
function permissionSetChecks(
  parameters: ReadonlyMap<string, string>,
  config: ElevateConfig,
  file: string,
  locate: Locate,
  out: Finding[],
): void {
  const center = config.aws.identityCenter;
  for (const [parameter, configKey, value] of [
    ["IdentityCenterInstanceArn", "instanceArn", center?.instanceArn],
    ["IdentityStoreId", "identityStoreId", center?.identityStoreId],
  ] as const) {
    const stackValue = parameters.get(parameter);
    if (center === undefined || stackValue === undefined || stackValue === value) continue;
    out.push(
      finding(
        file,
        locate(["aws", "identityCenter", configKey]),
        "error",
        stackValue === ""
          ? `aws.identityCenter.${configKey} is ${value}, but the stack has no ${parameter}, so its permission-set runbooks refuse every grant; set the stack parameter`
          : `aws.identityCenter.${configKey} is ${value}, but the stack's ${parameter} is ${stackValue}; the runbooks assign through the stack's`,
      ),
    );
  }
  const grantable = parameters.get("GrantablePermissionSets");
  const roles = Object.keys(config.roles)
    .map((key) => findRole(config, key))
    .filter((r) => r !== undefined);
  const permissionSetRoles = roles.flatMap((r) =>
    r.target.kind === "permissionSet" ? [{ role: r, target: r.target }] : [],
  );
  if (grantable === undefined) {
    const first = permissionSetRoles[0];
    if (first) {
      out.push(
        finding(
          file,
          locate(["roles", first.role.key, "permissionSet"]),
          "error",
          `roles.${first.role.key} is a permission set, but the stack has no GrantablePermissionSets parameter (deployed from a template without Elevate-GrantPermissionSet); update the stack`,
        ),
      );
    }
    return;
  }
  const eligibleGroup = parameters.get("IdentityCenterEligibleGroupId");
  const firstPermissionSet = permissionSetRoles[0];
  if (firstPermissionSet && !eligibleGroup) {
    out.push(
      finding(
        file,
        locate(["roles", firstPermissionSet.role.key, "permissionSet"]),
        "error",
        eligibleGroup === undefined
          ? `roles.${firstPermissionSet.role.key} is a permission set, but the stack has no IdentityCenterEligibleGroupId parameter (deployed from a template before it), so Elevate-GrantPermissionSet lets any identity store user be granted; update the stack and set it to the group of eligible users`
          : `roles.${firstPermissionSet.role.key} is a permission set, but the stack's IdentityCenterEligibleGroupId is empty, so Elevate-GrantPermissionSet refuses every grant; set it to the identity store group of the users who may be granted`,
      ),
    );
  }
  const parsed = parseGrantablePermissionSets(grantable);
  if (!parsed.ok) {
    out.push(
      finding(file, locate(["roles"]), "error", `${parsed.message}; the permission-set runbook refuses every request`),
    );
    return;
  }
  const ceiling = parsed.ceiling.entries;
  const used = new Set<string>();
  for (const { role, target } of permissionSetRoles) {
    const key = permissionSetCeilingKey(target.permissionSetArn, target.accountId);
    used.add(key);
    const max = ceiling.get(key);
    if (max === undefined) {
      out.push(
        finding(
          file,
          locate(["roles", role.key, "permissionSet"]),
          "error",
          `roles.${role.key}: the stack's GrantablePermissionSets does not include ${key}, so the permission-set runbook refuses every request for it; add ${key}=${role.maxDuration} to the parameter`,
        ),
      );
    } else if (role.maxDurationMs > max) {
      out.push(
        finding(
          file,
          locate(["roles", role.key]),
          "error",
          `roles.${role.key} allows ${role.maxDuration}, but the stack's GrantablePermissionSets caps ${key} at ${formatDuration(max)}; the runbook refuses longer requests: lower maxDuration or raise the parameter`,
        ),
      );
    }
  }
  for (const key of ceiling.keys()) {
    if (!used.has(key)) {
      out.push(
        finding(
          file,
          locate(["roles"]),
          "warning",
          `the stack's GrantablePermissionSets includes ${key}, which no role of the config uses; remove it to keep the ceiling tight`,
        ),
      );
    }
  }
}

export function awsFindings(facts: AwsFacts, config: ElevateConfig, file: string, locate: Locate): Finding[] {
  const out: Finding[] = callerFindings(facts.caller, config, file, locate);
  outputChecks(facts, config, file, locate, out);

  for (const doc of facts.documents) {
    const at = locate([
      "aws",
      doc.configKey === "grantDocument" || doc.configKey === "revokeDocument" ? doc.configKey : "grantDocument",
    ]);
    if (!doc.versions.ok) {
      const where = `${config.aws.region} of account ${config.aws.accountId}`;
      const message = `cannot describe SSM document ${doc.name}: ${doc.versions.message}; is the stack deployed in ${where}?`;
      out.push(finding(file, at, "error", message));
    } else if (doc.versions.value.defaultVersion !== doc.versions.value.latestVersion) {
      out.push(
        finding(
          file,
          at,
          "warning",
          `SSM document ${doc.name}: the default version is ${doc.versions.value.defaultVersion} but the latest is ${doc.versions.value.latestVersion}; Elevate starts $LATEST, but anyone running it by hand gets the old runbook (aws ssm update-document-default-version --name ${doc.name} --document-version ${doc.versions.value.latestVersion})`,
        ),
      );
    }
  }

  out.push(...trustFindings(facts, config, file, locate));

  for (const user of facts.users) {
    const at = locate(["users", user.login]);
    if (!user.user.ok) {
      out.push(
        finding(
          file,
          at,
          "error",
          `users.${user.login}: IAM user ${user.iamUser} cannot be read: ${user.user.message}; is it the exact IAM user name in account ${config.aws.accountId}?`,
        ),
      );
      continue;
    }
    const eligiblePath = facts.stack?.parameters.get("EligibleUserPath");
    if (eligiblePath !== undefined && !user.user.value.path.startsWith(eligiblePath)) {
      out.push(
        finding(
          file,
          at,
          "error",
          `users.${user.login}: IAM user ${user.iamUser} is at path ${user.user.value.path}, not under the stack's EligibleUserPath ${eligiblePath}; grants to it are refused (aws iam update-user --user-name ${user.iamUser} --new-path ${eligiblePath})`,
        ),
      );
    }
    if (user.user.value.tags[ELIGIBLE_TAG.key] !== ELIGIBLE_TAG.value) {
      out.push(
        finding(
          file,
          at,
          "error",
          `users.${user.login}: IAM user ${user.iamUser} is not tagged ${ELIGIBLE_TAG.key}=${ELIGIBLE_TAG.value}; grants to it are refused (aws iam tag-user --user-name ${user.iamUser} --tags Key=${ELIGIBLE_TAG.key},Value=${ELIGIBLE_TAG.value})`,
        ),
      );
    }
  }
  out.push(...identityCenterUserFindings(facts.identityCenterUsers ?? [], config, file, locate));
  return out;
}
