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
 */
import { z } from "zod";
import { formatDuration, minutes, parseDuration } from "./duration.js";
import { type LocatedError, locatedError, quote, sortLocatedErrors } from "./errors.js";
import {
  parseStrictYaml,
  type StrictYamlDocument,
  type YamlMap,
  type YamlPath,
  type YamlValue,
} from "./strict-yaml.js";

/** docs/request-file.md: `15m <= d <= role maxDuration`. */
export const MIN_REQUEST_DURATION_MS = minutes(15);

/**
 * The config is held to the request-file rules except size: a catalog with
 * many users and roles legitimately outgrows 8 KiB.
 */
export const MAX_CONFIG_BYTES = 256 * 1024;

/** The default config location, relative to the repository root. */
export const DEFAULT_CONFIG_PATH = ".github/elevate.yml";

// --- Names and identifiers ------------------------------------------------------------------

/**
 * GitHub login: alphanumerics and single hyphens, not starting or ending with
 * a hyphen, at most 39 characters (the rules GitHub's sign-up form enforces).
 * Logins are case-insensitive on GitHub; see `sameLogin`.
 */
export const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

/** IAM user name (IAM API reference, CreateUser `UserName`: `[\w+=,.@-]+`, 1..64). */
export const IAM_USER_NAME = /^[\w+=,.@-]{1,64}$/;

/** Role catalog key == folder name under `requests/`. */
export const ROLE_KEY = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * The AWS partition Elevate supports: `aws` (commercial Regions) only, as the
 * template's CommercialPartitionOnly rule and the runbooks' patterns
 * (docs/infra.md "Partitions": the role trusts rely on GitHub claim keys AWS
 * documents for commercial Regions). ARN format: IAM User Guide, "IAM ARNs".
 */
const PARTITION = "aws";
/** ARNs and Regions of the partitions Elevate does not support, to name them in errors. */
const OTHER_PARTITION_ARN = /^arn:(aws-cn|aws-us-gov):/;
const OTHER_PARTITION_REGION = /^(cn|us-gov)-/;
const PARTITION_RULE = "Elevate supports the aws partition (commercial Regions) only; see docs/infra.md, Partitions";

/** The problem with a value from a partition Elevate does not support, if it is one. */
export function unsupportedPartitionProblem(value: string, what: "ARN" | "region"): string | undefined {
  const other = what === "ARN" ? OTHER_PARTITION_ARN.test(value) : OTHER_PARTITION_REGION.test(value);
  return other ? `${quote(value)} is outside the aws partition: ${PARTITION_RULE}` : undefined;
}

/**
 * A full, literal IAM role ARN: `arn:<partition>:iam::<12-digit account>:role/<path/><name>`.
 * Path segments and the name use the IAM name characters `[\w+=,.@-]`
 * (IAM API reference, CreateRole `RoleName` and `Path`); that set has no `*`
 * or `?`, so no ARN accepted here can act as a wildcard in a policy Resource.
 */
export const ROLE_ARN = new RegExp(`^arn:(${PARTITION}):iam::(\\d{12}):role/((?:[\\w+=,.@-]+/)*)([\\w+=,.@-]{1,64})$`);
/** IAM: a role path is at most 512 characters, including the leading and trailing `/`. */
const MAX_ROLE_PATH = 512;

/** AWS region name, e.g. `ap-northeast-1` (the aws partition's; see unsupportedPartitionProblem). */
export const AWS_REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

/** AWS account id: exactly 12 digits, written as a string (a YAML number would lose leading zeros). */
export const AWS_ACCOUNT_ID = /^\d{12}$/;

/** SNS topic ARN (SNS API reference, CreateTopic `Name`: `[A-Za-z0-9_-]{1,256}`, `.fifo` suffix for FIFO topics). */
export const SNS_TOPIC_ARN = new RegExp(
  `^arn:(${PARTITION}):sns:([a-z]{2}(?:-[a-z]+)+-\\d{1,2}):(\\d{12}):([A-Za-z0-9_-]{1,251}(?:\\.fifo)?|[A-Za-z0-9_-]{252,256})$`,
);

/**
 * SSM document name (SSM API reference, CreateDocument `Name`: `^[a-zA-Z0-9_\-.]{3,128}$`;
 * the prefixes `aws`, `amazon` and `amzn` are reserved by AWS).
 */
