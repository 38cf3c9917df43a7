/**
 * SSM Automation documents (schemaVersion 0.3): parsing, validation at
 * CreateDocument time, parameter validation at StartAutomationExecution time,
 * and `{{ }}` interpolation. "Automation runbook reference" and "Data elements
 * and parameters", https://docs.aws.amazon.com/systems-manager/latest/userguide/documents-syntax-data-elements-parameters.html
 */
import { parse as parseYaml } from "yaml";
import { AwsServiceError } from "./errors.js";

export type ParameterType = "String" | "StringList" | "Boolean" | "Integer" | "StringMap" | "MapList";

export interface ParameterSpec {
  type: ParameterType;
  description?: string;
  default?: unknown;
  /** Strings for the string types; integers for Integer (see validateAutomationDocument). */
  allowedValues?: (string | number)[];
  allowedPattern?: string;
  minItems?: number;
  maxItems?: number;
  minChars?: number;
  maxChars?: number;
}

export interface OutputSpec {
  Name: string;
  Selector: string;
  Type: "String" | "Integer" | "Boolean" | "StringList" | "StringMap" | "MapList";
}

export interface StepSpec {
  name: string;
  action: string;
  inputs: Record<string, unknown>;
  outputs: OutputSpec[];
  onFailure: string;
  isEnd: boolean;
  nextStep: string | undefined;
  /** Undefined when not declared: the default depends on onFailure. */
  isCritical: boolean | undefined;
  maxAttempts: number;
  /** `timeoutSeconds` as declared; for aws:approve the default is 7 days. */
  timeoutSeconds: number | undefined;
}

export interface AutomationDocument {
  schemaVersion: "0.3";
  description: string | undefined;
  assumeRole: string | undefined;
  parameters: Map<string, ParameterSpec>;
  mainSteps: StepSpec[];
  outputs: string[];
}

/** Step actions the sandbox engine executes. */
export const SUPPORTED_ACTIONS = [
  "aws:executeAwsApi",
  "aws:executeScript",
  "aws:branch",
  "aws:sleep",
  "aws:approve",
  "aws:executeAutomation",
] as const;

/**
 * aws:executeScript ("aws:executeScript – Run a script",
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-executeScript.html):
 * inputs Runtime, Handler, Script (or Attachment) and InputPayload; "Each
 * aws:executeScript action can run up to a maximum duration of 600 seconds".
 * The sandbox runs Python runtimes with the local python3 (PowerShell and
 * attachments are refused at CreateDocument, so a runbook the sandbox accepts
 * is one it really executes).
 */
export const EXECUTE_SCRIPT_MAX_SECONDS = 600;
const PYTHON_RUNTIME = /^python3\.[0-9]{1,2}$/;

export function executeScriptInputProblem(inputs: Record<string, unknown>): string | undefined {
  const known = new Set(["Runtime", "Handler", "Script", "Attachment", "InputPayload"]);
  for (const key of Object.keys(inputs)) if (!known.has(key)) return `unknown input '${key}'`;
  if (typeof inputs.Runtime !== "string" || !PYTHON_RUNTIME.test(inputs.Runtime)) {
    return `Runtime ${JSON.stringify(inputs.Runtime)} is not supported by the sandbox (python3.x only)`;
  }
  if (typeof inputs.Handler !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(inputs.Handler)) {
    return "Handler must name a Python function";
  }
  if (inputs.Attachment !== undefined) return "Attachment is not supported by the sandbox; put the script inline";
  if (typeof inputs.Script !== "string" || inputs.Script.trim() === "") return "Script is required";
  if (inputs.InputPayload !== undefined && !isRecord(inputs.InputPayload)) return "InputPayload must be a map";
  return undefined;
}

/**
 * aws:approve limits ("aws:approve – Pause an automation for manual approval",
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-approve.html):
 * "The default timeout for this action is 7 days (604800 seconds) and the maximum
 * value is 30 days (2592000 seconds)"; "The maximum number of approvers is 10";
 * "The maximum message length is 4096 characters".
 */
