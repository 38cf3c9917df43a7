/**
 * Shared fixture helpers for the grant and check end-to-end tests: a frozen
 * world running the action bundle, and small readers for what a run leaves
 * behind (annotations, outputs, executions, evidence).
 *
 * The bundle is the committed action/dist/index.js unless ELEVATE_TEST_BUNDLE
 * names another one (build one with
 * `node scripts/build.mjs --out /tmp/grant-e2e/dist`
 * while changing src/, so a half-built shared bundle never gets in the way).
 */
import { expect } from "vitest";
import type { Annotation } from "../../sandbox/harness/parse.js";
import type { ActionRun } from "../../sandbox/harness/run-action.js";
import { ElevateWorld, type WorldOptions } from "../../sandbox/world.js";
import { parseEvidenceNote } from "../../src/domain/grant-report.js";

/**
 * Per-test and per-hook limit. A test here is a few git operations and one or
 * two child processes, a few seconds alone; the margin is for a busy CI box.
 */
export const E2E_TIMEOUT_MS = 120_000;

/** 08:00 UTC on a fixed day; every window in these tests is relative to it. */
export const WORLD_START = new Date("2026-11-30T08:00:00Z");

export function startWorld(options: WorldOptions = {}): Promise<ElevateWorld> {
  const bundlePath = process.env.ELEVATE_TEST_BUNDLE;
  return ElevateWorld.start({
    clockMode: "frozen",
    start: WORLD_START,
    ...(bundlePath ? { bundlePath } : {}),
    ...options,
  });
}

export function requestFile(id: string, role = "ec2-admin"): string {
  return `requests/${role}/${id}.yaml`;
}

/** Error annotations of a run. */
export function errors(run: ActionRun): Annotation[] {
  return run.annotations.filter((a) => a.level === "error");
}

/** The JSON array an output carries (request-ids, granted, …). */
export function outputList(run: ActionRun, name: string): string[] {
  const text = run.outputs[name];
  expect(text, `output ${name}`).toBeDefined();
  return JSON.parse(text as string) as string[];
}

/** Distinct Elevate-Grant executions the SSM stand-in has seen for a request. */
export function grantExecutions(world: ElevateWorld, requestId: string) {
  return [...world.aws.state.executions.values()].filter(
    (e) => e.documentName === world.outputs.GrantDocumentName && e.parameters.RequestId?.[0] === requestId,
  );
}

/** Evidence lines written on a commit in origin's refs/notes/elevate. */
export function evidenceOn(world: ElevateWorld, sha: string) {
  const note = world.evidenceNote(sha);
  return note === undefined ? [] : parseEvidenceNote(note);
}

/**
 * A run that granted nothing must fail the job, say why in an error
 * annotation, and leave IAM and SSM untouched for that request.
 */
export function expectRefused(
  world: ElevateWorld,
  run: ActionRun,
  input: { requestId: string; iamUser: string; message: RegExp },
): void {
  expect(run.exitCode, run.stdout).not.toBe(0);
  expect(
    errors(run)
      .map((a) => a.message)
      .join("\n"),
  ).toMatch(input.message);
  expect(world.grantPolicies(input.iamUser)).not.toContain(`elevate-${input.requestId}`);
  expect(grantExecutions(world, input.requestId)).toEqual([]);
}
