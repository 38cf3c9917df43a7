/**
 * The SSM Automation engine: runs a started execution step by step,
 * asynchronously (callers poll GetAutomationExecution, as with SSM). Each
 * `aws:executeAwsApi` step calls the sandbox over HTTP with the real AWS SDK,
 * signed with the credentials of the document's `assumeRole` (minted for
 * ssm.amazonaws.com after the role's trust policy allows it), so a runbook's
 * calls are authorized exactly like any other caller's.
 * Semantics: "Running automations", "Automation actions reference"
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-actions.html).
 */

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import {
  APPROVE_DEFAULT_TIMEOUT_SECONDS,
  type AutomationDocument,
  approveInputProblem,
  EXECUTE_SCRIPT_MAX_SECONDS,
  executeScriptInputProblem,
  interpolate,
  type ParameterValue,
  type StepSpec,
} from "./automation-document.js";
import type { SandboxCore } from "./context.js";
import { AwsServiceError } from "./errors.js";
import type { IssuedCredential, Principal } from "./iam-store.js";
import { SDK_MODULES } from "./sdk-clients.js";
import { assumeRoleAsService } from "./sts.js";

export type AutomationStatus =
  | "Pending"
  | "InProgress"
  | "Waiting"
  | "Success"
  | "TimedOut"
  | "Cancelling"
  | "Cancelled"
  | "Failed";

export interface StepExecutionRecord {
  StepName: string;
  Action: string;
  OnFailure: string;
  MaxAttempts: number;
  ExecutionStartTime?: Date;
  ExecutionEndTime?: Date;
  StepStatus: AutomationStatus;
  Inputs?: Record<string, string>;
  Outputs?: Record<string, string[]>;
  Response?: string;
  FailureMessage?: string;
  FailureDetails?: { FailureStage: string; FailureType: string; Details: Record<string, string[]> };
  StepExecutionId: string;
  IsEnd: boolean;
  NextStep?: string;
  IsCritical: boolean;
}

export interface AutomationExecutionRecord {
  id: string;
  documentName: string;
  documentVersion: string;
  document: AutomationDocument;
  accountId: string;
  status: AutomationStatus;
  startTime: Date;
  endTime: Date | undefined;
  /** Parameters as StartAutomationExecution received them (after defaults), lists of strings. */
  parameters: Record<string, string[]>;
  resolved: Map<string, ParameterValue>;
  outputs: Record<string, string[]>;
  steps: StepExecutionRecord[];
  failureMessage: string | undefined;
  executedBy: string;
  /** Credentials the caller signed StartAutomationExecution with; used when the document has no assumeRole. */
  callerCredential: IssuedCredential;
  clientToken: string | undefined;
  /** Canonical request used for ClientToken idempotency. */
  requestFingerprint: string;
  stopRequested: boolean;
  currentStepName: string | undefined;
  currentAction: string | undefined;
  /**
   * Resolves when the engine has nothing left to do without outside input: the
   * execution ended, or an aws:approve step waits for signals. A signal that
   * resumes the execution replaces it with a fresh promise.
   */
  done: Promise<void>;
  /** The aws:approve step waiting for decisions, while there is one. */
  approval?: PendingApproval | undefined;
  /** "CrossAccount" for the parent of a multi-account execution (sandbox/aws/multi-account.ts). */
  automationType?: "Local" | "CrossAccount" | undefined;
  targetLocations?: import("./multi-account.js").TargetLocation[] | undefined;
  /**
   * A child of a multi-account execution: mints a fresh session of the target account's
   * execution role (trust evaluated again), as Automation does for every step; without
   * it a long wait would outlive the one-hour session it started with.
   */
  callerSource?: (() => Promise<IssuedCredential>) | undefined;
  /** The multi-account parent or aws:executeAutomation primary that started this one. */
  parentAutomationExecutionId?: string | undefined;
  childExecutionIds?: string[] | undefined;
}

/** One approver's decision, as aws:approve reports it in ApproverDecisions. */
export interface ApproverDecision {
  Approver: string;
  Decision: "Approve" | "Reject";
  ApprovalDecisionTime: string;
  Comment?: string;
}

/** An aws:approve step that waits for SendAutomationSignal. */
export interface PendingApproval {
  stepName: string;
  approvers: string[];
  minRequired: number;
  /** When the step times out (ExecutionStartTime + timeoutSeconds). */
  deadline: Date;
  decisions: ApproverDecision[];
  /** Indexes into `approvers` of the entries that approved: each entry counts once. */
  approvedEntries: Set<number>;
  /** The step's record, whose Outputs show the decisions so far. */
  record: StepExecutionRecord;
  settle(outcome: ApprovalOutcome): void;
}

type ApprovalOutcome =
  | { kind: "Approved"; at: Date }
  | { kind: "Rejected"; at: Date; by: string }
  | { kind: "TimedOut"; at: Date }
  | { kind: "Cancelled"; at: Date };

export interface EngineDeps {
  core: SandboxCore;
  stepLatencyMs: () => number;
  /** StartAutomationExecution as `credential`'s principal (aws:executeAutomation). */
  startAutomation?: (input: {
    credential: IssuedCredential;
    body: Record<string, unknown>;
    parentAutomationExecutionId: string;
  }) => Promise<AutomationExecutionRecord>;
}

