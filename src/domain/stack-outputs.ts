/**
 * The outputs of the Elevate stack (infra/template.yaml "Outputs"), read from the JSON
 * that `aws cloudformation describe-stacks --stack-name NAME --output json` prints:
 * `{"Stacks":[{"StackName":…,"Outputs":[{"OutputKey":…,"OutputValue":…},…]}]}`
 * (CloudFormation API reference, DescribeStacks and the `Output` data type).
 *
 * `elevate init --stack-outputs` fills `.github/elevate.yml` from them, and
 * `elevate doctor --aws` compares them with the config; both go through here.
 */

/** Output keys of infra/template.yaml and the config key each one fills. */
export const STACK_OUTPUT_KEYS = {
  Region: "aws.region",
  AccountId: "aws.accountId",
  GrantRoleArn: "aws.grantRoleArn",
  RevokeRoleArn: "aws.revokeRoleArn",
  AutomationRoleArn: "aws.automationRoleArn",
  GrantDocumentName: "aws.grantDocument",
  RevokeDocumentName: "aws.revokeDocument",
  NotifyTopicArn: "aws.notifyTopicArn",
  ExampleRoleArn: "roles.<key>.arn of the example role",
  ExamplePermissionSetArn: "roles.<key>.permissionSet of the example permission set",
} as const;
export type StackOutputKey = keyof typeof STACK_OUTPUT_KEYS;

/** Outputs every deployment of the template has (the others depend on its conditions). */
export const REQUIRED_STACK_OUTPUTS: readonly StackOutputKey[] = [
  "Region",
  "AccountId",
  "GrantRoleArn",
  "RevokeRoleArn",
  "AutomationRoleArn",
  "GrantDocumentName",
  "RevokeDocumentName",
];

export interface StackOutputs {
  /** `StackName` when the JSON has it. */
  stackName?: string;
  /** OutputKey → OutputValue, every output of the stack. */
  values: ReadonlyMap<string, string>;
  /** ParameterKey → ParameterValue, as deployed (describe-stacks lists them beside the outputs). */
  parameters: ReadonlyMap<string, string>;
}

export type StackOutputsResult = { ok: true; outputs: StackOutputs } | { ok: false; message: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Parses describe-stacks JSON. Exactly one stack (name it with `--stack-name`), and every
 * output the template always has must be there: a stack of another template, or one still
 * being created, is refused rather than half-used.
 */
export function parseStackOutputs(text: string): StackOutputsResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `is not JSON (${(error as Error).message})` };
  }
  if (!isRecord(json) || !Array.isArray(json.Stacks)) {
    return {
      ok: false,
      message:
        'is not the output of `aws cloudformation describe-stacks --output json` (no "Stacks" list at the top level)',
    };
  }
  if (json.Stacks.length !== 1) {
    return {
      ok: false,
      message: `describes ${json.Stacks.length} stacks; name the Elevate stack with --stack-name so that it describes exactly one`,
    };
  }
  const stack = json.Stacks[0];
  if (!isRecord(stack)) return { ok: false, message: "Stacks[0] is not an object" };
  const outputs = stack.Outputs ?? [];
  if (!Array.isArray(outputs)) return { ok: false, message: "Stacks[0].Outputs is not a list" };
  const values = new Map<string, string>();
  for (const [index, output] of outputs.entries()) {
    if (!isRecord(output) || typeof output.OutputKey !== "string" || typeof output.OutputValue !== "string") {
      return { ok: false, message: `Stacks[0].Outputs[${index}] has no OutputKey and OutputValue strings` };
    }
    values.set(output.OutputKey, output.OutputValue);
  }
  const missing = REQUIRED_STACK_OUTPUTS.filter((key) => !values.has(key));
  if (missing.length > 0) {
    return {
      ok: false,
      message: `has no output ${missing.join(", ")}; is it the Elevate stack (infra/template.yaml), fully created?`,
    };
  }
  const parameters = new Map<string, string>();
  for (const parameter of Array.isArray(stack.Parameters) ? stack.Parameters : []) {
    if (
      isRecord(parameter) &&
      typeof parameter.ParameterKey === "string" &&
      typeof parameter.ParameterValue === "string"
    ) {
      parameters.set(parameter.ParameterKey, parameter.ParameterValue);
    }
  }
  const result: StackOutputs = { values, parameters };
  if (typeof stack.StackName === "string") result.stackName = stack.StackName;
  return { ok: true, outputs: result };
}

/** The value of one output, or undefined when the stack does not have it. */
export function stackOutput(outputs: StackOutputs, key: StackOutputKey): string | undefined {
  return outputs.values.get(key);
}
