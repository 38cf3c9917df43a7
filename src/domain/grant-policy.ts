/**
 * The grant policy: the one inline IAM user policy that gives a requester the
 * right to assume one privileged role for one window (docs/threat-model.md invariant 2).
 *
 * The exact text matters in three places that must agree byte for byte:
 *   - `elevate plan` prints it,
 *   - the Elevate-Grant runbook (infra/runbooks/elevate-grant.yaml) builds it
 *     from constrained parameters (never from a caller-supplied document),
 *   - the revoker parses it back from IAM to learn the window (invariant 6).
 * A test renders the runbook's template and compares it with `grantPolicyText`.
 */

/** Inline policy name prefix that marks a policy as Elevate's. */
export const POLICY_PREFIX = "elevate-";

/** IAM's aggregate budget for inline user policies (whitespace excluded). */
export const USER_INLINE_POLICY_BUDGET = 2048;
/** IAM's aggregate budget for inline role policies (whitespace excluded). */
export const ROLE_INLINE_POLICY_BUDGET = 10240;

export const GRANT_STATEMENT_SID = "ElevateGrant";
export const CUTOFF_STATEMENT_SID = "ElevateCutoff";

export interface GrantPolicyInput {
  /** Request id, `^[a-z0-9][a-z0-9-]{2,62}$`. */
  requestId: string;
  /** IAM user name that receives the grant; also the only allowed session name. */
  iamUser: string;
  /** Full literal role ARN. */
  roleArn: string;
  /** Inclusive window bounds, whole seconds, rendered as `YYYY-MM-DDTHH:MM:SSZ`. */
  notBefore: Date;
  notAfter: Date;
}

export interface GrantPolicyDocument {
  Version: "2012-10-17";
  Statement: [
    {
      Sid: typeof GRANT_STATEMENT_SID;
      Effect: "Allow";
      Action: "sts:AssumeRole";
      Resource: string;
      Condition: {
        DateGreaterThanEquals: { "aws:CurrentTime": string };
        DateLessThanEquals: { "aws:CurrentTime": string };
        StringEquals: { "sts:RoleSessionName": string };
      };
    },
  ];
}

/** `2026-11-30T09:00:00Z`: IAM date conditions compare ISO 8601 instants. */
export function formatIamTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

export function grantPolicyName(requestId: string): string {
  return `${POLICY_PREFIX}${requestId}`;
}

export function grantPolicyDocument(input: GrantPolicyInput): GrantPolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: GRANT_STATEMENT_SID,
        Effect: "Allow",
        Action: "sts:AssumeRole",
        Resource: input.roleArn,
        Condition: {
          DateGreaterThanEquals: { "aws:CurrentTime": formatIamTime(input.notBefore) },
          DateLessThanEquals: { "aws:CurrentTime": formatIamTime(input.notAfter) },
          StringEquals: { "sts:RoleSessionName": input.iamUser },
        },
      },
    ],
  };
}

/** Compact JSON, exactly as the Elevate-Grant runbook writes it. */
export function grantPolicyText(input: GrantPolicyInput): string {
  return JSON.stringify(grantPolicyDocument(input));
}

/**
 * Why this grant policy alone cannot fit the user's inline budget, or undefined
 * when it fits. (The budget is for all of a user's inline policies together;
 * the runbook's PutUserPolicy fails atomically with LimitExceeded when the
 * others leave too little.)
 */
export function grantPolicyBudgetProblem(input: GrantPolicyInput): string | undefined {
  const size = iamPolicySize(grantPolicyText(input));
  if (size <= USER_INLINE_POLICY_BUDGET) return undefined;
  return `the grant policy would be ${size} characters, over IAM's ${USER_INLINE_POLICY_BUDGET}-character budget for a user's inline policies`;
}

/** IAM counts policy size without white space. */
export function iamPolicySize(text: string): number {
  return text.replace(/\s/g, "").length;
}

export interface ParsedGrantPolicy {
  roleArn: string;
  iamUserSessionName: string;
  notBefore: Date;
  notAfter: Date;
}

const IAM_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/**
 * Reads a grant policy back from IAM (the revoker's only source of truth).
 * Accepts exactly the shape `grantPolicyDocument` produces, URL-encoded or not
 * (IAM returns policy documents URL-encoded); anything else returns `undefined`,
 * which the revoker treats as drift.
 */