class StepFailure extends Error {
  constructor(
    message: string,
    readonly stage: "InputValidation" | "Invocation" | "PostVerification",
    readonly type: "Action" | "Permission" | "Throttling" | "Verification" | "Internal",
    readonly details: Record<string, string[]> = {},
    /** The step's terminal status: a timed-out or cancelled step is not "Failed". */
    readonly stepStatus: "Failed" | "TimedOut" | "Cancelled" = "Failed",
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** JSONPath subset used by Automation output selectors: `$`, `.Field`, `[n]`. */
export function selectPath(value: unknown, selector: string): unknown {
  if (!selector.startsWith("$")) throw new Error(`Selector '${selector}' must start with $`);
  let current: unknown = value;
  const re = /\.([A-Za-z0-9_]+)|\[(\d+)\]/g;
  const rest = selector.slice(1);
  let consumed = 0;
  for (const m of rest.matchAll(re)) {
    if (m.index !== consumed) throw new Error(`Selector '${selector}' is not supported`);
    consumed += m[0].length;
    if (current === null || current === undefined) return undefined;
    current = m[1] !== undefined ? (current as Record<string, unknown>)[m[1]] : (current as unknown[])[Number(m[2])];
  }
  if (consumed !== rest.length) throw new Error(`Selector '${selector}' is not supported`);
  return current;
}

function outputValue(raw: unknown, type: string): ParameterValue {
  switch (type) {
    case "String":
      if (raw instanceof Date) return raw.toISOString();
      if (typeof raw === "object" && raw !== null) return JSON.stringify(raw);
      return String(raw);
    case "Integer":
      if (typeof raw !== "number" || !Number.isInteger(raw))
        throw new Error(`expected an Integer, got ${JSON.stringify(raw)}`);
      return raw;
    case "Boolean":
      if (typeof raw !== "boolean") throw new Error(`expected a Boolean, got ${JSON.stringify(raw)}`);
      return raw;
    case "StringList":
      if (!Array.isArray(raw)) throw new Error(`expected a StringList, got ${JSON.stringify(raw)}`);
      return raw.map((v) => String(v));
    case "StringMap":
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error("expected a StringMap");
      return raw as Record<string, unknown>;
    case "MapList":
      if (!Array.isArray(raw)) throw new Error("expected a MapList");
      return raw as Record<string, unknown>[];
    default:
      throw new Error(`unknown output type ${type}`);
  }
}

function asStrings(v: ParameterValue): string[] {
  if (Array.isArray(v)) return v.map((x) => (typeof x === "string" ? x : JSON.stringify(x)));
  if (typeof v === "object") return [JSON.stringify(v)];
  return [String(v)];
}

/** The idle signal behind each execution's `done` (see AutomationExecutionRecord.done). */
const idleSignals = new WeakMap<AutomationExecutionRecord, () => void>();

function markBusy(exec: AutomationExecutionRecord): void {
  exec.done = new Promise<void>((resolve) => idleSignals.set(exec, resolve));
}

function markIdle(exec: AutomationExecutionRecord): void {
  idleSignals.get(exec)?.();
}

/** Starts the engine on a new execution; sets and returns `exec.done`. */
export function startEngine(exec: AutomationExecutionRecord, deps: EngineDeps): Promise<void> {
  markBusy(exec);
  setImmediate(() => {
    runExecution(exec, deps).then(
      () => markIdle(exec),
      (err: unknown) => {
        exec.status = "Failed";
        exec.failureMessage = `Internal sandbox error: ${(err as Error).message}`;
        exec.endTime = deps.core.clock.now();
        exec.approval = undefined;
        markIdle(exec);
      },
    );
  });
  return exec.done;
}

async function runExecution(exec: AutomationExecutionRecord, deps: EngineDeps): Promise<void> {
  const { core } = deps;
  const doc = exec.document;
  const variables = new Map<string, ParameterValue>(exec.resolved);
  variables.set("automation:EXECUTION_ID", exec.id);
  variables.set("automation:DOCUMENT_EXECUTION_ID", exec.id);
  variables.set("global:ACCOUNT_ID", exec.accountId);
  variables.set("global:REGION", core.region);
  variables.set("global:AWS_PARTITION", "aws");
  if (!exec.stopRequested) exec.status = "InProgress";

  let credential: IssuedCredential | undefined;
  let criticalFailure = false;
  let timedOut = false;
  let index = 0;
  while (index < doc.mainSteps.length) {
    if (exec.stopRequested) break;
    const step = doc.mainSteps[index]!;
    const now = core.clock.now();
    variables.set("global:DATE", now.toISOString().slice(0, 10));
    variables.set("global:DATE_TIME", now.toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "_"));
    const record: StepExecutionRecord = {
      StepName: step.name,
      Action: step.action,
      OnFailure: step.onFailure,
      MaxAttempts: step.maxAttempts,
      ExecutionStartTime: now,
      StepStatus: "InProgress",
      StepExecutionId: crypto.randomUUID(),
      IsEnd: step.isEnd,
      ...(step.nextStep ? { NextStep: step.nextStep } : {}),
      // "isCritical … If the onFailure property is set to Continue, the value defaults to false."
      IsCritical: step.isCritical ?? step.onFailure !== "Continue",
    };
    exec.steps.push(record);
    exec.currentStepName = step.name;
    exec.currentAction = step.action;
    const latency = deps.stepLatencyMs();
    if (latency > 0) await sleep(latency);

    let jumpTo: string | undefined;
    let failure: StepFailure | undefined;
    for (let attempt = 1; attempt <= step.maxAttempts; attempt++) {
      failure = undefined;
      try {
        // aws:executeScript runs with the same role: "the script … runs using the permissions of the
        // AutomationAssumeRole" (boto3 inside the script signs with it).
        if (
          (step.action === "aws:executeAwsApi" ||
            step.action === "aws:executeScript" ||
            step.action === "aws:executeAutomation") &&
          !credential
        ) {
          credential = await automationCredential(exec, deps);
        }
        if (step.action === "aws:approve") {
          await approve(exec, step, record, variables, deps);
          // The wait may outlast the service role session; later steps assume it again.
          credential = undefined;
        } else {
          jumpTo = await runStep(step, record, variables, credential, deps, exec);
          // So may a sleep (up to 7 days): the steps after it assume the role again.
          if (step.action === "aws:sleep") credential = undefined;
        }
        break;
      } catch (err) {
        failure =
          err instanceof StepFailure
            ? err
            : new StepFailure(`Internal sandbox error: ${(err as Error).message}`, "Invocation", "Internal");
      }
    }
    record.ExecutionEndTime ??= core.clock.now();
    if (failure?.stepStatus === "Cancelled") {
      record.StepStatus = "Cancelled";
      break;
    }
    if (failure) {
      record.StepStatus = failure.stepStatus;
      record.FailureMessage = failure.message;
      record.FailureDetails = { FailureStage: failure.stage, FailureType: failure.type, Details: failure.details };
      if (record.IsCritical) {
        criticalFailure = true;
        // "If the automation step reaches the timeout value before receiving all
        // required approval decisions, then the step and the automation stop
        // running and return a status of Timed Out." (aws:approve)
        timedOut = failure.stepStatus === "TimedOut";
        exec.failureMessage = `Step fails when it is ${failure.stage === "InputValidation" ? "validating inputs" : "executing"}. ${failure.message}. Please refer to Automation Service Troubleshooting Guide for more diagnosis details.`;
      }
      if (step.onFailure === "Abort") break;
      if (step.onFailure.startsWith("step:")) {
        index = doc.mainSteps.findIndex((s) => s.name === step.onFailure.slice(5));
        continue;
      }
      // Continue: fall through to the normal successor.
    } else {
      record.StepStatus = "Success";
    }
    if (step.isEnd) break;
    const next = jumpTo ?? step.nextStep;
    index = next !== undefined ? doc.mainSteps.findIndex((s) => s.name === next) : index + 1;
  }

  for (const name of doc.outputs) {
    const value = variables.get(name);
    if (value !== undefined) exec.outputs[name] = asStrings(value);
  }
  exec.currentStepName = undefined;
  exec.currentAction = undefined;
  exec.endTime = exec.steps.at(-1)?.ExecutionEndTime ?? core.clock.now();
  exec.status = exec.stopRequested ? "Cancelled" : criticalFailure ? (timedOut ? "TimedOut" : "Failed") : "Success";
}

// --- aws:approve --------------------------------------------------------------------------
// "aws:approve – Pause an automation for manual approval"
// https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-approve.html
// Statuses: "Understanding automation statuses" (Waiting: "The automation is waiting
// for input"; TimedOut: "A step or approval was not completed before the specified
// timeout period"; there is no Rejected status for an automation: a rejected step fails).
// https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-statuses.html

function approvalOutputs(pending: PendingApproval, status: "Approved" | "Rejected" | "Waiting") {
  return {
    ApprovalStatus: [status],
    // MapList output: one JSON object per decision.
    ApproverDecisions: pending.decisions.map((d) => JSON.stringify(d)),
  };
}

/**
 * Runs an aws:approve step: publishes the request to the NotificationArn topic,
 * then parks the execution in Waiting until SendAutomationSignal, a timeout or a
 * stop settles it. Resolves on approval; throws a StepFailure otherwise.
 */
async function approve(
  exec: AutomationExecutionRecord,
  step: StepSpec,
  record: StepExecutionRecord,
  variables: Map<string, ParameterValue>,
  deps: EngineDeps,
): Promise<void> {
  let inputs: Record<string, unknown>;
  try {
    inputs = interpolate(step.inputs, (n) => variables.get(n)) as Record<string, unknown>;
  } catch (err) {
    throw new StepFailure((err as Error).message, "InputValidation", "Action");
  }
  record.Inputs = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, JSON.stringify(v)]));
  const problem = approveInputProblem(inputs, true);
  if (problem) throw new StepFailure(`aws:approve ${problem}`, "InputValidation", "Action");
  const approvers = (inputs.Approvers as unknown[]).map(String);
  // "If you don't specify a value, the system defaults to one."
  const minRequired = inputs.MinRequiredApprovals === undefined ? 1 : Number(inputs.MinRequiredApprovals);
  const startedAt = record.ExecutionStartTime ?? deps.core.clock.now();
  const timeoutSeconds = step.timeoutSeconds ?? APPROVE_DEFAULT_TIMEOUT_SECONDS;

  if (typeof inputs.NotificationArn === "string") {
    await publishApprovalRequest(exec, step, inputs, approvers, minRequired, deps);
  }

  const outcome = await new Promise<ApprovalOutcome>((settle) => {
    const pending: PendingApproval = {
      stepName: step.name,
      approvers,
      minRequired,
      deadline: new Date(startedAt.getTime() + timeoutSeconds * 1000),
      decisions: [],
      approvedEntries: new Set(),
      record,
      settle: (o) => {
        if (exec.approval !== pending) return;
        exec.approval = undefined;
        // The engine has work again: callers waiting on `done` wait for the next idle point.
        markBusy(exec);
        record.Outputs = approvalOutputs(
          pending,
          o.kind === "Approved" ? "Approved" : o.kind === "Rejected" ? "Rejected" : "Waiting",
        );
        record.ExecutionEndTime = o.at;
        if (!exec.stopRequested) exec.status = "InProgress";
        settle(o);
      },
    };
    exec.approval = pending;
    record.StepStatus = "Waiting";
    record.Outputs = approvalOutputs(pending, "Waiting");
    if (!exec.stopRequested) exec.status = "Waiting";
    markIdle(exec);
  });
  const name = step.name;
  switch (outcome.kind) {
    case "Approved":
      for (const [k, v] of Object.entries(record.Outputs ?? {})) {
        variables.set(`${name}.${k}`, k === "ApprovalStatus" ? (v[0] as string) : v);
      }
      return;
    case "Rejected":
      throw new StepFailure(`Step ${name} was rejected by ${outcome.by}`, "Invocation", "Action", record.Outputs ?? {});
    case "TimedOut":
      throw new StepFailure(
        `Step ${name} timed out after ${timeoutSeconds} seconds without ${minRequired} approval(s)`,
        "Invocation",
        "Action",
        record.Outputs ?? {},
        "TimedOut",
      );
    case "Cancelled":
      throw new StepFailure(`Step ${name} was cancelled`, "Invocation", "Action", {}, "Cancelled");
  }
}

