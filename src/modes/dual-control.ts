/**
 * Dual control (AWS-side approval) for roles with `awsApproval`: the two calls
 * the grant and revoke modes make (docs/dual-control.md).
 *
 *  - grant mode calls `startApprovalGate` instead of starting Elevate-Grant and
 *    reports "waiting for AWS-side approval": no runner waits for a human.
 *  - every scheduled revoke run calls `resolvePendingApprovals`: for each gate
 *    that ended, an approved one gets its Elevate-Grant (window from the
 *    approval time), anything else is refused; the outcomes go on the PR.
 */
import {
  DescribeAutomationExecutionsCommand,
  type DescribeAutomationExecutionsCommandOutput,
  GetAutomationExecutionCommand,
  type SSMClient,
  StartAutomationExecutionCommand,
} from "@aws-sdk/client-ssm";
import {
  automationClientToken,
  EARLIER_RUN_SLACK_MS,
  RUNBOOK_VERSION,
  waitForAutomation,
} from "../adapters/aws-automation.js";
import type { EffectiveAwsApproval, ElevateConfig } from "../domain/config.js";
import {
  approvalTopicArn,
  type DualControlOutcome,
  GATE_DOCUMENT,
  GATE_STEP,
  GATE_TIMEOUT_SECONDS,
  gateParameters,
} from "../domain/dual-control.js";
import { type GateExecution, judgeGate } from "../domain/dual-control-judgement.js";
import { parseDuration } from "../domain/duration.js";
import { formatIamTime } from "../domain/grant-policy.js";
import type { GrantPlan } from "../domain/plan.js";

/**
 * The gate's ClientToken: one gate per request and merge, so a re-run or a
 * racing run joins the same gate (invariant 4). Distinct from the
 * Elevate-Grant token, which is the plain (requestId, mergeSha) one.
 */
export function gateClientToken(requestId: string, mergeSha: string): string {
  return automationClientToken(requestId, mergeSha, "aws-approval-gate");
}

/**
 * The Elevate-Grant ClientToken for an approved gate: the same token grant mode
 * uses for a role without awsApproval (docs/threat-model.md invariant 4), so one request
 * and merge can reach Elevate-Grant at most once, whichever path it takes; a
 * second start with another window fails with IdempotentParameterMismatch
 * instead of moving the window.
 */
export function approvedGrantClientToken(requestId: string, mergeSha: string): string {
  return automationClientToken(requestId, mergeSha);
}

export interface StartedGate {
  executionId: string;
  /** The topic the approval request is published to. */
  topicArn: string;
}

/**
 * Starts (or joins) the AWS-side approval gate for one planned grant. Returns
 * at once: the gate waits in AWS (status Waiting) for the approvers.
 */
export async function startApprovalGate(
  ssm: SSMClient,
  config: ElevateConfig,
  input: { plan: GrantPlan; approval: EffectiveAwsApproval; prNumber: number; mergeSha: string; document?: string },
): Promise<StartedGate> {
  const parameters = gateParameters(config, input);
  const out = await ssm.send(
    new StartAutomationExecutionCommand({
      DocumentName: input.document ?? GATE_DOCUMENT,
      DocumentVersion: RUNBOOK_VERSION,
      Parameters: parameters,
      ClientToken: gateClientToken(input.plan.requestId, input.mergeSha),
    }),
  );
  if (!out.AutomationExecutionId) throw new Error(`StartAutomationExecution of ${GATE_DOCUMENT} returned no id`);
  return { executionId: out.AutomationExecutionId, topicArn: approvalTopicArn(config, input.approval) };
}

export interface ResolveOptions {
  now: Date;
  /** Request ids whose files were deleted (early revoke): an approved gate for them grants nothing. */
  revokedRequestIds?: ReadonlySet<string>;
  /** How long to wait for each Elevate-Grant execution. */
  timeoutMs: number;
  /** Gates started longer ago than this are not looked at; default `defaultLookbackMs(config)`. */
  lookbackMs?: number;
  document?: string;
  grantDocument?: string;
  /** For tests: the poll sleep and clock of waitForAutomation. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A gate started longer ago than the gate's timeout plus the longest role
 * window plus a day can no longer grant anything, and its outcome has been
 * reported by earlier runs.
 */
export function defaultLookbackMs(config: ElevateConfig): number {
  let longest = 0;
  for (const role of Object.values(config.roles)) {
    const d = parseDuration(role.maxDuration ?? config.defaults?.maxDuration ?? "1h");
    if (d.ok) longest = Math.max(longest, d.ms);
  }
  return GATE_TIMEOUT_SECONDS * 1000 + longest + 86_400_000;
}

/**
 * Resolves every gate of the last `lookbackMs`: lists the gate executions
 * (DescribeAutomationExecutions by document name), reads each one
 * (GetAutomationExecution), judges it, and for an approved one starts
 * Elevate-Grant with the window fixed at the approval time. Idempotent: the
 * Elevate-Grant ClientToken derives from the request and merge, and the window
 * from the recorded approval time, so a second run gets the same execution back
 * (`newlyResolved: false`) and never a second grant or a longer window.
 *
 * Needs (revoke role): ssm:DescribeAutomationExecutions, ssm:GetAutomationExecution,
 * ssm:StartAutomationExecution on Elevate-Grant, iam:PassRole on the automation role.
 */
export async function resolvePendingApprovals(
  ssm: SSMClient,
  config: ElevateConfig,
  options: ResolveOptions,
): Promise<DualControlOutcome[]> {
  const document = options.document ?? GATE_DOCUMENT;
  const since = new Date(options.now.getTime() - (options.lookbackMs ?? defaultLookbackMs(config)));
  const ids = await listGateExecutions(ssm, document, since);
  const outcomes: DualControlOutcome[] = [];
  for (const id of ids) {
    const gate = await readGate(ssm, id);
    const verdict = judgeGate(gate, {
      config,
      now: options.now,
      ...(options.revokedRequestIds ? { revokedRequestIds: options.revokedRequestIds } : {}),
    });
    const base = {
      gateExecutionId: id,
      requestId: verdict.request?.requestId,
      prNumber: verdict.request?.prNumber,
      ...(verdict.request ? { iamUser: verdict.request.iamUser, roleArn: verdict.request.roleArn } : {}),
    };
    switch (verdict.kind) {
      case "pending":
        outcomes.push({ ...base, status: "pending", message: `waiting for AWS-side approval (${verdict.status})` });
        break;
      case "untrusted":
        outcomes.push({ ...base, status: "untrusted", message: verdict.message });
        break;
      case "refused":
        outcomes.push({ ...base, status: "refused", message: verdict.message, decisions: verdict.decisions });
        break;
      case "approved":
        outcomes.push(await finishApprovedGrant(ssm, config, { ...options, gateExecutionId: id, verdict, base }));
        break;
    }
  }
  return outcomes;
}

async function listGateExecutions(ssm: SSMClient, document: string, since: Date): Promise<string[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const out: DescribeAutomationExecutionsCommandOutput = await ssm.send(
      new DescribeAutomationExecutionsCommand({
        Filters: [
          { Key: "DocumentNamePrefix", Values: [document] },
          // Whole seconds (truncated, so the window only widens): the filter's value
          // format is not documented beyond a time, and the sandbox accepts only this one.
          { Key: "StartTimeAfter", Values: [formatIamTime(since)] },
        ],
        MaxResults: 50,
        ...(nextToken ? { NextToken: nextToken } : {}),
      }),
    );
    for (const e of out.AutomationExecutionMetadataList ?? []) {
      // The filter is a prefix: keep the gate document itself only.
      if (e.DocumentName === document && e.AutomationExecutionId) ids.push(e.AutomationExecutionId);
    }
    nextToken = out.NextToken;
  } while (nextToken);
  // Oldest first, so PR reports come in the order the gates were started.
  return ids.reverse();
}

