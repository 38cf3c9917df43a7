/**
 * The config's identifiers and field rules (docs/config.md): what an ARN, an
 * account id, a user name or a duration must look like, each with the message
 * a person can act on. `config-schema.ts` assembles them into the file's shape.
 */
import * as z from "zod";
import { formatDuration, minutes, parseDuration } from "./duration.js";
import { quote } from "./errors.js";

/** docs/request-file.md: `15m <= d <= role maxDuration`. */
export const MIN_REQUEST_DURATION_MS = minutes(15);

/**
 * Break-glass grants skip review, so their window is held to a hard ceiling
 * that no config can raise: a break-glass `maxDuration` above it is an error.
 */
export const BREAK_GLASS_MAX_DURATION = "1h";
export const BREAK_GLASS_MAX_DURATION_MS = 60 * 60 * 1000;

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
export const PARTITION = "aws";
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

// --- IAM Identity Center ---------------------------------------------------------------------
// Patterns from the IAM Identity Center API reference (sso-admin CreateAccountAssignment
// `InstanceArn`, `PermissionSetArn`; identitystore `User`), narrowed to the aws partition.

/** Instance ARN: `arn:aws:sso:::instance/ssoins-<16>` (API pattern `(sso)?ins-[a-zA-Z0-9-.]{16}`). */
export const IDENTITY_CENTER_INSTANCE_ARN = new RegExp(
  `^arn:${PARTITION}:sso:::instance/((?:sso)?ins-[a-zA-Z0-9.-]{16})$`,
);

/**
 * Permission set ARN: `arn:aws:sso:::permissionSet/ssoins-<16>/ps-<16>`; the
 * first group is the instance it belongs to. The API pattern allows `/` in the
 * `ps-` part; it never occurs in ARNs AWS issues (ps- ids are hex), and a
 * slash would let one ARN read as another's prefix, so it is refused here.
 */
export const PERMISSION_SET_ARN = new RegExp(
  `^arn:${PARTITION}:sso:::permissionSet/((?:sso)?ins-[a-zA-Z0-9.-]{16})/(ps-[a-zA-Z0-9.-]{16})$`,
);

/** Identity store id: `d-` and 10 hex digits, or a UUID (identitystore `IdentityStoreId`). */
export const IDENTITY_STORE_ID = /^(?:d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * Identity Center UserName as Elevate takes it. AWS allows 1..128 letters,
 * accented characters, symbols, numbers and punctuation, excluding `<>;:%`
 * (identitystore `User.UserName`), and reserves `Administrator` and
 * `AWSAdministrators`. Elevate's permission-set runbooks take the name as a
 * parameter whose allowedPattern is the IAM name set, `[A-Za-z0-9_+=,.@-]`,
 * not starting with `.` (infra/runbooks/elevate-grant-permission-set.yaml):
 * an anchored pattern that admits no quote, brace or non-ASCII look-alike. A
 * name outside it is refused here, where the platform team can act on it.
 */
export const IDENTITY_CENTER_USER_NAME = /^[A-Za-z0-9_+=,@-][A-Za-z0-9_+=,.@-]{0,127}$/;
const RESERVED_USER_NAMES = new Set(["administrator", "awsadministrators"]);

export function identityCenterUserNameProblem(value: string): string | undefined {
  if (!IDENTITY_CENTER_USER_NAME.test(value)) {
    return `${quote(value)} is not an Identity Center user name Elevate can pass to its runbooks (1..128 of A-Z a-z 0-9 _ + = , . @ -, not starting with .)`;
  }
  if (RESERVED_USER_NAMES.has(value.toLowerCase())) return `${quote(value)} is a user name Identity Center reserves`;
  return undefined;
}

export function instanceArnProblem(value: string): string | undefined {
  return (
    unsupportedPartitionProblem(value, "ARN") ??
    (IDENTITY_CENTER_INSTANCE_ARN.test(value)
      ? undefined
      : `${quote(value)} is not an IAM Identity Center instance ARN (arn:aws:sso:::instance/ssoins-<16 characters>)`)
  );
}

export function permissionSetArnProblem(value: string): string | undefined {
  if (/[*?]/.test(value)) return `${quote(value)} contains a wildcard; permission set ARNs must be full and literal`;
  return (
    unsupportedPartitionProblem(value, "ARN") ??
    (PERMISSION_SET_ARN.test(value)
      ? undefined
      : `${quote(value)} is not a permission set ARN (arn:aws:sso:::permissionSet/ssoins-<16 characters>/ps-<16 characters>)`)
  );
}

/** The `ssoins-…` part of an instance or permission set ARN. */
export function identityCenterInstanceId(arn: string): string | undefined {
  return (IDENTITY_CENTER_INSTANCE_ARN.exec(arn) ?? PERMISSION_SET_ARN.exec(arn))?.[1];
}

/** GitHub logins compare case-insensitively (`Alice` and `alice` are one account). */
export function sameLogin(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

// --- Field schemas --------------------------------------------------------------------------
// Each field states its rule in its own words; the message is shown after the field's path.

export function textField(check: (value: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const problem = check(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem, input: value });
  });
}

export function roleArnProblem(value: string): string | undefined {
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

export const roleArnField = textField(roleArnProblem);

export const durationField = textField((value) => {
  const parsed = parseDuration(value);
  if (!parsed.ok) return parsed.message;
  if (parsed.ms < MIN_REQUEST_DURATION_MS) {
    return `${quote(value)} is shorter than the ${formatDuration(MIN_REQUEST_DURATION_MS)} minimum request duration, so nothing could ever be requested`;
  }
  return undefined;
});

export const approvalsField = z
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

export const booleanField = z
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
export function strictMap<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.strictObject(shape, {
    error: (issue) => (issue.code === "unrecognized_keys" ? Object.keys(shape).join(", ") : undefined),
  });
}

export function documentNameProblem(value: string): string | undefined {
  if (!SSM_DOCUMENT_NAME.test(value)) {
    return `${quote(value)} is not an SSM document name (3..128 of letters, digits, _ - .)`;
  }
  if (RESERVED_DOCUMENT_PREFIX.test(value))
    return `${quote(value)} starts with a prefix AWS reserves (aws, amazon, amzn)`;
  return undefined;
}