/**
 * "Automation sends a message to this topic letting principals know that they
 * must either approve or reject an Automation step." Published with the
 * runbook's service role (or the caller's credentials without one), so the
 * role needs sns:Publish on the topic, as AmazonSSMAutomationRole grants on
 * arn:aws:sns:*:*:Automation*. A failed publish fails the step: an approval
 * nobody is told about would only ever time out.
 */
async function publishApprovalRequest(
  exec: AutomationExecutionRecord,
  step: StepSpec,
  inputs: Record<string, unknown>,
  approvers: string[],
  minRequired: number,
  deps: EngineDeps,
): Promise<void> {
  const credential = await automationCredential(exec, deps);
  const client = new SNSClient({
    endpoint: deps.core.endpoint(),
    region: deps.core.region,
    // The engine runs inside AWS, on AWS's clock; the host's clock is not, so the SDK
    // must not correct for the skew it sees in the sandbox's Date header (it would then
    // retry every failed call once).
    systemClockOffset: deps.core.clock.now().getTime() - Date.now(),
    disableClockSkewCorrection: true,
    credentials: {
      accessKeyId: credential.accessKeyId,
      secretAccessKey: credential.secretAccessKey,
      ...(credential.sessionToken ? { sessionToken: credential.sessionToken } : {}),
    },
    maxAttempts: 3,
  });
  const message = [
    `Automation execution ${exec.id} of document ${exec.documentName} waits for approval at step ${step.name}.`,
    typeof inputs.Message === "string" ? `Message: ${inputs.Message}` : "",
    `Approvers (${minRequired} required): ${approvers.join(", ")}`,
    `Approve or reject: aws ssm send-automation-signal --automation-execution-id ${exec.id} --signal-type Approve|Reject --payload Comment="..."`,
  ]
    .filter((l) => l !== "")
    .join("\n");
  try {
    await client.send(
      new PublishCommand({
        TopicArn: inputs.NotificationArn as string,
        Subject: `Approval request for ${exec.documentName}`.slice(0, 100),
        Message: message,
      }),
    );
  } catch (err) {
    const e = err as { name?: string; message?: string };
    throw new StepFailure(
      `Approval notification to ${String(inputs.NotificationArn)} failed: ${e.name ?? "Error"}: ${e.message ?? ""}`,
      "Invocation",
      e.name && /Authorization|AccessDenied/.test(e.name) ? "Permission" : "Action",
    );
  } finally {
    client.destroy();
  }
}

