/**
 * What a requester is told after a grant, and the evidence written to git.
 * Pure text building: no I/O.
 */

export interface ParsedRoleArn {
  partition: string;
  accountId: string;
  /** Path including leading and trailing slash, e.g. `/elevated/`. */
  path: string;
  name: string;
}

export function parseRoleArn(arn: string): ParsedRoleArn | undefined {
  const m = /^arn:(aws|aws-us-gov|aws-cn):iam::(\d{12}):role(\/(?:[\x21-\x7e]+\/)?)?([\w+=,.@-]{1,64})$/.exec(arn);
  if (!m) return undefined;
  return { partition: m[1]!, accountId: m[2]!, path: m[3] ?? "/", name: m[4]! };
}

const SIGNIN_HOST: Record<string, string> = {
  aws: "signin.aws.amazon.com",
  "aws-us-gov": "signin.amazonaws-us-gov.com",
  "aws-cn": "signin.amazonaws.cn",
};

/**
 * The console's switch-role link. A role with a path is given as
 * `path/name` without the leading slash ("Providing information to the user
 * for switching roles", IAM User Guide). The console uses the IAM user name
 * as the role session name, which is what the grant policy requires.
 */
export function switchRoleUrl(roleArn: string, displayName: string): string | undefined {
  const role = parseRoleArn(roleArn);
  if (!role) return undefined;
  const roleName = `${role.path.slice(1)}${role.name}`;
  const params = new URLSearchParams({ account: role.accountId, roleName, displayName: displayName.slice(0, 64) });
  return `https://${SIGNIN_HOST[role.partition]}/switchrole?${params.toString()}`;
}

/**
 * An `~/.aws/config` profile that assumes the role with the session name the
 * grant policy requires (`role_session_name` = IAM user name).
 */
export function cliProfileSnippet(input: {
  profile: string;
  roleArn: string;
  iamUser: string;
  region: string;
}): string {
  return [
    `[profile ${input.profile}]`,
    `role_arn = ${input.roleArn}`,
    "source_profile = default",
    `role_session_name = ${input.iamUser}`,
    `region = ${input.region}`,
  ].join("\n");
}

export interface CountedApproval {
  login: string;
  reviewId: number;
  commitId: string;
  submittedAt?: string;
}

/** The git note written on the merge commit (refs/notes/elevate): one JSON line per event. */
export interface GrantEvidence {
  schema: "elevate.grant/v1";
  /** "awaiting-aws-approval": a dual-control gate was started; the grant follows its approval. */
  event: "granted" | "refused" | "awaiting-aws-approval";
  requestId: string;
  file: string;
  requester: string;
  iamUser?: string;
  roleArn?: string;
  /** A permission-set grant: the Identity Center user, and the permission set in its account. */
  identityCenterUser?: string;
  permissionSetArn?: string;
  accountId?: string;
  reason?: string;
  ticket?: string;
  pr?: { number: number; url: string; author: string; headSha: string; mergedAt?: string };
  mergeSha: string;
  approvals: CountedApproval[];
  window?: { notBefore: string; notAfter: string };
  /** The approver cap that shortened the window (src/domain/approver-cap.ts). */
  cappedBy?: { login: string; reviewId: number; cap: string };
  execution?: { id: string; status: string };
  /** Why nothing was granted (event "refused"). */
  refusal?: string;
  run?: { id: string; attempt: string; url: string };
  recordedAt: string;
}

export function evidenceLine(evidence: GrantEvidence): string {
  return JSON.stringify(evidence);
}

/** Parses a note's lines; lines that are not our evidence are skipped, not fatal. */
export function parseEvidenceNote(text: string): GrantEvidence[] {
  const out: GrantEvidence[] = [];
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (!trimmed.startsWith("{")) continue;
    try {
      const value = JSON.parse(trimmed) as Partial<GrantEvidence>;
      if (value.schema === "elevate.grant/v1" && typeof value.requestId === "string") out.push(value as GrantEvidence);
    } catch {
      // Not ours: notes may be appended to by people too.
    }
  }
  return out;
}

/** Human duration for messages: "2h", "1h 30m", "45m". */
export function humanDuration(ms: number): string {
  const totalMinutes = Math.round(ms / 60_000);
  const h = Math.floor(totalMinutes / 60);
  const m = totalMinutes % 60;
  if (h && m) return `${h}h ${m}m`;
  if (h) return `${h}h`;
  return `${m}m`;
}
