/**
 * `.github/elevate.yml`: the catalog of roles, the users allowed to request
 * them, and the AWS wiring (docs/config.md). The platform team owns the
 * file through CODEOWNERS; it is still parsed as strictly as a request file,
 * because a typo here (a wildcard ARN, a misspelt key silently ignored) would
 * widen access for everyone.
 *
 * Every scalar arrives from `strict-yaml.ts` as its source text; numbers and
 * booleans are converted here with their own strict grammar (`approvals: 2`,
 * `requireTicket: true`). Quoting does not change the meaning of a field: the
 * text is the contract, not the YAML type.
 *
 * The rules are split along their seams: identifiers and field rules
 * (config-fields.ts), the file's shape (config-schema.ts), locating schema
 * issues (config-locate.ts), rules across fields (config-rules.ts). This
 * module loads a config and resolves a catalog entry to what it grants.
 */
import { BREAK_GLASS_MAX_DURATION, identityCenterInstanceId, sameLogin } from "./config-fields.js";
import { locateSchemaIssues } from "./config-locate.js";
import { crossFieldErrors } from "./config-rules.js";
import { BUILT_IN_DEFAULTS, configSchema, type ElevateConfig, type RoleConfig } from "./config-schema.js";
import { formatDuration, parseDuration } from "./duration.js";
import { type LocatedError, locatedError, sortLocatedErrors } from "./errors.js";
import { parseStrictYaml } from "./strict-yaml.js";

export * from "./config-fields.js";
export { describePath, locateSchemaIssues } from "./config-locate.js";
export * from "./config-schema.js";

/**
 * The config is held to the request-file rules except size: a catalog with
 * many users and roles legitimately outgrows 8 KiB.
 */
export const MAX_CONFIG_BYTES = 256 * 1024;

/** The default config location, relative to the repository root. */
export const DEFAULT_CONFIG_PATH = ".github/elevate.yml";

// --- Loading --------------------------------------------------------------------------------

export type LoadConfigResult =
  | { config: ElevateConfig; errors?: undefined }
  | { config?: undefined; errors: LocatedError[] };

/**
 * Parses and checks a config file. `file` is the name used in errors. Never
 * throws; every error is located at the YAML node it is about.
 */
export function loadConfig(text: string | Uint8Array, file: string): LoadConfigResult {
  const parsed = parseStrictYaml(text, { maxBytes: MAX_CONFIG_BYTES });
  if (!parsed.ok) {
    return { errors: parsed.problems.map((p) => locatedError(file, p, p.message)) };
  }
  const { document } = parsed;
  if (document.value === null || typeof document.value !== "object" || Array.isArray(document.value)) {
    return {
      errors: [locatedError(file, document.locate([]), "the config must be a map with version, aws, users and roles")],
    };
  }
  const result = configSchema.safeParse(document.value);
  const errors = crossFieldErrors(document.value, document, file);
  if (!result.success) errors.push(...locateSchemaIssues(result.error.issues, document, file));
  if (errors.length > 0 || !result.success) return { errors: sortLocatedErrors(errors) };
  return { config: { ...result.data, version: 1 } };
}

// --- Effective role settings ----------------------------------------------------------------

/** A catalog entry that grants an IAM role: a policy on the requester's IAM user lets it assume the role. */
export interface IamRoleTarget {
  kind: "role";
  roleArn: string;
}

/** A catalog entry that grants a permission set: an account assignment in an Identity Center instance. */
export interface PermissionSetTarget {
  kind: "permissionSet";
  instanceArn: string;
  identityStoreId: string;
  permissionSetArn: string;
  /** The account the permission set is assigned in. */
  accountId: string;
}

/** What a catalog entry grants: an IAM role to assume, or a permission set assigned in an account. */
export type RoleTarget = IamRoleTarget | PermissionSetTarget;

export interface EffectiveRole {
  /** Catalog key, equal to the folder under `requests/`. */
  key: string;
  /** What the entry grants; switch on `target.kind`. */
  target: RoleTarget;
  maxDuration: string;
  maxDurationMs: number;
  approvals: number;
  requireTicket: boolean;
  /** GitHub logins allowed to request the role, as written in `users`. */
  requesters: readonly string[];
  /** Set when the role may be granted by break-glass (workflow_dispatch, no prior review). */
  breakGlass?: EffectiveBreakGlass;
  /** Set when grants of the role wait for AWS-side approval (dual control). */
  awsApproval?: EffectiveAwsApproval;
}

export interface EffectiveAwsApproval {
  approvers: readonly string[];
  minApprovals: number;
  /** As configured; undefined means the stack's AutomationElevateApproval topic. */
  notificationTopicArn: string | undefined;
}