/** Whether `principal` is the approver entry `entry` (user name, user ARN, role ARN, assumed-role ARN). */
function principalMatches(entry: string, principal: Principal): boolean {
  switch (principal.kind) {
    case "user":
      return entry === principal.arn || (!entry.startsWith("arn:") && entry === principal.user.userName);
    case "role-session":
      // A role ARN admits every session of the role; an assumed-role ARN exactly one session name.
      return entry === principal.role.arn || entry === principal.arn;
    default:
      return false;
  }
}

function signalError(message: string): AwsServiceError {
  // "InvalidAutomationSignalException: The signal isn't valid for the current Automation execution."
  return new AwsServiceError("InvalidAutomationSignalException", message, 400);
}

/**
 * Settles every waiting aws:approve step whose timeout has passed at `now`;
 * returns the executions it settled (await their `done` to see them finished).
 */
export function expireOverdueApprovals(
  executions: Iterable<AutomationExecutionRecord>,
  now: Date,
): AutomationExecutionRecord[] {
  const settled: AutomationExecutionRecord[] = [];
  for (const exec of executions) {
    const pending = exec.approval;
    if (pending && pending.deadline.getTime() <= now.getTime()) {
      pending.settle({ kind: "TimedOut", at: pending.deadline });
      settled.push(exec);
    }
  }
  return settled;
}