export const SSM_DOCUMENT_NAME = /^[a-zA-Z0-9_.-]{3,128}$/;
const RESERVED_DOCUMENT_PREFIX = /^(aws|amazon|amzn)/i;

/** GitHub logins compare case-insensitively (`Alice` and `alice` are one account). */
export function sameLogin(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

// --- Field schemas --------------------------------------------------------------------------
// Each field states its rule in its own words; the message is shown after the field's path.

function textField(check: (value: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const problem = check(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem, input: value });
  });
}

function roleArnProblem(value: string): string | undefined {
  if (/[*?]/.test(value)) return `${quote(value)} contains a wildcard; role ARNs must be full and literal`;
  const partition = unsupportedPartitionProblem(value, "ARN");
  if (partition) return partition;
  const match = ROLE_ARN.exec(value);
  if (!match) {
    return `${quote(value)} is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<optional/path/><name>)`;
  }
  if ((match[3] ?? "").length + 2 > MAX_ROLE_PATH) return `the role path is longer than ${MAX_ROLE_PATH} characters`;
  return undefined;
}

const roleArnField = textField(roleArnProblem);

const durationField = textField((value) => {
  const parsed = parseDuration(value);
  if (!parsed.ok) return parsed.message;
  if (parsed.ms < MIN_REQUEST_DURATION_MS) {
    return `${quote(value)} is shorter than the ${formatDuration(MIN_REQUEST_DURATION_MS)} minimum request duration, so nothing could ever be requested`;
  }
  return undefined;
});

const approvalsField = z
  .string()
  .superRefine((value, ctx) => {
    if (!/^[1-9][0-9]{0,5}$/.test(value)) {
      ctx.addIssue({
        code: "custom",
        message: `${quote(value)} is not a whole number of approvals of at least 1`,
        input: value,
      });
    }
  })
  .transform((value) => Number(value));

const booleanField = z
  .string()
  .superRefine((value, ctx) => {
    if (value !== "true" && value !== "false") {
      ctx.addIssue({ code: "custom", message: `${quote(value)} is not true or false`, input: value });
    }
  })
  .transform((value) => value === "true");

/**
 * A map with exactly these keys. The allowed keys travel in the
 * unrecognized-key message so that the error can name them.
 */
function strictMap<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.strictObject(shape, {
    error: (issue) => (issue.code === "unrecognized_keys" ? Object.keys(shape).join(", ") : undefined),
  });
}

const awsSchema = strictMap({
  region: textField(
    (v) =>
      unsupportedPartitionProblem(v, "region") ??
      (AWS_REGION.test(v) ? undefined : `${quote(v)} is not an AWS region name (e.g. ap-northeast-1)`),
  ),
  accountId: textField((v) =>
    AWS_ACCOUNT_ID.test(v) ? undefined : `${quote(v)} is not a 12-digit AWS account id (write it in quotes)`,
  ),
  grantRoleArn: roleArnField,
  revokeRoleArn: roleArnField,
  automationRoleArn: roleArnField,
  grantDocument: textField(documentNameProblem),
  revokeDocument: textField(documentNameProblem),
  notifyTopicArn: textField(
    (v) =>
      unsupportedPartitionProblem(v, "ARN") ??
      (SNS_TOPIC_ARN.test(v)
        ? undefined
        : `${quote(v)} is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)`),
  ).optional(),
});

function documentNameProblem(value: string): string | undefined {
  if (!SSM_DOCUMENT_NAME.test(value)) {
    return `${quote(value)} is not an SSM document name (3..128 of letters, digits, _ - .)`;
  }
  if (RESERVED_DOCUMENT_PREFIX.test(value))
    return `${quote(value)} starts with a prefix AWS reserves (aws, amazon, amzn)`;
  return undefined;
}

/** Settings a role inherits from `defaults` when it does not set them. */
export const DEFAULTS_SHAPE = {
  maxDuration: durationField.optional(),
  approvals: approvalsField.optional(),
  requireTicket: booleanField.optional(),
};

/**
 * Break-glass grants skip review, so their window is held to a hard ceiling
 * that no config can raise: a break-glass `maxDuration` above it is an error.
 */
export const BREAK_GLASS_MAX_DURATION = "1h";
export const BREAK_GLASS_MAX_DURATION_MS = 60 * 60 * 1000;