export const APPROVE_DEFAULT_TIMEOUT_SECONDS = 604_800;
export const APPROVE_MAX_TIMEOUT_SECONDS = 2_592_000;
export const APPROVE_MAX_APPROVERS = 10;
export const APPROVE_MAX_MESSAGE_CHARS = 4096;

/**
 * Approver forms the same page lists: "An IAM user name, An IAM user ARN, An
 * IAM role ARN, An IAM assume role user ARN".
 */
const APPROVER_FORMS = [
  /^[\w+=,.@-]{1,64}$/,
  /^arn:aws(-cn|-us-gov)?:iam::\d{12}:user\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/,
  /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/,
  /^arn:aws(-cn|-us-gov)?:sts::\d{12}:assumed-role\/[\w+=,.@-]{1,64}\/[\w+=,.@-]{2,64}$/,
];

/**
 * NotificationArn: "The title of the Amazon SNS topic must be prefixed with
 * 'Automation'" (same page; "Run an automation with approvers": "The Amazon SNS
 * topic name must start with Automation").
 */
const APPROVAL_TOPIC_ARN = /^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:Automation[A-Za-z0-9_-]*$/;

const hasReference = (v: unknown): boolean => variableReferences(v).size > 0;

/**
 * Problems with the inputs of an aws:approve step. At CreateDocument time
 * (`resolved` false) values that still hold `{{ }}` references are skipped;
 * at run time every value is checked. Returns the first problem, if any.
 */
export function approveInputProblem(inputs: Record<string, unknown>, resolved: boolean): string | undefined {
  const known = new Set(["Approvers", "MinRequiredApprovals", "Message", "NotificationArn"]);
  for (const key of Object.keys(inputs)) if (!known.has(key)) return `unknown input '${key}'`;
  const checkNow = (v: unknown) => resolved || !hasReference(v);
  const approvers = inputs.Approvers;
  if (approvers === undefined) return "Approvers is required";
  let approverCount: number | undefined;
  if (Array.isArray(approvers)) {
    if (approvers.length === 0) return "Approvers must list at least one principal";
    if (approvers.length > APPROVE_MAX_APPROVERS)
      return `Approvers lists ${approvers.length} principals; the maximum is ${APPROVE_MAX_APPROVERS}`;
    for (const a of approvers) {
      if (!checkNow(a)) continue;
      if (typeof a !== "string" || !APPROVER_FORMS.some((re) => re.test(a))) {
        return `Approvers: ${JSON.stringify(a)} is not an IAM user name, user ARN, role ARN or assumed-role ARN`;
      }
    }
    approverCount = approvers.length;
  } else if (checkNow(approvers)) {
    return "Approvers must be a list of principals";
  }
  const min = inputs.MinRequiredApprovals;
  if (min !== undefined && checkNow(min)) {
    const n = typeof min === "string" && /^\d+$/.test(min) ? Number(min) : min;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1)
      return "MinRequiredApprovals must be a positive integer";
    if (approverCount !== undefined && n > approverCount) {
      return `MinRequiredApprovals ${n} exceeds the ${approverCount} principals in Approvers`;
    }
  }
  const message = inputs.Message;
  if (message !== undefined && checkNow(message)) {
    if (typeof message !== "string") return "Message must be a string";
    if (message.length > APPROVE_MAX_MESSAGE_CHARS)
      return `Message is longer than ${APPROVE_MAX_MESSAGE_CHARS} characters`;
  }
  const topic = inputs.NotificationArn;
  if (topic !== undefined && checkNow(topic)) {
    if (typeof topic !== "string" || !APPROVAL_TOPIC_ARN.test(topic)) {
      return `NotificationArn ${JSON.stringify(topic)} is not the ARN of an SNS topic whose name starts with "Automation"`;
    }
  }
  return undefined;
}

const PARAMETER_TYPES: ParameterType[] = ["String", "StringList", "Boolean", "Integer", "StringMap", "MapList"];
const STEP_NAME = /^[a-zA-Z0-9_]+$/;