/** StopAutomationExecution on an execution waiting for approval ends the wait. */
export function cancelPendingApproval(exec: AutomationExecutionRecord, now: Date): boolean {
  if (!exec.approval) return false;
  exec.approval.settle({ kind: "Cancelled", at: now });
  return true;
}

/**
 * SendAutomationSignal with SignalType Approve or Reject. Only a principal the
 * step lists in Approvers may signal ("A list of AWS authenticated principals
 * who are able to either approve or reject the action"); the caller is the
 * SigV4-verified signer. Approvals count once per listed approver; one
 * rejection rejects the step. A second Approve by the same approver is refused
 * (it would not count); a Reject is always taken while the step waits.
 */
export function signalApproval(
  exec: AutomationExecutionRecord,
  input: { principal: Principal; signalType: string; payload: Record<string, string[]>; now: Date },
): void {
  const pending = exec.approval;
  if (!pending || exec.status !== "Waiting") {
    throw signalError(`Automation execution ${exec.id} is ${exec.status}, not waiting for an approval decision`);
  }
  if (input.signalType !== "Approve" && input.signalType !== "Reject") {
    throw signalError(
      `Signal ${input.signalType} is not valid for step ${pending.stepName} of ${exec.id}, which waits for Approve or Reject`,
    );
  }
  const unknownKeys = Object.keys(input.payload).filter((k) => k !== "Comment");
  if (unknownKeys.length > 0) {
    throw signalError(`Payload keys ${JSON.stringify(unknownKeys)} are not valid for ${input.signalType}; use Comment`);
  }
  const entry = pending.approvers.findIndex((a) => principalMatches(a, input.principal));
  if (entry < 0) {
    throw signalError(
      `${input.principal.arn} is not an approver of step ${pending.stepName} of automation execution ${exec.id}`,
    );
  }
  const comment = input.payload.Comment?.join("\n");
  if (input.signalType === "Approve" && pending.approvedEntries.has(entry)) {
    throw signalError(
      `${input.principal.arn} already decided on step ${pending.stepName} of ${exec.id}; each approver counts once`,
    );
  }
  pending.decisions.push({
    Approver: input.principal.arn,
    Decision: input.signalType,
    ApprovalDecisionTime: input.now.toISOString(),
    ...(comment !== undefined ? { Comment: comment } : {}),
  });
  if (input.signalType === "Reject") {
    pending.settle({ kind: "Rejected", at: input.now, by: input.principal.arn });
    return;
  }
  pending.approvedEntries.add(entry);
  if (pending.approvedEntries.size >= pending.minRequired) {
    pending.settle({ kind: "Approved", at: input.now });
    return;
  }
  pending.record.Outputs = approvalOutputs(pending, "Waiting");
}

async function automationCredential(exec: AutomationExecutionRecord, deps: EngineDeps): Promise<IssuedCredential> {
  const roleArn =
    exec.document.assumeRole === undefined
      ? undefined
      : interpolate(exec.document.assumeRole, (n) => exec.resolved.get(n));
  if (roleArn === undefined || roleArn === "") {
    if (!exec.callerSource) return exec.callerCredential;
    try {
      return await exec.callerSource();
    } catch (err) {
      throw new StepFailure(
        `The execution role is unable to be assumed. ${(err as Error).message}`,
        "InputValidation",
        "Permission",
      );
    }
  }
  if (typeof roleArn !== "string")
    throw new StepFailure("assumeRole must resolve to a role ARN", "InputValidation", "Action");
  try {
    return assumeRoleAsService(deps.core, {
      roleArn,
      servicePrincipal: "ssm.amazonaws.com",
      sourceAccount: exec.accountId,
      sourceArn: `arn:aws:ssm:${deps.core.region}:${exec.accountId}:automation-execution/${exec.id}`,
      sessionName: exec.id,
    });
  } catch (err) {
    throw new StepFailure(
      `The defined assume role is unable to be assumed. ${(err as Error).message}`,
      "InputValidation",
      "Permission",
      { ExceptionMessage: [(err as Error).message] },
    );
  }
}

/** Runs one step; returns the name of the step to jump to (aws:branch) or undefined. */
async function runStep(
  step: StepSpec,
  record: StepExecutionRecord,
  variables: Map<string, ParameterValue>,
  credential: IssuedCredential | undefined,
  deps: EngineDeps,
  exec: AutomationExecutionRecord,
): Promise<string | undefined> {
  let inputs: Record<string, unknown>;
  try {
    inputs = interpolate(step.inputs, (n) => variables.get(n)) as Record<string, unknown>;
  } catch (err) {
    throw new StepFailure((err as Error).message, "InputValidation", "Action");
  }
  record.Inputs = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, JSON.stringify(v)]));
  switch (step.action) {
    case "aws:executeAwsApi":
      await executeAwsApi(step, record, inputs, variables, credential!, deps);
      return undefined;
    case "aws:executeScript":
      await executeScript(step, record, inputs, variables, credential, deps);
      return undefined;
    case "aws:branch":
      return branch(step, inputs);
    case "aws:sleep":
      await sleepStep(inputs, exec, deps);
      return undefined;
    case "aws:executeAutomation":
      await executeAutomation(step, record, inputs, variables, credential!, deps, exec);
      return undefined;
    default:
      throw new StepFailure(`Action ${step.action} is not supported`, "InputValidation", "Action");
  }
}

