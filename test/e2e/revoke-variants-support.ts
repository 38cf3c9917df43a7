/**
 * Shared by the revoke-variants end-to-end tests: break-glass dispatches, the
 * SNS messages a run published, and a check of each message against the
 * documented schema (docs/notifications.md, NOTIFICATION_JSON_SCHEMA).
 */
import { expect } from "vitest";
import { type EventEnvelope, workflowDispatchEvent } from "../../sandbox/harness/events.js";
import type { ActionRun } from "../../sandbox/harness/run-action.js";
import type { ElevateWorld } from "../../sandbox/world.js";
import { NOTIFICATION_JSON_SCHEMA } from "../../src/domain/notifications.js";

export const BREAKGLASS_WORKFLOW = ".github/workflows/elevate-breakglass.yml";

/** Runs the action in grant mode on a dispatch of elevate-breakglass.yml, as that workflow does. */
export async function breakGlass(
  world: ElevateWorld,
  sender: string,
  inputs: Record<string, string>,
): Promise<{ run: ActionRun; requestId: string }> {
  const event: EventEnvelope = workflowDispatchEvent({
    repository: world.scenario.webhookRepository(),
    sender,
    sha: world.scenario.mainSha(),
    workflowPath: BREAKGLASS_WORKFLOW,
    inputs,
  });
  const run = await world.runAction("grant", event, { oidc: { workflowPath: BREAKGLASS_WORKFLOW } });
  expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
  const requestId = `breakglass-${run.environment.GITHUB_RUN_ID}`;
  expect(JSON.parse(run.outputs.granted ?? "[]")).toEqual([requestId]);
  return { run, requestId };
}

export interface Published {
  subject: string | undefined;
  body: Record<string, unknown>;
}

/** Messages published to the notification topic since `from` (an index into the sandbox's list). */
export function publishedSince(world: ElevateWorld, from: number): Published[] {
  return world.aws.state.published.slice(from).map((m) => ({
    subject: m.subject,
    body: JSON.parse(m.message) as Record<string, unknown>,
  }));
}

type Schema = { [key: string]: unknown };

/**
 * The message against the documented schema: required fields, no field the schema
 * does not name (additionalProperties is false at every level), and every string
 * pattern, const and enum. The schema uses no other keywords that constrain values.
 */
export function schemaProblems(value: unknown, schema: Schema = NOTIFICATION_JSON_SCHEMA, path = "$"): string[] {
  const problems: string[] = [];
  if ("const" in schema && value !== schema.const) problems.push(`${path}: must be ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) problems.push(`${path}: not in the enum`);
  if (schema.type === "string" && typeof value !== "string") problems.push(`${path}: must be a string`);
  if (schema.type === "boolean" && typeof value !== "boolean") problems.push(`${path}: must be a boolean`);
  if (schema.type === "integer" && !Number.isInteger(value)) problems.push(`${path}: must be an integer`);
  if (typeof schema.pattern === "string" && typeof value === "string" && !new RegExp(schema.pattern).test(value)) {
    problems.push(`${path}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
  }
  if (schema.type === "object") {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return [`${path}: must be an object`];
    const object = value as Record<string, unknown>;
    for (const key of (schema.required ?? []) as string[]) {
      if (!Object.hasOwn(object, key)) problems.push(`${path}: missing ${key}`);
    }
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const [key, child] of Object.entries(object)) {
      const sub = properties[key];
      if (sub) problems.push(...schemaProblems(child, sub, `${path}.${key}`));
      else problems.push(`${path}: unexpected property ${key}`);
    }
  }
  if (schema.type === "array") {
    if (!Array.isArray(value)) return [`${path}: must be an array`];
    value.forEach((item, i) => {
      problems.push(...schemaProblems(item, schema.items as Schema, `${path}[${i}]`));
    });
  }
  return problems;
}

/** Every message valid against the documented schema, with a subject SNS accepts. */
export function expectDocumented(messages: readonly Published[]): void {
  for (const m of messages) {
    expect(schemaProblems(m.body), JSON.stringify(m.body)).toEqual([]);
    expect(m.subject).toMatch(/^[A-Za-z0-9][\x20-\x7e]{0,99}$/);
  }
}
