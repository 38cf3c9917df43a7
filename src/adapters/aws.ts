/**
 * Thin adapter over the AWS SDK: OIDC credentials, SSM Automation, IAM reads, SNS.
 * Endpoints come from the SDK's own configuration (AWS_ENDPOINT_URL_<SERVICE>),
 * which is how the sandbox is reached; nothing here knows about the sandbox.
 */
import { createHash } from "node:crypto";
import {
  GetAccountAuthorizationDetailsCommand,
  type GetAccountAuthorizationDetailsCommandOutput,
  IAMClient,
} from "@aws-sdk/client-iam";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import {
  GetAutomationExecutionCommand,
  type GetAutomationExecutionCommandOutput,
  GetDocumentCommand,
  SSMClient,
  StartAutomationExecutionCommand,
} from "@aws-sdk/client-ssm";
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { parse as parseYaml } from "yaml";
import { SNS_SUBJECT_MAX } from "../domain/notifications.js";
import { type AwsClock, observeAwsTime } from "./aws-clock.js";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Adaptive retry backs off on throttling across all calls of one client. */
const RETRY = { maxAttempts: 6, retryMode: "adaptive" } as const;

export interface AwsClients {
  ssm: SSMClient;
  iam: IAMClient;
  sns: SNSClient;
}

/** `clock`, when given, learns AWS's time from every response of these clients (aws-clock.ts). */
export function createClients(region: string, credentials: AwsCredentials | RoleSession, clock?: AwsClock): AwsClients {
  const common = { region, credentials, ...RETRY };
  const clients = { ssm: new SSMClient(common), iam: new IAMClient(common), sns: new SNSClient(common) };
  if (clock) for (const client of Object.values(clients)) observeAwsTime(client, clock);
  return clients;
}

/**
 * Exchanges the job's OIDC token for role credentials. AssumeRoleWithWebIdentity
 * is unsigned, so no ambient credentials are needed (or used).
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
 */
export async function assumeRoleWithWebIdentity(input: {
  region: string;
  roleArn: string;
  webIdentityToken: string;
  sessionName: string;
  /** 900 up to the role's MaxSessionDuration (AssumeRoleWithWebIdentity `DurationSeconds`). */
  durationSeconds: number;
  /** Learns AWS's time from the STS response (aws-clock.ts). */
  clock?: AwsClock;
}): Promise<AwsCredentials> {
  const sts = new STSClient({
    region: input.region,
    ...RETRY,
    // Unsigned call: never pick up credentials from the environment.
    credentials: { accessKeyId: "", secretAccessKey: "" },
    signer: { sign: async (request) => request },
  });
  if (input.clock) observeAwsTime(sts, input.clock);
  const out = await sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: input.roleArn,
      RoleSessionName: input.sessionName,
      WebIdentityToken: input.webIdentityToken,
      DurationSeconds: input.durationSeconds,
    }),
  );
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) {
    throw new Error(`AssumeRoleWithWebIdentity for ${input.roleArn} returned no credentials`);
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
    ...(c.Expiration ? { expiration: c.Expiration } : {}),
  };
}

/**
 * What a run asks beyond its longest wait (`timeout-seconds`): reading the PR
 * and IAM, starting executions, notifications and the report.
 */
export const SESSION_MARGIN_SECONDS = 900;

/**
 * The role session a run asks for: its wait plus margin, within what
 * AssumeRoleWithWebIdentity accepts (900 s to 12 h). With `timeout-seconds` at
 * its maximum, 3,600, that is 4,500 s; the grant and revoke roles'
 * MaxSessionDuration (7,200 s in infra/template.yaml) allows it.
 */
export function sessionSecondsFor(timeoutSeconds: number): number {
  return Math.min(43_200, Math.max(900, Math.ceil(timeoutSeconds) + SESSION_MARGIN_SECONDS));
}

/** What every role accepts: AssumeRoleWithWebIdentity's default, and the smallest MaxSessionDuration IAM allows. */
const ALWAYS_ALLOWED_SESSION_SECONDS = 3600;