async function executeAwsApi(
  step: StepSpec,
  record: StepExecutionRecord,
  inputs: Record<string, unknown>,
  variables: Map<string, ParameterValue>,
  credential: IssuedCredential,
  deps: EngineDeps,
): Promise<void> {
  const { Service, Api, ...params } = inputs;
  const service = String(Service).toLowerCase();
  const sdk = SDK_MODULES[service];
  if (!sdk)
    throw new StepFailure(`Service ${String(Service)} is not available in the sandbox`, "InputValidation", "Action");
  const apiName = String(Api).charAt(0).toUpperCase() + String(Api).slice(1);
  const Command = sdk.module[`${apiName}Command`] as (new (input: unknown) => unknown) | undefined;
  if (!Command) throw new StepFailure(`${String(Service)}.${apiName} is not a known API`, "InputValidation", "Action");
  const client = new sdk.client({
    endpoint: deps.core.endpoint(),
    region: deps.core.region,
    // The engine runs inside AWS, on AWS's clock; the host's clock is not, so the SDK
    // must not correct for the skew it sees in the sandbox's Date header (it would then
    // retry every failed call once).
    systemClockOffset: deps.core.clock.now().getTime() - Date.now(),
    disableClockSkewCorrection: true,
    credentials: {
      accessKeyId: credential.accessKeyId,
      secretAccessKey: credential.secretAccessKey,
      ...(credential.sessionToken ? { sessionToken: credential.sessionToken } : {}),
    },
    maxAttempts: 3,
  });
  let response: Record<string, unknown>;
  try {
    response = (await client.send(new Command(params))) as Record<string, unknown>;
  } catch (err) {
    const e = err as { name?: string; message?: string; Code?: string };
    const code = e.Code ?? e.name ?? "Error";
    const type = /AccessDenied|Authorization/.test(code)
      ? "Permission"
      : /Throttl/.test(code)
        ? "Throttling"
        : "Action";
    // AWS reports executeAwsApi errors in botocore's wording.
    throw new StepFailure(
      `An error occurred (${code}) when calling the ${apiName} operation: ${e.message ?? ""}`,
      "Invocation",
      type,
      { ErrorCode: [code], ExceptionMessage: [e.message ?? ""] },
    );
  } finally {
    client.destroy();
  }
  const { $metadata: _metadata, ...body } = response;
  const outputs: Record<string, string[]> = {};
  for (const o of step.outputs) {
    let value: ParameterValue;
    try {
      const raw = selectPath(body, o.Selector);
      if (raw === undefined) throw new Error(`selector ${o.Selector} matched nothing`);
      value = outputValue(raw, o.Type);
    } catch (err) {
      throw new StepFailure(`Output ${o.Name}: ${(err as Error).message}`, "PostVerification", "Verification");
    }
    variables.set(`${step.name}.${o.Name}`, value);
    outputs[o.Name] = asStrings(value);
  }
  record.Outputs = outputs;
}

// --- aws:executeAutomation ------------------------------------------------------------------
// "aws:executeAutomation – Run another automation": inputs DocumentName, DocumentVersion,
// RuntimeParameters and (for other accounts and Regions) TargetLocations; outputs
// ExecutionId, Status and Output. "The secondary automation runs in the context of the
// user who initiated the primary automation": the primary's role starts it (it needs
// ssm:StartAutomationExecution on the secondary runbook). The step waits for it to end
// and fails unless it succeeded.
// https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-executeAutomation.html

const SECONDARY_TERMINAL = new Set(["Success", "Failed", "Cancelled", "TimedOut"]);

async function executeAutomation(
  step: StepSpec,
  record: StepExecutionRecord,
  inputs: Record<string, unknown>,
  variables: Map<string, ParameterValue>,
  credential: IssuedCredential,
  deps: EngineDeps,
  exec: AutomationExecutionRecord,
): Promise<void> {
  if (!deps.startAutomation) throw new StepFailure("aws:executeAutomation is not wired", "Invocation", "Internal");
  const { DocumentName, DocumentVersion, RuntimeParameters, TargetLocations } = inputs;
  if (typeof DocumentName !== "string") throw new StepFailure("DocumentName is required", "InputValidation", "Action");
  const parameters: Record<string, string[]> = {};
  if (RuntimeParameters !== undefined) {
    if (typeof RuntimeParameters !== "object" || RuntimeParameters === null || Array.isArray(RuntimeParameters)) {
      throw new StepFailure("RuntimeParameters must be a map", "InputValidation", "Action");
    }
    for (const [k, v] of Object.entries(RuntimeParameters as Record<string, unknown>)) {
      parameters[k] = Array.isArray(v) ? v.map((x) => String(x)) : [String(v)];
    }
  }
  let secondary: AutomationExecutionRecord;
  try {
    secondary = await deps.startAutomation({
      credential,
      parentAutomationExecutionId: exec.id,
      body: {
        DocumentName,
        ...(typeof DocumentVersion === "string" ? { DocumentVersion } : {}),
        Parameters: parameters,
        ...(TargetLocations !== undefined ? { TargetLocations } : {}),
      },
    });
  } catch (err) {
    const e = err as { code?: string; name?: string; message?: string };
    const code = e.code ?? e.name ?? "Error";
    throw new StepFailure(
      `An error occurred (${code}) when calling the StartAutomationExecution operation: ${e.message ?? ""}`,
      "Invocation",
      /AccessDenied/.test(code) ? "Permission" : "Action",
    );
  }
  while (!SECONDARY_TERMINAL.has(secondary.status)) {
    await secondary.done;
    if (!SECONDARY_TERMINAL.has(secondary.status)) await sleep(20);
  }
  const output = JSON.stringify(secondary.outputs);
  variables.set(`${step.name}.ExecutionId`, secondary.id);
  variables.set(`${step.name}.Status`, secondary.status);
  variables.set(`${step.name}.Output`, output);
  record.Outputs = { ExecutionId: [secondary.id], Status: [secondary.status], Output: [output] };
  if (secondary.status !== "Success") {
    throw new StepFailure(
      `The secondary automation ${secondary.id} (${String(DocumentName)}) ended ${secondary.status}${secondary.failureMessage ? `: ${secondary.failureMessage}` : ""}`,
      "Invocation",
      "Action",
      { ExecutionId: [secondary.id] },
    );
  }
}

