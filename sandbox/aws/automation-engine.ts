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

import * as iamSdk from "@aws-sdk/client-iam";
import { IAMClient } from "@aws-sdk/client-iam";
import * as snsSdk from "@aws-sdk/client-sns";
import { SNSClient } from "@aws-sdk/client-sns";
import * as ssmSdk from "@aws-sdk/client-ssm";
import { SSMClient } from "@aws-sdk/client-ssm";
import * as stsSdk from "@aws-sdk/client-sts";
import { STSClient } from "@aws-sdk/client-sts";
import { type AutomationDocument, interpolate, type ParameterValue, type StepSpec } from "./automation-document.js";
import type { SandboxCore } from "./context.js";
import type { IssuedCredential } from "./iam-store.js";
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
  /** Resolves when the engine has finished with this execution. */
  done: Promise<void>;
}

export interface EngineDeps {
  core: SandboxCore;
  stepLatencyMs: () => number;
}

const SDK_MODULES: Record<
  string,
  {
    client: new (config: object) => { send(c: unknown): Promise<unknown>; destroy(): void };
    module: Record<string, unknown>;
  }
> = {
  iam: { client: IAMClient as never, module: iamSdk as unknown as Record<string, unknown> },
  sts: { client: STSClient as never, module: stsSdk as unknown as Record<string, unknown> },
  sns: { client: SNSClient as never, module: snsSdk as unknown as Record<string, unknown> },
  ssm: { client: SSMClient as never, module: ssmSdk as unknown as Record<string, unknown> },
};

class StepFailure extends Error {
  constructor(
    message: string,
    readonly stage: "InputValidation" | "Invocation" | "PostVerification",
    readonly type: "Action" | "Permission" | "Throttling" | "Verification" | "Internal",
    readonly details: Record<string, string[]> = {},
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

export function startEngine(exec: AutomationExecutionRecord, deps: EngineDeps): Promise<void> {
  return new Promise<void>((resolve) => {
    setImmediate(() => {
      runExecution(exec, deps).then(resolve, (err: unknown) => {
        exec.status = "Failed";
        exec.failureMessage = `Internal sandbox error: ${(err as Error).message}`;
        exec.endTime = deps.core.clock.now();
        resolve();
      });
    });
  });
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
        if (step.action === "aws:executeAwsApi" && !credential) credential = await automationCredential(exec, deps);
        jumpTo = await runStep(step, record, variables, credential, deps);
        break;
      } catch (err) {
        failure =
          err instanceof StepFailure
            ? err
            : new StepFailure(`Internal sandbox error: ${(err as Error).message}`, "Invocation", "Internal");
      }
    }
    record.ExecutionEndTime = core.clock.now();
    if (failure) {
      record.StepStatus = "Failed";
      record.FailureMessage = failure.message;
      record.FailureDetails = { FailureStage: failure.stage, FailureType: failure.type, Details: failure.details };
      if (record.IsCritical) {
        criticalFailure = true;
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
  exec.endTime = core.clock.now();
  exec.status = exec.stopRequested ? "Cancelled" : criticalFailure ? "Failed" : "Success";
}

async function automationCredential(exec: AutomationExecutionRecord, deps: EngineDeps): Promise<IssuedCredential> {
  const roleArn =
    exec.document.assumeRole === undefined
      ? undefined
      : interpolate(exec.document.assumeRole, (n) => exec.resolved.get(n));
  if (roleArn === undefined || roleArn === "") return exec.callerCredential;
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
    case "aws:branch":
      return branch(step, inputs);
    case "aws:sleep":
      // The sandbox does not hold executions for real durations; time is the test's to move.
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
