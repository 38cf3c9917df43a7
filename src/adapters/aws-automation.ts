/**
 * SSM Automation: starting the runbooks (idempotently, by ClientToken), reading
 * the runbook version executions run, and waiting for an execution to end.
 */
import { createHash } from "node:crypto";
import {
  DescribeAutomationExecutionsCommand,
  GetAutomationExecutionCommand,
  type GetAutomationExecutionCommandOutput,
  GetDocumentCommand,
  SSMClient,
  StartAutomationExecutionCommand,
} from "@aws-sdk/client-ssm";
import { parse as parseYaml } from "yaml";
import { formatIamTime } from "../domain/grant-policy.js";
import { mapLimited } from "../domain/map-limited.js";
import { AWS_RETRY, type AwsCredentials, type RoleSession } from "./aws-session.js";

const ssmClients = new WeakMap<object, Map<string, SSMClient>>();

/**
 * The SSM client for `region` with `credentials`, one per credentials object
 * (a grant reads the ceiling and starts its runbooks with one role session,
 * and making an SDK client resolves its whole configuration). For a run that
 * needs SSM alone: this module does not load the IAM and SNS clients that
 * createClients (aws.ts) can make.
 */
export function ssmClientFor(region: string, credentials: AwsCredentials | RoleSession): SSMClient {
  const byRegion = ssmClients.get(credentials) ?? new Map<string, SSMClient>();
  ssmClients.set(credentials, byRegion);
  const made = byRegion.get(region) ?? new SSMClient({ region, credentials, ...AWS_RETRY });
  byRegion.set(region, made);
  return made;
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
 * JSON (how CloudFormation stores an object Content) or YAML. GetDocument
 * returns JSON unless asked otherwise (`DocumentFormat`, "JSON is the
 * default"), so JSON is parsed with JSON.parse: the YAML parser takes far
 * longer on a runbook, and the grant reads one before its first start.
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetDocument.html
 */
export async function readDocumentContent(ssm: SSMClient, name: string): Promise<unknown> {
  const out = await ssm.send(new GetDocumentCommand({ Name: name, DocumentVersion: RUNBOOK_VERSION }));
  if (out.Content === undefined) throw new Error(`GetDocument of ${name} returned no content`);
  if (out.DocumentFormat !== "YAML" && /^\s*[{[]/.test(out.Content)) {
    try {
      return JSON.parse(out.Content) as unknown;
    } catch {
      // Not JSON after all (YAML flow style): the YAML parser reads it below.
    }
  }
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

/** One successful execution of a runbook, as read back by the revoker. */
export interface SucceededExecution {
  executionId: string;
  /** The value of a parameter given exactly once; anything else is undefined. */
  parameter(name: string): string | undefined;
  /** ms since the epoch; 0 when SSM did not say. */
  startedAt: number;
}

/**
 * The successful executions of `document` started since `since`, in listing order:
 * one DescribeAutomationExecutions listing (50 a page) and one GetAutomationExecution
 * each, `inFlight` at a time (the listing has no parameters). The name filter is a
 * prefix, so only the document itself is kept, and only Success granted anything.
 * Needs ssm:DescribeAutomationExecutions and ssm:GetAutomationExecution.
 */
export async function readSucceededExecutions(
  ssm: SSMClient,
  document: string,
  since: Date,
  inFlight: number,
): Promise<SucceededExecution[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await ssm.send(
      new DescribeAutomationExecutionsCommand({
        Filters: [
          { Key: "DocumentNamePrefix", Values: [document] },
          { Key: "ExecutionStatus", Values: ["Success"] },
          // Whole seconds, as dual-control.ts passes it (truncated: the window only widens).
          { Key: "StartTimeAfter", Values: [formatIamTime(since)] },
        ],
        MaxResults: 50,
        ...(nextToken ? { NextToken: nextToken } : {}),
      }),
    );
    for (const e of out.AutomationExecutionMetadataList ?? []) {
      if (e.DocumentName === document && e.AutomationExecutionStatus === "Success" && e.AutomationExecutionId) {
        ids.push(e.AutomationExecutionId);
      }
    }
    nextToken = out.NextToken;
  } while (nextToken);
  const executions = await mapLimited(ids, inFlight, async (executionId) => {
    const out = await ssm.send(new GetAutomationExecutionCommand({ AutomationExecutionId: executionId }));
    return { executionId, e: out.AutomationExecution };
  });
  const succeeded: SucceededExecution[] = [];
  for (const { executionId, e } of executions) {
    if (e?.DocumentName !== document || e.AutomationExecutionStatus !== "Success") continue;
    const p = (e.Parameters ?? {}) as Record<string, string[] | undefined>;
    succeeded.push({
      executionId,
      parameter: (name) => (p[name]?.length === 1 ? p[name]?.[0] : undefined),
      startedAt: e.ExecutionStartTime?.getTime() ?? 0,
    });
  }
  return succeeded;
}
