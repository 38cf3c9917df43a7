/**
 * The action's AWS session covers its wait (issue: a session shorter than the
 * wait made polling fail with ExpiredToken after a grant that succeeded).
 *
 * The sandbox's STS enforces both ends: credentials stop working at their
 * Expiration on the sandbox clock, and DurationSeconds above the role's
 * MaxSessionDuration is refused (test/e2e/sandbox-aws-sts.test.ts). Here the
 * bundle waits for a grant execution while the sandbox clock moves 1,000 s,
 * past the 900 s the action used to ask for. Renewal (a run longer than one
 * session) is measured on the runner's own clock and is pinned by
 * test/unit/grant-aws.test.ts.
 */
import { IAMClient, UpdateRoleCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MergeOutcome } from "../../sandbox/git/scenario.js";
import { type ElevateWorld, requestYaml } from "../../sandbox/world.js";
import { grantPolicyName } from "../../src/domain/grant-policy.js";
import { E2E_TIMEOUT_MS, grantExecutions, outputList, requestFile, startWorld } from "./grant-support.js";

let world: ElevateWorld;
beforeAll(async () => {
  world = await startWorld();
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await world?.close();
});

function approvedMerge(id: string, requester: string, approver: string): MergeOutcome {
  const pr = world.scenario.openRequestPr({
    author: requester,
    files: { [requestFile(id)]: requestYaml({ requester }) },
  });
  pr.approve(approver);
  return pr.merge("merge");
}

/** Waits (real time) until the request's grant execution has started and not yet ended. */
async function executionInProgress(id: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const e = grantExecutions(world, id)[0];
    if (e && (e.status === "InProgress" || e.status === "Pending")) return;
    if (e) throw new Error(`the execution ended ${e.status} before the clock moved`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("the grant execution never started");
}

/** Runs the grant while the sandbox clock jumps `seconds` during the execution. */
async function grantAcrossClockJump(merged: MergeOutcome, id: string, seconds: number, inputs = {}) {
  // Each automation step (and each AWS call) takes 1.5 s of real time, so the
  // execution is still running when the clock moves.
  world.aws.knobs.latencyMs = 1500;
  try {
    const running = world.runAction("grant", merged.pushEvent, { inputs });
    await executionInProgress(id);
    world.aws.clock.advance(seconds * 1000);
    return await running;
  } finally {
    world.aws.knobs.latencyMs = 0;
  }
}

describe("a grant whose wait outlives 900 s of AWS time", { timeout: E2E_TIMEOUT_MS }, () => {
  it("still reads the execution's end with the run's credentials, and reports the grant", async () => {
    const id = "long-wait-1";
    const merged = approvedMerge(id, "alice", "bob");
    const run = await grantAcrossClockJump(merged, id, 1000);
    expect(run.exitCode, run.stdout).toBe(0);
    expect(outputList(run, "granted")).toEqual([id]);
    expect(world.grantPolicies("alice.smith")).toEqual([grantPolicyName(id)]);
    // The session asked for: timeout-seconds (default 600) + 900 s margin.
    const assumed = world.aws.calls("AssumeRoleWithWebIdentity").filter((c) => c.outcome === "ok");
    expect(assumed.at(-1)?.params.DurationSeconds).toBe("1500");
    // Polling after the jump used those credentials (an expired one is refused).
    const polls = world.aws.calls("GetAutomationExecution").filter((c) => c.principal.includes("elevate-grant"));
    expect(polls.at(-1)?.outcome).toBe("ok");
    expect(polls.some((c) => c.outcome !== "ok")).toBe(false);
  });

  it("with timeout-seconds 3600 asks for 4,500 s, which the template's roles allow", async () => {
    const id = "long-wait-2";
    const merged = approvedMerge(id, "bob", "carol");
    const run = await grantAcrossClockJump(merged, id, 3000, { "timeout-seconds": "3600" });
    expect(run.exitCode, run.stdout).toBe(0);
    const assumed = world.aws.calls("AssumeRoleWithWebIdentity").filter((c) => c.outcome === "ok");
    expect(assumed.at(-1)?.params.DurationSeconds).toBe("4500");
    expect(run.annotations.filter((a) => a.level === "warning").map((a) => a.message)).not.toContainEqual(
      expect.stringMatching(/MaxSessionDuration/),
    );
  });

  it("on a stack whose grant role allows only 3,600 s, falls back to 3,600-second sessions and says to update the stack", async () => {
    const iam = new IAMClient({
      region: world.aws.region,
      endpoint: world.aws.endpoint,
      credentials: world.aws.rootCredentials,
    });
    await iam.send(new UpdateRoleCommand({ RoleName: "elevate-grant", MaxSessionDuration: 3600 }));
    try {
      const id = "long-wait-3";
      const merged = approvedMerge(id, "carol", "bob");
      const denialsBefore = world.aws.calls("AssumeRoleWithWebIdentity").filter((c) => c.outcome !== "ok").length;
      const run = await world.runAction("grant", merged.pushEvent, { inputs: { "timeout-seconds": "3600" } });
      expect(run.exitCode, run.stdout).toBe(0);
      expect(outputList(run, "granted")).toEqual([id]);
      const calls = world.aws.calls("AssumeRoleWithWebIdentity");
      expect(calls.filter((c) => c.outcome !== "ok")).toHaveLength(denialsBefore + 1);
      expect(calls.at(-2)).toMatchObject({ outcome: "ValidationError", params: { DurationSeconds: "4500" } });
      expect(calls.at(-1)).toMatchObject({ outcome: "ok", params: { DurationSeconds: "3600" } });
      expect(run.annotations.map((a) => `${a.level}: ${a.message}`)).toContainEqual(
        expect.stringMatching(
          /^warning: .*elevate-grant does not allow a 4500-second session .*update the Elevate stack/,
        ),
      );
    } finally {
      await iam.send(new UpdateRoleCommand({ RoleName: "elevate-grant", MaxSessionDuration: 7200 }));
    }
  });
});
