/**
 * The parts of SSM Automation that decide what a runbook does with its
 * parameters: validation against the declared constraints and `{{ Name }}`
 * interpolation. The sandbox's automation engine and the infra tests both use
 * these, so the runbook files are exercised exactly as written.
 *
 * References (AWS Systems Manager User Guide):
 *   - "Data elements and parameters" (type, allowedPattern, allowedValues, minChars, maxChars)
 *     https://docs.aws.amazon.com/systems-manager/latest/userguide/documents-syntax-data-elements-parameters.html
 *   - "Systems Manager Automation actions reference" (aws:executeAwsApi, aws:branch)
 *     https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-actions.html
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { cfnTags } from "./template.js";

export interface RunbookParameter {
  type: string;
  description?: string;
  default?: unknown;
  allowedPattern?: string;
  allowedValues?: string[];
  minChars?: number;
  maxChars?: number;
}

export interface RunbookStep {
  name: string;
  action: string;
  inputs: Record<string, unknown>;
  outputs?: { Name: string; Selector: string; Type: string }[];
  nextStep?: string;
  isEnd?: boolean;
  onFailure?: string;
  isCritical?: boolean;
  /** How many times Automation tries the step's action (default 1). */
  maxAttempts?: number;
}

export interface Runbook {
  description?: string;
  schemaVersion: string;
  assumeRole?: string;
  parameters: Record<string, RunbookParameter>;
  mainSteps: RunbookStep[];
  outputs?: string[];
}

export class RunbookParameterError extends Error {
  readonly parameter: string;
  constructor(parameter: string, message: string) {
    super(`parameter ${parameter}: ${message}`);
    this.name = "RunbookParameterError";
    this.parameter = parameter;
  }
}

/**
 * Parses a runbook file. The files are embedded verbatim in infra/template.yaml,
 * so they may carry CloudFormation short-form tags (the grant runbook's
 * `!Ref GrantableRoles`, resolved at deploy time); those parse to the same long
 * form the template parser produces (`{Ref: …}`, `{"Fn::Join": …}`).
 */
export function parseRunbook(text: string, file = "runbook.yaml"): Runbook {
  const doc = parse(text, { uniqueKeys: true, customTags: cfnTags() }) as Partial<Runbook> | null;
  if (!doc || typeof doc !== "object") throw new Error(`${file}: not a mapping`);
  if (doc.schemaVersion !== "0.3") throw new Error(`${file}: schemaVersion must be '0.3' (Automation)`);
  if (!doc.parameters || typeof doc.parameters !== "object") throw new Error(`${file}: parameters missing`);
  if (!Array.isArray(doc.mainSteps) || doc.mainSteps.length === 0) throw new Error(`${file}: mainSteps missing`);
  return doc as Runbook;
}

/** The `aws:executeScript` step `name` of the runbook file at `path`: what a test runs with runPythonScript. */
export function runbookScriptStep(
  path: string,
  name: string,
): { Script: string; Handler: string; InputPayload?: Record<string, unknown> } {
  const step = loadRunbook(path).mainSteps.find((s) => s.name === name);
  if (step?.action !== "aws:executeScript") throw new Error(`${path}: no aws:executeScript step ${name}`);
  return step.inputs as { Script: string; Handler: string; InputPayload?: Record<string, unknown> };
}

export function loadRunbook(path: string): Runbook {
  return parseRunbook(readFileSync(path, "utf8"), path);
}

/**
 * What SSM does with StartAutomationExecution's Parameters before the first
 * step: unknown names and missing required values are rejected, defaults
 * filled in, and every value checked against its declared constraints.
 * (`allowedPattern` is a regular expression the whole value must match; the
 * runbooks anchor every pattern with ^…$ themselves.)
 */
export function validateRunbookParameters(runbook: Runbook, given: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(given)) {
    if (!(name in runbook.parameters)) throw new RunbookParameterError(name, "is not declared by the runbook");
  }
  for (const [name, spec] of Object.entries(runbook.parameters)) {
    if (spec.type !== "String") throw new RunbookParameterError(name, `type ${spec.type} is not supported`);
    const value = given[name] ?? (spec.default === undefined ? undefined : String(spec.default));
    if (value === undefined) throw new RunbookParameterError(name, "is required");
    if (spec.allowedValues && !spec.allowedValues.includes(value)) {
      throw new RunbookParameterError(name, `${JSON.stringify(value)} is not one of ${spec.allowedValues.join(", ")}`);
    }
    if (spec.allowedPattern !== undefined && !new RegExp(spec.allowedPattern).test(value)) {
      throw new RunbookParameterError(name, `${JSON.stringify(value)} does not match ${spec.allowedPattern}`);
    }
    if (spec.minChars !== undefined && value.length < spec.minChars) {
      throw new RunbookParameterError(name, `is shorter than ${spec.minChars} characters`);
    }
    if (spec.maxChars !== undefined && value.length > spec.maxChars) {
      throw new RunbookParameterError(name, `is longer than ${spec.maxChars} characters`);
    }
    out[name] = value;
  }
  return out;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.:-]+)\s*\}\}/g;

/**
 * Replaces `{{ Name }}` with the parameter's value. References to step
 * outputs (`{{ step.Output }}`) are left for the engine to fill in; a plain
 * name that is not a parameter is an error, as SSM rejects such a document.
 */
export function renderRunbookParameters(text: string, values: Record<string, string>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    if (name.includes(".")) return whole;
    const value = values[name];
    if (value === undefined) throw new RunbookParameterError(name, "is referenced but has no value");
    return value;
  });
}

/** Every `{{ Name }}` placeholder in a runbook's steps (parameters and step outputs). */
export function runbookPlaceholders(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === "string") {
    for (const match of value.matchAll(PLACEHOLDER)) out.add(match[1] as string);
  } else if (Array.isArray(value)) {
    for (const item of value) runbookPlaceholders(item, out);
  } else if (value && typeof value === "object") {
    for (const item of Object.values(value)) runbookPlaceholders(item, out);
  }
  return out;
}

/** The `inputs` of one step with every parameter placeholder rendered. */
export function renderStepInputs(step: RunbookStep, values: Record<string, string>): Record<string, unknown> {
  const render = (value: unknown): unknown => {
    if (typeof value === "string") return renderRunbookParameters(value, values);
    if (Array.isArray(value)) return value.map(render);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v)]));
    }
    return value;
  };
  return render(step.inputs) as Record<string, unknown>;
}