/**
 * A session is renewed once less than this is left of it. The AWS SDK asks its
 * credential provider again when less than 5 minutes are left; renewing a
 * minute earlier than that makes the SDK's question always find fresh ones.
 */
export const RENEW_BEFORE_MS = 6 * 60_000;

/**
 * A role session that outlives one set of credentials: an AWS SDK credential
 * provider that assumes the role again (with a new OIDC token) before the
 * current credentials run out. The SDK clients call it for every request and
 * only get new credentials when the old ones are near their end.
 */
export type RoleSession = () => Promise<AwsCredentials & { expiration: Date }>;

/**
 * Assumes `roleArn` through the job's OIDC token for `durationSeconds`, and
 * returns a RoleSession that renews it. The first assumption happens here, so
 * a refusal (trust policy, token) is thrown at once, as before.
 *
 * When the role's MaxSessionDuration is below `durationSeconds` (a stack
 * deployed before the grant and revoke roles allowed 7,200 s), STS refuses
 * with a ValidationError; the session then asks for 3,600 s, which every role
 * allows, says so through `onShortSession`, and relies on renewal.
 *
 * Lifetimes are measured on this process's clock from the moment of the
 * request, not read from STS's `Expiration`: a runner clock that is off by
 * minutes must not make a session look longer than it is.
 */
export async function openRoleSession(input: {
  region: string;
  roleArn: string;
  sessionName: string;
  durationSeconds: number;
  /** A fresh OIDC token of the job (a renewal needs a new one: GitHub's expire after minutes). */
  webIdentityToken: () => Promise<string>;
  now?: () => number;
  onShortSession?: (message: string) => void;
  /** Learns AWS's time from the STS responses (aws-clock.ts). */
  clock?: AwsClock;
}): Promise<RoleSession> {
  const now = input.now ?? Date.now;
  let seconds = input.durationSeconds;
  const assume = async (): Promise<AwsCredentials & { expiration: Date }> => {
    const requestedAt = now();
    const token = await input.webIdentityToken();
    let credentials: AwsCredentials;
    try {
      credentials = await assumeRoleWithWebIdentity({ ...input, webIdentityToken: token, durationSeconds: seconds });
    } catch (error) {
      const e = error as { name?: string; message?: string };
      if (
        seconds <= ALWAYS_ALLOWED_SESSION_SECONDS ||
        e.name !== "ValidationError" ||
        !/MaxSessionDuration/.test(e.message ?? "")
      ) {
        throw error;
      }
      input.onShortSession?.(
        `${input.roleArn} does not allow a ${seconds}-second session (its MaxSessionDuration is lower; update the Elevate stack, which sets 7200): using ${ALWAYS_ALLOWED_SESSION_SECONDS}-second sessions, renewed before they expire`,
      );
      seconds = ALWAYS_ALLOWED_SESSION_SECONDS;
      credentials = await assumeRoleWithWebIdentity({ ...input, webIdentityToken: token, durationSeconds: seconds });
    }
    return { ...credentials, expiration: new Date(requestedAt + seconds * 1000) };
  };
  let current = await assume();
  let renewing: Promise<AwsCredentials & { expiration: Date }> | undefined;
  return async () => {
    if (current.expiration.getTime() - now() > RENEW_BEFORE_MS) return current;
    // One renewal at a time, however many clients ask at once.
    renewing ??= assume().finally(() => {
      renewing = undefined;
    });
    current = await renewing;
    return current;
  };
}

/**
 * SSM's ClientToken must be a UUID. Deriving it from the request id and the
 * merge commit makes a re-run, or two racing runs, start the same execution
 * (docs/threat-model.md invariant 4).
 */