// --- aws:sleep ------------------------------------------------------------------------------
// "aws:sleep – Delay an automation": Duration (ISO 8601) or Timestamp ("If the specified
// date and time has passed, the action proceeds immediately"); at most 604799 s.
// https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-sleep.html
// The sandbox waits on its own clock: a Timestamp sleep ends when the clock reaches it
// (a test moves the clock; a following clock gets there in real time). While it waits the
// execution counts as idle (its `done` resolves), like an aws:approve step waiting for
// signals; a Duration sleep ends at once (the sandbox never holds a run for real minutes).

const SLEEP_MAX_SECONDS = 604_799;

async function sleepStep(inputs: Record<string, unknown>, exec: AutomationExecutionRecord, deps: EngineDeps) {
  const { Duration: duration, Timestamp: timestamp } = inputs;
  if ((duration === undefined) === (timestamp === undefined)) {
    throw new StepFailure("aws:sleep takes exactly one of Duration and Timestamp", "InputValidation", "Action");
  }
  if (duration !== undefined) {
    if (typeof duration !== "string" || !/^P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/.test(duration)) {
      throw new StepFailure(
        `aws:sleep Duration ${String(duration)} is not an ISO 8601 duration`,
        "InputValidation",
        "Action",
      );
    }
    return;
  }
  const until = typeof timestamp === "string" ? new Date(timestamp) : new Date(Number.NaN);
  if (
    typeof timestamp !== "string" ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(timestamp) ||
    Number.isNaN(until.getTime())
  ) {
    throw new StepFailure(
      `aws:sleep Timestamp ${String(timestamp)} is not an ISO 8601 timestamp`,
      "InputValidation",
      "Action",
    );
  }
  const clock = deps.core.clock;
  if (until.getTime() - clock.now().getTime() > SLEEP_MAX_SECONDS * 1000) {
    throw new StepFailure(
      "Automation supports a maximum delay of 604799 seconds (7 days)",
      "InputValidation",
      "Action",
    );
  }
  if (clock.now().getTime() >= until.getTime()) return;
  markIdle(exec);
  // Unref'd: a sleep nobody moves the clock for must not keep the process alive.
  while (clock.now().getTime() < until.getTime() && !exec.stopRequested) {
    await new Promise<void>((r) => setTimeout(r, 20).unref());
  }
  markBusy(exec);
}

// --- aws:executeScript ----------------------------------------------------------------------
// "aws:executeScript – Run a script"
// https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-executeScript.html
// The handler is called with (events = InputPayload, context); what it returns is
// the step's Payload, and outputs select from it (`$.Payload.Name`). An exception
// fails the step. The sandbox runs the very same script with the local python3,
// through execute-script-runner.py, which gives it the sandbox clock for AWS's.

const SCRIPT_RUNNER = fileURLToPath(new URL("./execute-script-runner.py", import.meta.url));

interface ScriptResult {
  Payload?: unknown;
  ErrorType?: string;
  ErrorMessage?: string;
}

