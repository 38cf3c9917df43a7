/**
 * Config rules that span fields and map keys (docs/config.md). They read the
 * raw document with type guards, so they run (and report) even when other
 * parts of the file are malformed: one pass shows every problem.
 */
import {
  AWS_ACCOUNT_ID,
  GITHUB_LOGIN,
  identityCenterInstanceId,
  ROLE_ARN,
  ROLE_KEY,
  sameLogin,
} from "./config-fields.js";
import { describePath } from "./config-locate.js";
import { type LocatedError, locatedError, quote } from "./errors.js";
import type { StrictYamlDocument, YamlMap, YamlPath, YamlValue } from "./strict-yaml.js";

function roleArnAccount(arn: string): string | undefined {
  return ROLE_ARN.exec(arn)?.[2];
}

function asMap(value: YamlValue | undefined): YamlMap | undefined {
  return value !== null && value !== undefined && typeof value === "object" && !Array.isArray(value)
    ? value
    : undefined;
}

function asText(value: YamlValue | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * Rules that span fields and map keys. They read the raw document with type
 * guards, so they run (and report) even when other parts of the file are
 * malformed: one pass shows every problem.
 */
export function crossFieldErrors(root: YamlMap, document: StrictYamlDocument, file: string): LocatedError[] {
  const errors: LocatedError[] = [];
  const push = (path: YamlPath, message: string, atKey = false) =>
    errors.push(locatedError(file, atKey ? document.locateKey(path) : document.locate(path), message));

  // The grant, revoke and automation roles write inline policies on the IAM users,
  // and IAM only lets principals of the users' own account do that.
  const aws = asMap(root.aws);
  const accountId = asText(aws?.accountId);
  if (aws && accountId !== undefined && AWS_ACCOUNT_ID.test(accountId)) {
    for (const field of ["grantRoleArn", "revokeRoleArn", "automationRoleArn"] as const) {
      const arn = asText(aws[field]);
      const account = arn === undefined ? undefined : roleArnAccount(arn);
      if (account !== undefined && account !== accountId) {
        push(
          ["aws", field],
          `aws.${field} is in account ${account}, but the IAM users are in aws.accountId ${accountId}; it must be a role of that account`,
        );
      }
    }
  }

  const users = asMap(root.users) ?? Object.create(null);
  const logins = Object.keys(users);
  const loginsSeen = new Map<string, string>();
  for (const login of logins) {
    if (!GITHUB_LOGIN.test(login)) {
      push(
        ["users", login],
        `users: ${quote(login)} is not a GitHub login (letters, digits, single hyphens, 1..39)`,
        true,
      );
    }
    const previous = loginsSeen.get(login.toLowerCase());
    if (previous !== undefined) {
      push(
        ["users", login],
        `users: ${quote(login)} is the same GitHub login as ${quote(previous)} (logins ignore case)`,
        true,
      );
    } else {
      loginsSeen.set(login.toLowerCase(), login);
    }
    const entry = asMap(users[login]);
    if (entry && !Object.hasOwn(entry, "iamUser") && !Object.hasOwn(entry, "identityCenterUser")) {
      push(
        ["users", login],
        `users.${login}: name the IAM user (iamUser), the Identity Center user (identityCenterUser), or both`,
      );
    }
  }

  const identityCenter = asMap(aws?.identityCenter);
  const instanceArn = asText(identityCenter?.instanceArn);

  const roles = asMap(root.roles) ?? Object.create(null);
  for (const key of Object.keys(roles)) {
    if (!ROLE_KEY.test(key)) {
      push(
        ["roles", key],
        `roles: ${quote(key)} is not a valid role key (lower-case letters, digits and hyphens, starting with a letter or digit, at most 63); it is the folder name under requests/`,
        true,
      );
    }
    const role = asMap(roles[key]);
    if (role) roleKindErrors(key, role, aws, instanceArn, push);
    const lists: [YamlPath, YamlValue | undefined][] = [
      [["roles", key, "requesters"], role?.requesters],
      [["roles", key, "breakGlass", "requesters"], asMap(role?.breakGlass)?.requesters],
    ];
    for (const [listPath, requesters] of lists) {
      if (!Array.isArray(requesters)) continue;
      const name = describePath(listPath);
      const seen = new Set<string>();
      requesters.forEach((entry, index) => {
        const login = asText(entry);
        if (login === undefined) return;
        const path = [...listPath, index];
        if (!logins.some((user) => sameLogin(user, login))) {
          push(path, `${name}: ${quote(login)} is not listed under users`);
        }
        if (seen.has(login.toLowerCase())) push(path, `${name}: ${quote(login)} is listed twice`);
        seen.add(login.toLowerCase());
      });
    }
  }
  return errors;
}

type Push = (path: YamlPath, message: string, atKey?: boolean) => void;

/**
 * A role is exactly one kind: an IAM role (`arn`) or a permission set in an
 * account (`permissionSet` + `account`), whose instance is the config's
 * `aws.identityCenter.instanceArn`. Break-glass and AWS-side approval act on
 * the hub's IAM users, so they are for IAM roles only.
 */
function roleKindErrors(
  key: string,
  role: YamlMap,
  aws: YamlMap | undefined,
  instanceArn: string | undefined,
  push: Push,
): void {
  const has = (field: string) => Object.hasOwn(role, field);
  const at = ["roles", key];
  if (has("arn") && has("permissionSet")) {
    push(
      [...at, "permissionSet"],
      `roles.${key}: set arn (an IAM role) or permissionSet (an Identity Center permission set), not both`,
      true,
    );
  } else if (!has("arn") && !has("permissionSet")) {
    push(
      at,
      `roles.${key}: set arn (an IAM role ARN) or permissionSet and account (an Identity Center permission set in an account)`,
      true,
    );
  }
  if (has("arn") && has("account")) {
    push(
      [...at, "account"],
      `roles.${key}.account is for permission sets; an IAM role's account is the one in its arn`,
      true,
    );
  }
  if (!has("permissionSet")) return;
  if (!has("account")) {
    push(
      at,
      `roles.${key}: a permission set needs account, the 12-digit id of the account to assign it in (in quotes)`,
      true,
    );
  }
  for (const option of ["breakGlass", "awsApproval"]) {
    if (has(option)) {
      push(
        [...at, option],
        `roles.${key}.${option} is available for IAM roles (arn) only, not for permission sets`,
        true,
      );
    }
  }
  const permissionSet = asText(role.permissionSet);
  const setInstance = permissionSet === undefined ? undefined : identityCenterInstanceId(permissionSet);
  if (setInstance === undefined) return;
  if (!asMap(aws?.identityCenter)) {
    push(
      [...at, "permissionSet"],
      `roles.${key} is a permission set, so the config needs aws.identityCenter (instanceArn and identityStoreId)`,
    );
    return;
  }
  const configured = instanceArn === undefined ? undefined : identityCenterInstanceId(instanceArn);
  if (configured !== undefined && configured !== setInstance) {
    push(
      [...at, "permissionSet"],
      `roles.${key}.permissionSet belongs to Identity Center instance ${setInstance}, but aws.identityCenter.instanceArn is ${configured}; a permission set can only be assigned through its own instance`,
    );
  }
}