function invalidContent(message: string): AwsServiceError {
  return new AwsServiceError("InvalidDocumentContent", message, 400);
}

export function parseDocumentContent(content: string, format: "YAML" | "JSON"): unknown {
  try {
    return format === "JSON" ? JSON.parse(content) : parseYaml(content, { strict: true, uniqueKeys: true });
  } catch (err) {
    throw invalidContent(`Document content is not valid ${format}: ${(err as Error).message}`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Finds `{{ name }}` references (also inside nested inputs). */
export function variableReferences(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (typeof value === "string") {
    for (const m of value.matchAll(/\{\{\s*([^{}\s]+)\s*\}\}/g)) out.add(m[1]!);
  } else if (Array.isArray(value)) {
    for (const v of value) variableReferences(v, out);
  } else if (isRecord(value)) {
    for (const v of Object.values(value)) variableReferences(v, out);
  }
  return out;
}

/** Built-in variables: "System variables" in the Automation docs. */
const SYSTEM_VARIABLES = new Set([
  "automation:EXECUTION_ID",
  "automation:DOCUMENT_EXECUTION_ID",
  "global:ACCOUNT_ID",
  "global:REGION",
  "global:AWS_PARTITION",
  "global:DATE",
  "global:DATE_TIME",
]);

/** Validates a schemaVersion 0.3 document as CreateDocument/UpdateDocument would. */
export function validateAutomationDocument(raw: unknown): AutomationDocument {
  if (!isRecord(raw)) throw invalidContent("Document content must be an object");
  if (raw.schemaVersion !== "0.3") {
    throw new AwsServiceError("InvalidDocumentSchemaVersion", "Automation documents must use schemaVersion 0.3", 400);
  }
  const known = new Set(["schemaVersion", "description", "assumeRole", "parameters", "mainSteps", "outputs", "files"]);
  for (const key of Object.keys(raw)) if (!known.has(key)) throw invalidContent(`Unknown top-level field '${key}'`);
  const parameters = new Map<string, ParameterSpec>();
  if (raw.parameters !== undefined) {
    if (!isRecord(raw.parameters)) throw invalidContent("parameters must be a map");
    for (const [name, spec] of Object.entries(raw.parameters)) {
      if (!/^[a-zA-Z0-9_]+$/.test(name)) throw invalidContent(`Parameter name '${name}' is invalid`);
      if (!isRecord(spec) || !PARAMETER_TYPES.includes(spec.type as ParameterType)) {
        throw invalidContent(`Parameter '${name}' must declare type one of ${PARAMETER_TYPES.join(", ")}`);
      }
      if (spec.allowedPattern !== undefined) {
        if (typeof spec.allowedPattern !== "string")
          throw invalidContent(`Parameter '${name}': allowedPattern must be a string`);
        try {
          new RegExp(spec.allowedPattern);
        } catch {
          throw invalidContent(`Parameter '${name}': allowedPattern is not a valid regular expression`);
        }
      }
      // AWS documents allowedValues as "an array of values allowed for the parameter",
      // without saying how a string is compared with an Integer's value. The sandbox
      // accepts only the unambiguous forms: integers for an Integer parameter, strings
      // for the others ("Data elements and parameters", AWS Systems Manager User Guide).
      if (spec.allowedValues !== undefined) {
        const integer = spec.type === "Integer";
        if (
          !Array.isArray(spec.allowedValues) ||
          !spec.allowedValues.every((v) => (integer ? Number.isInteger(v) : typeof v === "string"))
        ) {
          throw invalidContent(
            `Parameter '${name}': allowedValues must be a list of ${integer ? "integers for an Integer parameter" : "strings"}`,
          );
        }
      }
      parameters.set(name, spec as unknown as ParameterSpec);
    }
  }
  if (!Array.isArray(raw.mainSteps) || raw.mainSteps.length === 0)
    throw invalidContent("mainSteps must be a non-empty list");
  const steps: StepSpec[] = raw.mainSteps.map((s: unknown, i: number) => {
    if (!isRecord(s)) throw invalidContent(`mainSteps[${i}] must be a map`);
    const name = s.name;
    if (typeof name !== "string" || !STEP_NAME.test(name))
      throw invalidContent(`mainSteps[${i}].name must match [a-zA-Z0-9_]+`);
    const action = s.action;
    if (typeof action !== "string") throw invalidContent(`Step '${name}' has no action`);
    if (!(SUPPORTED_ACTIONS as readonly string[]).includes(action)) {
      throw invalidContent(
        `Step '${name}': action '${action}' is not supported by the sandbox automation engine (supported: ${SUPPORTED_ACTIONS.join(", ")})`,
      );
    }
    const inputs = s.inputs === undefined ? {} : s.inputs;
    if (!isRecord(inputs)) throw invalidContent(`Step '${name}': inputs must be a map`);
    const outputs = s.outputs === undefined ? [] : s.outputs;
    if (!Array.isArray(outputs)) throw invalidContent(`Step '${name}': outputs must be a list`);
    for (const o of outputs) {
      if (!isRecord(o) || typeof o.Name !== "string" || typeof o.Selector !== "string" || typeof o.Type !== "string") {
        throw invalidContent(`Step '${name}': each output needs Name, Selector and Type`);
      }
    }
    if (action === "aws:executeAwsApi" && (typeof inputs.Service !== "string" || typeof inputs.Api !== "string")) {
      throw invalidContent(`Step '${name}': aws:executeAwsApi needs inputs Service and Api`);
    }
    if (action === "aws:executeScript") {
      const problem = executeScriptInputProblem(inputs);
      if (problem) throw invalidContent(`Step '${name}': aws:executeScript ${problem}`);
      if (typeof s.timeoutSeconds === "number" && s.timeoutSeconds > EXECUTE_SCRIPT_MAX_SECONDS) {
        throw invalidContent(
          `Step '${name}': timeoutSeconds of aws:executeScript is at most ${EXECUTE_SCRIPT_MAX_SECONDS}`,
        );
      }
    }
    if (action === "aws:branch" && !Array.isArray(inputs.Choices))
      throw invalidContent(`Step '${name}': aws:branch needs Choices`);
    if (action === "aws:approve") {
      const problem = approveInputProblem(inputs, false);
      if (problem) throw invalidContent(`Step '${name}': aws:approve ${problem}`);
    }
    const timeoutSeconds = s.timeoutSeconds;
    if (
      timeoutSeconds !== undefined &&
      (typeof timeoutSeconds !== "number" || !Number.isInteger(timeoutSeconds) || timeoutSeconds < 1)
    ) {
      throw invalidContent(`Step '${name}': timeoutSeconds must be a positive integer`);
    }
    if (
      action === "aws:approve" &&
      typeof timeoutSeconds === "number" &&
      timeoutSeconds > APPROVE_MAX_TIMEOUT_SECONDS
    ) {
      throw invalidContent(
        `Step '${name}': timeoutSeconds of aws:approve is at most ${APPROVE_MAX_TIMEOUT_SECONDS} (30 days)`,
      );
    }
    const onFailure = s.onFailure === undefined ? "Abort" : s.onFailure;
    if (typeof onFailure !== "string" || !/^(Abort|Continue|step:[a-zA-Z0-9_]+)$/.test(onFailure)) {
      throw invalidContent(`Step '${name}': onFailure must be Abort, Continue or step:NAME`);
    }
    const maxAttempts = s.maxAttempts === undefined ? 1 : s.maxAttempts;
    if (typeof maxAttempts !== "number" || !Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw invalidContent(`Step '${name}': maxAttempts must be a positive integer`);
    }
    return {
      name,
      action,
      inputs,
      outputs: outputs as OutputSpec[],
      onFailure,
      isEnd: s.isEnd === true,
      nextStep: typeof s.nextStep === "string" ? s.nextStep : undefined,
      isCritical: typeof s.isCritical === "boolean" ? s.isCritical : undefined,
      maxAttempts,
      timeoutSeconds: typeof timeoutSeconds === "number" ? timeoutSeconds : undefined,
    };
  });
  const stepNames = new Set<string>();
  for (const s of steps) {
    if (stepNames.has(s.name)) throw invalidContent(`Duplicate step name '${s.name}'`);
    stepNames.add(s.name);
  }
  // aws:approve has built-in outputs ("Output: ApprovalStatus, ApproverDecisions").
  const stepOutputs = new Set(
    steps.flatMap((s) => [
      ...s.outputs.map((o) => `${s.name}.${o.Name}`),
      ...(s.action === "aws:approve" ? [`${s.name}.ApprovalStatus`, `${s.name}.ApproverDecisions`] : []),
      // aws:executeAutomation's own outputs (automation-action-executeAutomation.html).
      ...(s.action === "aws:executeAutomation"
        ? [`${s.name}.ExecutionId`, `${s.name}.Status`, `${s.name}.Output`]
        : []),
    ]),
  );
  for (const s of steps) {
    for (const target of [s.nextStep, s.onFailure.startsWith("step:") ? s.onFailure.slice(5) : undefined]) {
      if (target !== undefined && !stepNames.has(target))
        throw invalidContent(`Step '${s.name}' refers to unknown step '${target}'`);
    }
    if (s.action === "aws:branch") {
      for (const c of s.inputs.Choices as unknown[]) {
        if (!isRecord(c) || typeof c.NextStep !== "string" || !stepNames.has(c.NextStep)) {
          throw invalidContent(`Step '${s.name}': every choice needs a NextStep naming a step`);
        }
      }
      if (s.inputs.Default !== undefined && !stepNames.has(String(s.inputs.Default))) {
        throw invalidContent(`Step '${s.name}': Default refers to unknown step '${String(s.inputs.Default)}'`);
      }
    }
  }
  const docOutputs = raw.outputs === undefined ? [] : raw.outputs;
  if (!Array.isArray(docOutputs) || !docOutputs.every((o) => typeof o === "string"))
    throw invalidContent("outputs must be a list of step.Output names");
  for (const o of docOutputs as string[])
    if (!stepOutputs.has(o)) throw invalidContent(`Document output '${o}' is not a declared step output`);
  // Every {{ }} reference must resolve to a parameter, a step output or a system variable.
  const refs = variableReferences([raw.assumeRole, steps.map((s) => s.inputs)]);
  for (const ref of refs) {
    if (!parameters.has(ref) && !stepOutputs.has(ref) && !SYSTEM_VARIABLES.has(ref)) {
      throw invalidContent(`Variable {{ ${ref} }} is not a parameter, step output or system variable`);
    }
  }
  return {
    schemaVersion: "0.3",
    description: typeof raw.description === "string" ? raw.description : undefined,
    assumeRole: typeof raw.assumeRole === "string" ? raw.assumeRole : undefined,
    parameters,
    mainSteps: steps,
    outputs: docOutputs as string[],
  };
}

function invalidParams(message: string): AwsServiceError {
  return new AwsServiceError("InvalidAutomationExecutionParametersException", message, 400);
}

/** A resolved parameter value: String/Boolean/Integer as scalars, StringList as string[], maps as parsed JSON. */
export type ParameterValue = string | boolean | number | string[] | Record<string, unknown> | Record<string, unknown>[];

/**
 * Validates the StartAutomationExecution `Parameters` (every value arrives as a
 * list of strings) against the document and applies defaults.
 */
export function resolveParameters(
  doc: AutomationDocument,
  given: Record<string, string[]>,
): Map<string, ParameterValue> {
  const resolved = new Map<string, ParameterValue>();
  const unknown = Object.keys(given).filter((k) => !doc.parameters.has(k));
  if (unknown.length > 0) throw invalidParams(`Parameters ${JSON.stringify(unknown)} are not defined in the document`);
  const missing: string[] = [];
  for (const [name, spec] of doc.parameters) {
    const values = given[name];
    if (values === undefined) {
      if (spec.default === undefined) missing.push(name);
      else resolved.set(name, spec.default as ParameterValue);
      continue;
    }
    resolved.set(name, coerce(name, spec, values));
  }
  if (missing.length > 0)
    throw invalidParams(`The following required parameters are missing: ${JSON.stringify(missing)}`);
  return resolved;
}

function coerce(name: string, spec: ParameterSpec, values: string[]): ParameterValue {
  const checkString = (v: string): void => {
    if (spec.allowedValues && !spec.allowedValues.includes(spec.type === "Integer" ? Number(v) : v)) {
      throw invalidParams(
        `Parameter "${name}" value "${v}" is not one of the allowed values ${JSON.stringify(spec.allowedValues)}`,
      );
    }
    if (spec.allowedPattern !== undefined && !new RegExp(spec.allowedPattern).test(v)) {
      throw invalidParams(`Parameter "${name}" value "${v}" does not match the allowed pattern ${spec.allowedPattern}`);
    }
    if (spec.minChars !== undefined && v.length < spec.minChars)
      throw invalidParams(`Parameter "${name}" is shorter than ${spec.minChars} characters`);
    if (spec.maxChars !== undefined && v.length > spec.maxChars)
      throw invalidParams(`Parameter "${name}" is longer than ${spec.maxChars} characters`);
  };
  const single = (): string => {
    if (values.length !== 1) throw invalidParams(`Parameter "${name}" of type ${spec.type} takes exactly one value`);
    return values[0]!;
  };
  switch (spec.type) {
    case "String": {
      const v = single();
      checkString(v);
      return v;
    }
    case "Boolean": {
      const v = single();
      if (v !== "true" && v !== "false") throw invalidParams(`Parameter "${name}" must be true or false`);
      return v === "true";
    }
    case "Integer": {
      const v = single();
      if (!/^-?\d+$/.test(v)) throw invalidParams(`Parameter "${name}" must be an integer`);
      checkString(v);
      return Number(v);
    }
    case "StringList": {
      if (spec.minItems !== undefined && values.length < spec.minItems)
        throw invalidParams(`Parameter "${name}" needs at least ${spec.minItems} items`);
      if (spec.maxItems !== undefined && values.length > spec.maxItems)
        throw invalidParams(`Parameter "${name}" takes at most ${spec.maxItems} items`);
      for (const v of values) checkString(v);
      return values;
    }
    case "StringMap":
    case "MapList": {
      const v = single();
      let parsed: unknown;
      try {
        parsed = JSON.parse(v);
      } catch {
        throw invalidParams(`Parameter "${name}" must be JSON`);
      }
      const ok = spec.type === "StringMap" ? isRecord(parsed) : Array.isArray(parsed) && parsed.every(isRecord);
      if (!ok)
        throw invalidParams(
          `Parameter "${name}" must be a JSON ${spec.type === "StringMap" ? "object" : "list of objects"}`,
        );
      return parsed as Record<string, unknown>;
    }
  }
}

/**
 * Replaces `{{ name }}` in a value. A string that is exactly one reference
 * takes the variable's own type (a StringList stays a list), as Automation does;
 * references inside longer strings are rendered as text.
 */
export function interpolate(value: unknown, lookup: (name: string) => ParameterValue | undefined): unknown {
  if (typeof value === "string") {
    const whole = /^\{\{\s*([^{}\s]+)\s*\}\}$/.exec(value);
    if (whole) {
      const v = lookup(whole[1]!);
      if (v === undefined) throw new Error(`Variable {{ ${whole[1]} }} has no value`);
      return v;
    }
    return value.replace(/\{\{\s*([^{}\s]+)\s*\}\}/g, (_m, name: string) => {
      const v = lookup(name);
      if (v === undefined) throw new Error(`Variable {{ ${name} }} has no value`);
      return typeof v === "string"
        ? v
        : typeof v === "number" || typeof v === "boolean"
          ? String(v)
          : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, lookup));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, lookup)]));
  return value;
}