export function parseGrantPolicy(document: string): ParsedGrantPolicy | undefined {
  const parsed = decodePolicyDocument(document);
  if (parsed === undefined) return undefined;
  const doc = parsed as Partial<GrantPolicyDocument> | null;
  const statements = doc?.Statement;
  if (doc?.Version !== "2012-10-17" || !Array.isArray(statements) || statements.length !== 1) {
    return undefined;
  }
  const s = statements[0];
  if (
    !s ||
    s.Sid !== GRANT_STATEMENT_SID ||
    s.Effect !== "Allow" ||
    s.Action !== "sts:AssumeRole" ||
    typeof s.Resource !== "string"
  ) {
    return undefined;
  }
  const nb = s.Condition?.DateGreaterThanEquals?.["aws:CurrentTime"];
  const na = s.Condition?.DateLessThanEquals?.["aws:CurrentTime"];
  const session = s.Condition?.StringEquals?.["sts:RoleSessionName"];
  if (typeof nb !== "string" || typeof na !== "string" || typeof session !== "string") return undefined;
  if (!IAM_TIME.test(nb) || !IAM_TIME.test(na)) return undefined;
  const notBefore = new Date(nb);
  const notAfter = new Date(na);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) return undefined;
  if (notBefore.getTime() > notAfter.getTime()) return undefined;
  if (!LITERAL_ROLE_ARN.test(s.Resource) || !IAM_USER_NAME.test(session)) return undefined;
  // "Exactly the shape": re-render from the extracted fields and compare structurally.
  // This rejects extra keys, extra conditions and impossible dates that `Date` silently
  // rolls over (2026-02-30 -> 2026-03-02), without depending on IAM's key order.
  const rendered = grantPolicyDocument({ requestId: "", iamUser: session, roleArn: s.Resource, notBefore, notAfter });
  if (!sameJson(rendered, parsed)) return undefined;
  return { roleArn: s.Resource, iamUserSessionName: session, notBefore, notAfter };
}

/** A full, literal IAM role ARN (no wildcards), any partition, optional path. */
const LITERAL_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,576}$/;
/** IAM user names: `[\w+=,.@-]{1,64}` (IAM API reference, CreateUser UserName). */
const IAM_USER_NAME = /^[\w+=,.@-]{1,64}$/;

/**
 * A policy document as IAM returns it (URL-encoded, RFC 3986) or as written
 * (plain JSON), parsed; undefined when it is neither.
 */
export function decodePolicyDocument(document: string): unknown {
  try {
    return JSON.parse(/^%7b/i.test(document) ? decodeURIComponent(document) : document);
  } catch {
    return undefined;
  }
}

/** Structural JSON equality, independent of key order (IAM does not promise to keep it). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every(
    (key) =>
      Object.hasOwn(b, key) && sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

/**
 * Session cut-off (invariant 3): an inline policy on the privileged role that
 * denies everything to that user's role sessions issued before `revokedAt`.
 * A role session's `aws:userid` is `<role-id>:<session-name>` and the session
 * name is forced to the IAM user name, so `*:<user>` matches exactly that user
 * (IAM user names cannot contain `:` or `*`). One policy per user per role:
 * writing it again moves the cut-off forward, never back.
 */
export function cutoffPolicyName(iamUser: string): string {
  return `${POLICY_PREFIX}cutoff-${iamUser}`;
}

export function cutoffPolicyText(iamUser: string, revokedAt: Date): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: CUTOFF_STATEMENT_SID,
        Effect: "Deny",
        Action: "*",
        Resource: "*",
        Condition: {
          StringLike: { "aws:userid": `*:${iamUser}` },
          DateLessThan: { "aws:TokenIssueTime": formatIamTime(revokedAt) },
        },
      },
    ],
  });
}

export interface ParsedCutoffPolicy {
  iamUser: string;
  revokedAt: Date;
}

export function parseCutoffPolicy(document: string): ParsedCutoffPolicy | undefined {
  // biome-ignore lint/suspicious/noExplicitAny: the shape is checked field by field below.
  const doc = decodePolicyDocument(document) as any;
  if (doc === undefined) return undefined;
  try {
    const s = doc?.Statement?.[0];
    if (doc?.Statement?.length !== 1 || s?.Sid !== CUTOFF_STATEMENT_SID || s.Effect !== "Deny") return undefined;
    const pattern = s.Condition?.StringLike?.["aws:userid"];
    const at = s.Condition?.DateLessThan?.["aws:TokenIssueTime"];
    if (typeof pattern !== "string" || !pattern.startsWith("*:") || typeof at !== "string" || !IAM_TIME.test(at)) {
      return undefined;
    }
    const iamUser = pattern.slice(2);
    const revokedAt = new Date(at);
    if (!/^[\w+=,.@-]{1,64}$/.test(iamUser) || Number.isNaN(revokedAt.getTime())) return undefined;
    // Exactly our shape, nothing more: rebuild it and compare.
    if (JSON.stringify(doc) !== cutoffPolicyText(iamUser, revokedAt)) return undefined;
    return { iamUser, revokedAt };
  } catch {
    return undefined;
  }
}
