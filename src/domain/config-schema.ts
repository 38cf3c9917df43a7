/**
 * The shape of `.github/elevate.yml` (docs/config.md), assembled from the
 * field rules in `config-fields.ts`. Rules that span fields (exactly one of
 * `arn` and `permissionSet`, the permission set's instance, requesters that
 * must be users) live in `config-rules.ts`, which reads the raw document, so
 * they report even where this schema fails: one pass shows every problem.
 */
import * as z from "zod";
import {
  AWS_ACCOUNT_ID,
  AWS_REGION,
  approvalsField,
  BREAK_GLASS_MAX_DURATION,
  BREAK_GLASS_MAX_DURATION_MS,
  booleanField,
  documentNameProblem,
  durationField,
  IAM_USER_NAME,
  IDENTITY_STORE_ID,
  identityCenterUserNameProblem,
  instanceArnProblem,
  MIN_REQUEST_DURATION_MS,
  PARTITION,
  permissionSetArnProblem,
  roleArnField,
  SNS_TOPIC_ARN,
  strictMap,
  textField,
  unsupportedPartitionProblem,
} from "./config-fields.js";
import { formatDuration, parseDuration } from "./duration.js";
import { quote } from "./errors.js";

// The config is parsed once per process: zod's JIT (a `new Function` parser per
// object schema, compiled on first use) costs more than it saves here, about 3 ms
// of a grant's 300 ms start budget (bench/README.md, "Grant start").
z.config({ jitless: true });

/** A 12-digit account id, written in quotes (a YAML number would lose leading zeros). */
const accountIdField = textField((v) =>
  AWS_ACCOUNT_ID.test(v) ? undefined : `${quote(v)} is not a 12-digit AWS account id (write it in quotes)`,
);

/** `aws.identityCenter`: the IAM Identity Center instance the permission-set roles belong to. */
const identityCenterSchema = strictMap({
  instanceArn: textField(instanceArnProblem),
  identityStoreId: textField((v) =>
    IDENTITY_STORE_ID.test(v)
      ? undefined
      : `${quote(v)} is not an identity store id (d- and 10 hexadecimal digits, e.g. d-0123456789)`,
  ),
});

const iamUserField = textField((v) =>
  IAM_USER_NAME.test(v) ? undefined : `${quote(v)} is not an IAM user name ([A-Za-z0-9+=,.@_-], 1..64)`,
);

/**
 * `users.<login>`: an IAM user name (the string form), or a map naming the
 * IAM user and/or the Identity Center user. Both forms load as the map, so
 * code reads `iamUser` / `identityCenterUser` and never the raw form. "At
 * least one of the two" is checked in config-rules.ts.
 */
const userSchema = z
  .union([
    iamUserField,
    strictMap({
      iamUser: iamUserField.optional(),
      identityCenterUser: textField(identityCenterUserNameProblem).optional(),
    }),
  ])
  .transform((entry): { iamUser?: string; identityCenterUser?: string } => {
    if (typeof entry === "string") return { iamUser: entry };
    return {
      ...(entry.iamUser !== undefined ? { iamUser: entry.iamUser } : {}),
      ...(entry.identityCenterUser !== undefined ? { identityCenterUser: entry.identityCenterUser } : {}),
    };
  });

const awsSchema = strictMap({
  region: textField(
    (v) =>
      unsupportedPartitionProblem(v, "region") ??
      (AWS_REGION.test(v) ? undefined : `${quote(v)} is not an AWS region name (e.g. ap-northeast-1)`),
  ),
  accountId: accountIdField,
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
  identityCenter: identityCenterSchema.optional(),
});

/** Settings a role inherits from `defaults` when it does not set them. */
export const DEFAULTS_SHAPE = {
  maxDuration: durationField.optional(),
  approvals: approvalsField.optional(),
  requireTicket: booleanField.optional(),
};

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
  /** Kind 1: an IAM role. Exactly one of `arn` and `permissionSet` (config-rules.ts). */
  arn: roleArnField.optional(),
  ...DEFAULTS_SHAPE,
  requesters: z.array(z.string()).optional(),
  breakGlass: breakGlassSchema.optional(),
  awsApproval: awsApprovalSchema.optional(),
  /** Kind 2: an IAM Identity Center permission set, assigned in `account`. */
  permissionSet: textField(permissionSetArnProblem).optional(),
  account: accountIdField.optional(),
};

/** Built-in values for settings that neither the role nor `defaults` sets. */
export const BUILT_IN_DEFAULTS = Object.freeze({ maxDuration: "1h", approvals: 1, requireTicket: false });

export const configSchema = strictMap({
  version: z.literal("1", { error: (issue) => `${quote(String(issue.input))} is not supported; use 1` }),
  aws: awsSchema,
  defaults: strictMap(DEFAULTS_SHAPE).optional(),
  users: z.record(z.string(), userSchema),
  roles: z.record(z.string(), strictMap(ROLE_SHAPE)),
});

export type ElevateConfigFile = z.output<typeof configSchema>;
/** A loaded, fully checked config. Map objects have no prototype; look keys up with `Object.hasOwn`. */
export type ElevateConfig = Omit<ElevateConfigFile, "version"> & { version: 1 };
export type RoleConfig = ElevateConfig["roles"][string];
/** A `users` entry, whichever way it was written. */
export type UserConfig = ElevateConfig["users"][string];