/** Runs `script`'s `handler` with `payload` in python3; resolves with the runner's JSON answer. */
export function runPythonScript(input: {
  script: string;
  handler: string;
  payload: Record<string, unknown>;
  now: Date;
  timeoutSeconds?: number;
  /** The role the script's boto3 signs with (only its keys are read), and where its calls go (the sandbox). */
  aws?: {
    credential: Pick<IssuedCredential, "accessKeyId" | "secretAccessKey"> & { sessionToken?: string | undefined };
    endpoint: string;
    region: string;
  };
}): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    // boto3 reads these like on AWS, where the runtime carries the automation role's
    // credentials; the shared config files are kept out so nothing else leaks in.
    const awsEnv: Record<string, string> = input.aws
      ? {
          AWS_ACCESS_KEY_ID: input.aws.credential.accessKeyId,
          AWS_SECRET_ACCESS_KEY: input.aws.credential.secretAccessKey,
          ...(input.aws.credential.sessionToken ? { AWS_SESSION_TOKEN: input.aws.credential.sessionToken } : {}),
          AWS_ENDPOINT_URL: input.aws.endpoint,
          AWS_REGION: input.aws.region,
          AWS_DEFAULT_REGION: input.aws.region,
          AWS_CONFIG_FILE: "/dev/null",
          AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
          AWS_EC2_METADATA_DISABLED: "true",
          AWS_MAX_ATTEMPTS: "3",
        }
      : {};
    const env: Record<string, string | undefined> = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith("AWS_")),
    );
    Object.assign(env, awsEnv);
    // -I: isolated mode (no user site-packages, no PYTHON* environment), like a clean runtime.
    const child = spawn("python3", ["-I", SCRIPT_RUNNER], { stdio: ["pipe", "pipe", "pipe"], env });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(
      () => {
        child.kill("SIGKILL");
        reject(new Error(`the script ran longer than ${input.timeoutSeconds ?? EXECUTE_SCRIPT_MAX_SECONDS} seconds`));
      },
      (input.timeoutSeconds ?? EXECUTE_SCRIPT_MAX_SECONDS) * 1000,
    );
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`python3 could not be started: ${err.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const last = stdout.trimEnd().split("\n").at(-1) ?? "";
      try {
        resolve(JSON.parse(last) as ScriptResult);
      } catch {
        reject(new Error(`python3 exited ${code} without a result${stderr ? `: ${stderr.trim().slice(-500)}` : ""}`));
      }
    });
    child.stdin.end(
      JSON.stringify({
        script: input.script,
        handler: input.handler,
        payload: input.payload,
        now: input.now.getTime() / 1000,
      }),
    );
  });
}

async function executeScript(
  step: StepSpec,
  record: StepExecutionRecord,
  inputs: Record<string, unknown>,
  variables: Map<string, ParameterValue>,
  credential: IssuedCredential | undefined,
  deps: EngineDeps,
): Promise<void> {
  const problem = executeScriptInputProblem(inputs);
  if (problem) throw new StepFailure(`aws:executeScript ${problem}`, "InputValidation", "Action");
  let result: ScriptResult;
  try {
    result = await runPythonScript({
      script: inputs.Script as string,
      handler: inputs.Handler as string,
      payload: (inputs.InputPayload as Record<string, unknown> | undefined) ?? {},
      now: deps.core.clock.now(),
      ...(step.timeoutSeconds !== undefined ? { timeoutSeconds: step.timeoutSeconds } : {}),
      ...(credential ? { aws: { credential, endpoint: deps.core.endpoint(), region: deps.core.region } } : {}),
    });
  } catch (err) {
    throw new StepFailure((err as Error).message, "Invocation", "Internal");
  }
  if (result.ErrorType !== undefined) {
    // AWS reports the exception as "<Type> - <message>" in the step's failure.
    throw new StepFailure(`${result.ErrorType} - ${result.ErrorMessage ?? ""}`, "Invocation", "Action", {
      ErrorType: [result.ErrorType],
      ExceptionMessage: [result.ErrorMessage ?? ""],
    });
  }
  const body = { Payload: result.Payload ?? null };
  const outputs: Record<string, string[]> = { Payload: [JSON.stringify(body.Payload)] };
  for (const o of step.outputs) {
    let value: ParameterValue;
    try {
      const raw = selectPath(body, o.Selector);
      if (raw === undefined || raw === null) throw new Error(`selector ${o.Selector} matched nothing`);
      value = outputValue(raw, o.Type);
    } catch (err) {
      throw new StepFailure(`Output ${o.Name}: ${(err as Error).message}`, "PostVerification", "Verification");
    }
    variables.set(`${step.name}.${o.Name}`, value);
    outputs[o.Name] = asStrings(value);
  }
  record.Outputs = outputs;
}

type Choice = Record<string, unknown>;

function matches(choice: Choice, inputs: Record<string, unknown>): boolean {
  if (Array.isArray(choice.And)) return (choice.And as Choice[]).every((c) => matches(c, inputs));
  if (Array.isArray(choice.Or)) return (choice.Or as Choice[]).some((c) => matches(c, inputs));
  if (choice.Not !== undefined) return !matches(choice.Not as Choice, inputs);
  const variable = choice.Variable;
  const ops: [string, (v: unknown, x: unknown) => boolean][] = [
    ["StringEquals", (v, x) => String(v) === String(x)],
    ["EqualsIgnoreCase", (v, x) => String(v).toLowerCase() === String(x).toLowerCase()],
    ["StartsWith", (v, x) => String(v).startsWith(String(x))],
    ["EndsWith", (v, x) => String(v).endsWith(String(x))],
    ["Contains", (v, x) => (Array.isArray(v) ? v.map(String).includes(String(x)) : String(v).includes(String(x)))],
    ["BooleanEquals", (v, x) => String(v) === String(x)],
    ["NumericEquals", (v, x) => Number(v) === Number(x)],
    ["NumericGreater", (v, x) => Number(v) > Number(x)],
    ["NumericLesser", (v, x) => Number(v) < Number(x)],
    ["NumericGreaterOrEquals", (v, x) => Number(v) >= Number(x)],
    ["NumericLesserOrEquals", (v, x) => Number(v) <= Number(x)],
  ];
  for (const [op, test] of ops) {
    if (op in choice) return test(variable, choice[op]);
  }
  throw new StepFailure(`Choice has no supported operator: ${JSON.stringify(choice)}`, "InputValidation", "Action");
}

function branch(step: StepSpec, inputs: Record<string, unknown>): string {
  for (const choice of inputs.Choices as Choice[]) {
    if (matches(choice, inputs)) return String(choice.NextStep);
  }
  if (inputs.Default !== undefined) return String(inputs.Default);
  throw new StepFailure(`No choice of step ${step.name} matched and no Default is set`, "Invocation", "Action");
}