async function readGate(ssm: SSMClient, executionId: string): Promise<GateExecution> {
  const out = await ssm.send(new GetAutomationExecutionCommand({ AutomationExecutionId: executionId }));
  const e = out.AutomationExecution;
  const step = e?.StepExecutions?.find((s) => s.StepName === GATE_STEP);
  return {
    executionId,
    documentName: e?.DocumentName ?? "",
    status: e?.AutomationExecutionStatus ?? "Unknown",
    executedBy: e?.ExecutedBy,
    parameters: (e?.Parameters ?? {}) as Record<string, string[]>,
    approveStep: step
      ? {
          status: step.StepStatus ?? "Unknown",
          endTime: step.ExecutionEndTime,
          outputs: (step.Outputs ?? {}) as Record<string, string[]>,
          failureMessage: step.FailureMessage,
        }
      : undefined,
    failureMessage: e?.FailureMessage,
  };
}

async function finishApprovedGrant(
  ssm: SSMClient,
  config: ElevateConfig,
  input: ResolveOptions & {
    gateExecutionId: string;
    verdict: Extract<ReturnType<typeof judgeGate>, { kind: "approved" }>;
    base: Pick<DualControlOutcome, "gateExecutionId" | "requestId" | "prNumber" | "iamUser" | "roleArn">;
  },
): Promise<DualControlOutcome> {
  const { request, window, approvedAt, decisions } = input.verdict;
  const notBefore = formatIamTime(window.notBefore);
  const notAfter = formatIamTime(window.notAfter);
  const common = { ...input.base, approvedAt: formatIamTime(approvedAt), notBefore, notAfter, decisions };
  let executionId: string;
  try {
    const out = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: input.grantDocument ?? config.aws.grantDocument,
        DocumentVersion: RUNBOOK_VERSION,
        Parameters: {
          AutomationAssumeRole: [config.aws.automationRoleArn],
          RequestId: [request.requestId],
          UserName: [request.iamUser],
          RoleArn: [request.roleArn],
          NotBefore: [notBefore],
          NotAfter: [notAfter],
        },
        ClientToken: approvedGrantClientToken(request.requestId, request.mergeSha),
      }),
    );
    if (!out.AutomationExecutionId) throw new Error("StartAutomationExecution returned no id");
    executionId = out.AutomationExecutionId;
  } catch (error) {
    const e = error as { name?: string; message?: string };
    return {
      ...common,
      status: "failed",
      message: `approved in AWS, but Elevate-Grant could not be started: ${e.name ?? "Error"}: ${e.message ?? String(error)}`,
    };
  }
  const result = await waitForAutomation(ssm, executionId, {
    timeoutMs: input.timeoutMs,
    ...(input.sleep ? { sleep: input.sleep } : {}),
  });
  const started = await ssm.send(new GetAutomationExecutionCommand({ AutomationExecutionId: executionId }));
  const startedAt = started.AutomationExecution?.ExecutionStartTime?.getTime();
  const newlyResolved = startedAt === undefined || startedAt >= input.now.getTime() - EARLIER_RUN_SLACK_MS;
  if (result.succeeded) {
    return {
      ...common,
      status: "granted",
      message: `granted ${request.roleArn} to ${request.iamUser} from ${notBefore} until ${notAfter}`,
      grantExecutionId: executionId,
      newlyResolved,
    };
  }
  return {
    ...common,
    status: "failed",
    message: `approved in AWS, but Elevate-Grant ${executionId} ended ${result.status}${result.failureMessage ? `: ${result.failureMessage}` : ""}`,
    grantExecutionId: executionId,
    newlyResolved,
  };
}