const breakGlassDurationField = textField((value) => {
  const parsed = parseDuration(value);
  if (!parsed.ok) return parsed.message;
  if (parsed.ms < MIN_REQUEST_DURATION_MS) {
    return `${quote(value)} is shorter than the ${formatDuration(MIN_REQUEST_DURATION_MS)} minimum request duration, so nothing could ever be requested`;
  }
  if (parsed.ms > BREAK_GLASS_MAX_DURATION_MS) {
    return `${quote(value)} is longer than ${BREAK_GLASS_MAX_DURATION}, the most a break-glass grant (one without prior review) may last`;
  }
  return undefined;
});

/** `roles.<key>.breakGlass`: who may grant the role to themselves without review, and for how long at most. */
const breakGlassSchema = strictMap({
  maxDuration: breakGlassDurationField.optional(),
  requesters: z.array(z.string()).optional(),
});

/**
 * An AWS-side approver: a full, literal IAM user or role ARN (aws:approve
 * accepts user names and assumed-role ARNs too; Elevate takes only ARNs, so
 * an approver is one unambiguous principal). Path segments and names may not
 * start with "." (no `.` or `..` segments), as the runbook's allowedPattern.
 */
export const APPROVER_ARN = new RegExp(
  `^arn:(${PARTITION}):iam::(\\d{12}):(user|role)((?:/[\\w+=,@-][\\w+=,.@-]*)*)/([\\w+=,@-][\\w+=,.@-]{0,63})$`,
);
/** aws:approve: "The maximum number of approvers is 10." */
export const MAX_AWS_APPROVERS = 10;
/** AWS requires an approval topic's name to start with "Automation" (aws:approve NotificationArn). */
export const APPROVAL_TOPIC_ARN = new RegExp(
  `^arn:(${PARTITION}):sns:([a-z]{2}(?:-[a-z]+)+-\\d{1,2}):(\\d{12}):(Automation[A-Za-z0-9_-]{0,246})$`,
);

/** `roles.<key>.awsApproval`: dual control, an AWS-side aws:approve gate before the grant (docs/dual-control.md). */
const awsApprovalSchema = strictMap({
  approvers: z
    .array(
      textField((v) =>
        /[*?]/.test(v)
          ? `${quote(v)} contains a wildcard; approvers must be full, literal IAM user or role ARNs`
          : (unsupportedPartitionProblem(v, "ARN") ??
            (APPROVER_ARN.test(v)
              ? undefined
              : `${quote(v)} is not an IAM user or role ARN (arn:aws:iam::<12-digit account>:user/<name> or :role/<name>)`)),
      ),
    )
    .min(1, { error: "list at least one approver (an IAM user or role ARN)" })
    .max(MAX_AWS_APPROVERS, { error: `at most ${MAX_AWS_APPROVERS} approvers (an aws:approve limit)` }),
  minApprovals: approvalsField,
  notificationTopicArn: textField(
    (v) =>
      unsupportedPartitionProblem(v, "ARN") ??
      (APPROVAL_TOPIC_ARN.test(v)
        ? undefined
        : `${quote(v)} is not an SNS topic ARN whose name starts with "Automation" (AWS requires that prefix for approval topics)`),
  ).optional(),
}).superRefine((value, ctx) => {
  if (value.approvers.length > 0 && value.minApprovals > value.approvers.length) {
    ctx.addIssue({
      code: "custom",
      path: ["minApprovals"],
      message: `${value.minApprovals} approvals can never be reached with ${value.approvers.length} approver(s)`,
      input: value.minApprovals,
    });
  }
  value.approvers.forEach((arn, index) => {
    if (value.approvers.indexOf(arn) !== index) {
      ctx.addIssue({
        code: "custom",
        path: ["approvers", index],
        message: `${quote(arn)} is listed twice`,
        input: arn,
      });
    }
  });
});

/**
 * Per-role options. New options (another issue adds e.g. `awsApproval`,
 * `breakGlass`) are one entry here, plus their resolution in `resolveRole`.
 */
export const ROLE_SHAPE = {
  arn: roleArnField,
  ...DEFAULTS_SHAPE,
  requesters: z.array(z.string()).optional(),
  breakGlass: breakGlassSchema.optional(),
  awsApproval: awsApprovalSchema.optional(),
};

/** Built-in values for settings that neither the role nor `defaults` sets. */
export const BUILT_IN_DEFAULTS = Object.freeze({ maxDuration: "1h", approvals: 1, requireTicket: false });