export function automationClientToken(...parts: string[]): string {
  const h = createHash("sha256").update(parts.join("\n")).digest("hex");
  // Shape it as an RFC 4122 name-based UUID (version 5 bits, variant 10xx).
  const variant = ((Number.parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The runbook version every execution runs: the newest one. The stack updates
 * its runbooks with `UpdateMethod: NewVersion`, which adds a version;
 * CloudFormation documents that it also makes that version the default, but
 * that has been reported not to happen in every case, and an execution started
 * without DocumentVersion runs the default. `$LATEST` is one of the values the
 * StartAutomationExecution API accepts (pattern `([$]LATEST|[$]DEFAULT|^[1-9][0-9]*$)`),
 * so asking for it explicitly runs what the stack last deployed either way.
 * The grant and revoke role policies allow `automation-definition/<name>:*`,
 * which covers it. (docs/infra.md, "Updating the stack".)
 */
export const RUNBOOK_VERSION = "$LATEST";

/**
 * The content of the runbook version executions run (`$LATEST`), parsed from
 * JSON (how CloudFormation stores an object Content) or YAML.
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetDocument.html
 */
export async function readDocumentContent(ssm: SSMClient, name: string): Promise<unknown> {
  const out = await ssm.send(new GetDocumentCommand({ Name: name, DocumentVersion: RUNBOOK_VERSION }));
  if (out.Content === undefined) throw new Error(`GetDocument of ${name} returned no content`);
  return parseYaml(out.Content);
}

export async function startAutomation(
  ssm: SSMClient,
  input: { documentName: string; parameters: Record<string, string>; clientToken: string },
): Promise<string> {
  const out = await ssm.send(
    new StartAutomationExecutionCommand({
      DocumentName: input.documentName,
      DocumentVersion: RUNBOOK_VERSION,
      Parameters: Object.fromEntries(Object.entries(input.parameters).map(([k, v]) => [k, [v]])),
      ClientToken: input.clientToken,
    }),
  );
  if (!out.AutomationExecutionId) throw new Error(`StartAutomationExecution of ${input.documentName} returned no id`);
  return out.AutomationExecutionId;
}

/** Statuses of an execution that ended without doing its work. */
export const FAILED_AUTOMATION_STATUSES: ReadonlySet<string> = new Set([
  "Failed",
  "TimedOut",
  "Cancelled",
  "CompletedWithFailure",
  "Rejected",
  "Exited",
]);

/**
 * An execution that started more than this before our StartAutomationExecution
 * call belongs to an earlier run (a fresh one is seconds old at most).
 */
export const EARLIER_RUN_SLACK_MS = 60_000;

/**
 * Starts (or joins) an execution under the ClientToken of attempt 0. SSM answers
 * a repeated token with the execution it already started, so a re-run or a
 * racing run joins it (docs/threat-model.md invariant 4). But an execution that failed in
 * an earlier run would then be reported failed for ever, so when the token's
 * execution already failed before this call, the next attempt's token is used,
 * with the same parameters. `exhausted`: every attempt up to `maxAttempts` had
 * failed in an earlier run; `executionId` is then the last of them.
 */
export async function startAutomationPastEarlierFailures(
  ssm: SSMClient,
  input: {
    documentName: string;
    parameters: Record<string, string>;
    clientToken: (attempt: number) => string;
    maxAttempts: number;
    /** The run's clock, in ms since the epoch. */
    now: () => number;
    /** Told when an attempt is skipped. */
    onSkip?: (executionId: string, attempt: number, status: string) => void;
  },
): Promise<{ executionId: string; attempt: number; exhausted: boolean }> {
  let executionId = "";
  for (let attempt = 0; attempt < input.maxAttempts; attempt++) {
    const calledAt = input.now();
    executionId = await startAutomation(ssm, {
      documentName: input.documentName,
      parameters: input.parameters,
      clientToken: input.clientToken(attempt),
    });
    const out = await ssm.send(new GetAutomationExecutionCommand({ AutomationExecutionId: executionId }));
    const status = out.AutomationExecution?.AutomationExecutionStatus ?? "Unknown";
    const startedAt = out.AutomationExecution?.ExecutionStartTime?.getTime();
    const failedEarlier =
      FAILED_AUTOMATION_STATUSES.has(status) && startedAt !== undefined && startedAt < calledAt - EARLIER_RUN_SLACK_MS;
    if (!failedEarlier) return { executionId, attempt, exhausted: false };
    input.onSkip?.(executionId, attempt, status);
  }
  return { executionId, attempt: input.maxAttempts - 1, exhausted: true };
}

/** Statuses after which an execution never changes again. */
const TERMINAL = new Set(["Success", "CompletedWithSuccess", ...FAILED_AUTOMATION_STATUSES]);

export interface AutomationResult {
  executionId: string;
  status: string;
  /** Only `Success` is success (docs/threat-model.md invariant 5). */
  succeeded: boolean;
  failureMessage?: string;
  outputs: Record<string, string[]>;
  timedOutWaiting: boolean;
}

export interface WaitOptions {
  timeoutMs: number;
  /** First poll delay; grows by 1.5x up to `maxIntervalMs`. */
  initialIntervalMs?: number;
  maxIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Polls GetAutomationExecution until a terminal status. The interval is capped
 * at 1 s so completion is noticed within a second of the runbook finishing.
 * Statuses we do not know are treated as still running until the timeout, and
 * a timeout is a failure: only `Success` is success.
 */
export async function waitForAutomation(
  ssm: SSMClient,
  executionId: string,
  options: WaitOptions,
): Promise<AutomationResult> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  let interval = options.initialIntervalMs ?? 100;
  const maxInterval = options.maxIntervalMs ?? 1000;
  let last: GetAutomationExecutionCommandOutput["AutomationExecution"];
  for (;;) {
    const out = await ssm.send(new GetAutomationExecutionCommand({ AutomationExecutionId: executionId }));
    last = out.AutomationExecution;
    const status = last?.AutomationExecutionStatus ?? "Unknown";
    if (TERMINAL.has(status)) {
      return {
        executionId,
        status,
        succeeded: status === "Success",
        ...(last?.FailureMessage ? { failureMessage: last.FailureMessage } : {}),
        outputs: (last?.Outputs ?? {}) as Record<string, string[]>,
        timedOutWaiting: false,
      };
    }
    const remaining = deadline - now();
    if (remaining <= 0) {
      return {
        executionId,
        status,
        succeeded: false,
        failureMessage: `still ${status} after ${Math.round(options.timeoutMs / 1000)} s; see the execution in the SSM console`,
        outputs: {},
        timedOutWaiting: true,
      };
    }
    await sleep(Math.min(interval, remaining));
    interval = Math.min(maxInterval, Math.ceil(interval * 1.5));
  }
}

export type UserDetail = NonNullable<GetAccountAuthorizationDetailsCommandOutput["UserDetailList"]>[number];
export type RoleDetail = NonNullable<GetAccountAuthorizationDetailsCommandOutput["RoleDetailList"]>[number];

/**
 * The whole account's users (and optionally roles) with their inline policies,
 * in ⌈n / 1000⌉ calls: GetAccountAuthorizationDetails returns inline policy
 * documents with each entity, unlike ListUsers + ListUserPolicies + GetUserPolicy.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
 */
export async function readAuthorizationDetails(
  iam: IAMClient,
  filter: ("User" | "Role")[],
): Promise<{ users: UserDetail[]; roles: RoleDetail[]; calls: number }> {
  const users: UserDetail[] = [];
  const roles: RoleDetail[] = [];
  let marker: string | undefined;
  let calls = 0;
  do {
    const out = await iam.send(
      new GetAccountAuthorizationDetailsCommand({
        Filter: filter,
        MaxItems: 1000,
        ...(marker ? { Marker: marker } : {}),
      }),
    );
    calls++;
    users.push(...(out.UserDetailList ?? []));
    roles.push(...(out.RoleDetailList ?? []));
    marker = out.IsTruncated ? out.Marker : undefined;
  } while (marker);
  return { users, roles, calls };
}

export async function publishNotification(
  sns: SNSClient,
  input: { topicArn: string; subject: string; message: string },
): Promise<string | undefined> {
  // SNS subjects: ASCII, no line breaks or control characters, less than 100 characters.
  const subject = input.subject.replace(/[^\x20-\x7e]/g, "?").slice(0, SNS_SUBJECT_MAX);
  const out = await sns.send(
    new PublishCommand({ TopicArn: input.topicArn, Subject: subject, Message: input.message }),
  );
  return out.MessageId;
}