export interface EffectiveBreakGlass {
  /** Canonical, at most `BREAK_GLASS_MAX_DURATION`; default that ceiling. */
  maxDuration: string;
  maxDurationMs: number;
  /** Logins (as written in `users`) who may break glass: `breakGlass.requesters`, else the role's requesters. */
  requesters: readonly string[];
}

/** The role `key` with `defaults` and built-in defaults applied; `undefined` if the catalog has no such role. */
export function findRole(config: ElevateConfig, key: string): EffectiveRole | undefined {
  if (!Object.hasOwn(config.roles, key)) return undefined;
  const role = config.roles[key] as RoleConfig;
  const defaults = config.defaults ?? {};
  const maxDuration = role.maxDuration ?? defaults.maxDuration ?? BUILT_IN_DEFAULTS.maxDuration;
  const parsed = parseDuration(maxDuration);
  if (!parsed.ok) throw new Error(`findRole: config was not loaded through loadConfig (${parsed.message})`);
  const users = Object.keys(config.users);
  const requesters = role.requesters
    ? users.filter((user) => role.requesters?.some((login) => sameLogin(login, user)))
    : users;
  const effective: EffectiveRole = {
    key,
    target: roleTarget(config, key, role),
    maxDuration: formatDuration(parsed.ms),
    maxDurationMs: parsed.ms,
    approvals: role.approvals ?? defaults.approvals ?? BUILT_IN_DEFAULTS.approvals,
    requireTicket: role.requireTicket ?? defaults.requireTicket ?? BUILT_IN_DEFAULTS.requireTicket,
    requesters,
  };
  if (role.breakGlass) {
    const glass = role.breakGlass;
    const cap = parseDuration(glass.maxDuration ?? BREAK_GLASS_MAX_DURATION);
    if (!cap.ok) throw new Error(`findRole: config was not loaded through loadConfig (${cap.message})`);
    effective.breakGlass = {
      maxDuration: formatDuration(cap.ms),
      maxDurationMs: cap.ms,
      requesters: glass.requesters
        ? users.filter((user) => glass.requesters?.some((login) => sameLogin(login, user)))
        : requesters,
    };
  }
  if (role.awsApproval) {
    effective.awsApproval = {
      approvers: [...role.awsApproval.approvers],
      minApprovals: role.awsApproval.minApprovals,
      notificationTopicArn: role.awsApproval.notificationTopicArn,
    };
  }
  return effective;
}

/**
 * Like `findRole`, for a role already known to exist (e.g. of a validated
 * request); throws on an unknown role, which would be a programming error.
 */
export function resolveRoleSettings(config: ElevateConfig, key: string): EffectiveRole {
  const role = findRole(config, key);
  if (!role) throw new Error(`resolveRoleSettings: role ${JSON.stringify(key)} is not in the config's catalog`);
  return role;
}

function roleTarget(config: ElevateConfig, key: string, role: RoleConfig): RoleTarget {
  if (role.arn !== undefined) return { kind: "role", roleArn: role.arn };
  const center = config.aws.identityCenter;
  if (role.permissionSet === undefined || role.account === undefined || center === undefined) {
    throw new Error(`findRole: roles.${key} was not checked by loadConfig (neither arn nor permissionSet + account)`);
  }
  if (identityCenterInstanceId(role.permissionSet) !== identityCenterInstanceId(center.instanceArn)) {
    throw new Error(`findRole: roles.${key}.permissionSet is of another Identity Center instance`);
  }
  return {
    kind: "permissionSet",
    instanceArn: center.instanceArn,
    identityStoreId: center.identityStoreId,
    permissionSetArn: role.permissionSet,
    accountId: role.account,
  };
}

/** A `users` entry: the login as listed, and whichever identities it maps to. */
export interface UserEntry {
  login: string;
  /** IAM user name in the hub account (grants of IAM roles). */
  iamUser?: string;
  /** Identity Center UserName (grants of permission sets). */
  identityCenterUser?: string;
}

/** The `users` entry for a GitHub login (case-insensitive), whatever it maps to. */
export function findUserEntry(config: ElevateConfig, login: string): UserEntry | undefined {
  for (const [listed, entry] of Object.entries(config.users)) {
    if (sameLogin(listed, login)) return { login: listed, ...entry };
  }
  return undefined;
}

/**
 * The IAM side of a `users` entry (case-insensitive login): its login as
 * listed and its IAM user name; undefined when the login is not listed or
 * maps to an Identity Center user only.
 */
export function findUser(config: ElevateConfig, login: string): { login: string; iamUser: string } | undefined {
  const entry = findUserEntry(config, login);
  return entry?.iamUser === undefined ? undefined : { login: entry.login, iamUser: entry.iamUser };
}

/** The user's identity for a grant of `target`: the IAM user for a role, the Identity Center user for a permission set. */
export function principalFor(user: UserEntry, target: RoleTarget): string | undefined {
  return target.kind === "role" ? user.iamUser : user.identityCenterUser;
}