export const configSchema = strictMap({
  version: z.literal("1", { error: (issue) => `${quote(String(issue.input))} is not supported; use 1` }),
  aws: awsSchema,
  defaults: strictMap(DEFAULTS_SHAPE).optional(),
  users: z.record(z.string(), z.string()),
  roles: z.record(z.string(), strictMap(ROLE_SHAPE)),
});

export type ElevateConfigFile = z.output<typeof configSchema>;
/** A loaded, fully checked config. Map objects have no prototype; look keys up with `Object.hasOwn`. */
export type ElevateConfig = Omit<ElevateConfigFile, "version"> & { version: 1 };
export type RoleConfig = ElevateConfig["roles"][string];

// --- Locating schema errors -----------------------------------------------------------------

/** `roles.ec2-admin.requesters[0]`: how a path is written in messages. */
export function describePath(path: YamlPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? segment : `.${segment}`;
  }
  return out === "" ? "the file" : out;
}

function valueAt(value: YamlValue, path: YamlPath): { found: boolean; value: YamlValue | undefined } {
  let current: YamlValue | undefined = value;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return { found: false, value: undefined };
    if (Array.isArray(current)) {
      if (typeof segment !== "number" || segment >= current.length) return { found: false, value: undefined };
      current = current[segment];
    } else {
      if (!Object.hasOwn(current, String(segment))) return { found: false, value: undefined };
      current = current[String(segment)];
    }
  }
  return { found: true, value: current };
}

function kindOf(value: YamlValue | undefined): string {
  if (value === null || value === undefined) return "empty";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  return "text";
}

const EXPECTED_WORDS: Record<string, string> = {
  string: "a text value",
  object: "a map of keys",
  record: "a map of keys",
  array: "a list",
};

/**
 * Turns zod issues into located errors at the YAML node each one is about:
 * unknown keys at the key, missing keys at the map that should hold them,
 * bad values at the value.
 */
export function locateSchemaIssues(
  issues: readonly z.core.$ZodIssue[],
  document: StrictYamlDocument,
  file: string,
): LocatedError[] {
  const errors: LocatedError[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const where = path.length > 0 ? ` in ${describePath(path)}` : "";
        errors.push(
          locatedError(
            file,
            document.locateKey([...path, key]),
            `unknown key ${quote(key)}${where}; allowed keys: ${issue.message}`,
          ),
        );
      }
      continue;
    }
    const at = valueAt(document.value, path);
    if (issue.code === "invalid_type") {
      const name = describePath(path);
      const expected = EXPECTED_WORDS[issue.expected] ?? issue.expected;
      if (!at.found) {
        const parent = path.length > 1 ? ` in ${describePath(path.slice(0, -1))}` : "";
        errors.push(
          locatedError(file, document.locate(path), `missing required key ${quote(String(path.at(-1)))}${parent}`),
        );
      } else if (at.value === null) {
        errors.push(locatedError(file, document.locate(path), `${name} is empty; it must be ${expected}`));
      } else {
        errors.push(locatedError(file, document.locate(path), `${name} must be ${expected}, not ${kindOf(at.value)}`));
      }
      continue;
    }
    errors.push(locatedError(file, document.locate(path), `${describePath(path)}: ${issue.message}`));
  }
  return errors;
}

// --- Cross-field rules ----------------------------------------------------------------------

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
function crossFieldErrors(root: YamlMap, document: StrictYamlDocument, file: string): LocatedError[] {
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
    const iamUser = asText(users[login]);
    if (iamUser !== undefined && !IAM_USER_NAME.test(iamUser)) {
      push(["users", login], `users.${login}: ${quote(iamUser)} is not an IAM user name ([A-Za-z0-9+=,.@_-], 1..64)`);
    }
  }

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

export interface EffectiveRole {
  /** Catalog key, equal to the folder under `requests/`. */
  key: string;
  arn: string;
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
    arn: role.arn,
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

/** The `users` entry for a GitHub login (case-insensitive): its login as listed and its IAM user name. */
export function findUser(config: ElevateConfig, login: string): { login: string; iamUser: string } | undefined {
  for (const [listed, iamUser] of Object.entries(config.users)) {
    if (sameLogin(listed, login)) return { login: listed, iamUser };
  }
  return undefined;
}
