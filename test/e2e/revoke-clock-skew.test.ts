/**
 * Revoke mode through the action bundle with a runner whose clock is wrong
 * (docs/threat-model.md invariant 8 and "Time"). The world has one clock,
 * AWS's; the runner's (ELEVATE_NOW) is skewed by `runnerSkewMs`. Every decision must
 * follow AWS's clock:
 *   - 5 minutes behind: an early revoke still cuts off a session assumed just before it;
 *   - 2 hours ahead: a live grant is not taken for expired, a cut-off is not cleared
 *     before the role's MaxSessionDuration has passed on AWS's clock, an open request
 *     PR whose window is still ahead is not closed as stale, and nothing is revoked.
 * Sessions are probed through the sandbox's STS and IAM, whose authorization is
 * evaluated by iam-simulate (cut-off deny on aws:TokenIssueTime included).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Credentials } from "../../sandbox/aws/index.js";
import type { ElevateWorld } from "../../sandbox/world.js";
import { requestYaml } from "../../sandbox/world.js";
import {
  at,
  cutoffsOn,
  cutoffTime,
  dispatchRun,
  EXAMPLE_ROLE,
  grantThroughPr,
  jsonOutput,
  scheduledRun,
  sessionWorks,
  startRevokeWorld,
  takeSession,
} from "./revoke-bundle-support.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let world: ElevateWorld;
let openPr: number;
/** alice's session, assumed one second before the early revoke. */
let aliceSession: Credentials;
/** dave's session inside his live window. */
let daveSession: Credentials;

beforeAll(async () => {
  world = await startRevokeWorld({ start: at("2026-11-30T08:00:00Z") });
  await grantThroughPr(world, {
    author: "alice",
    approver: "bob",
    files: { "requests/ec2-admin/alice-skew.yaml": requestYaml({ requester: "alice", duration: "2h" }) },
  });
  await grantThroughPr(world, {
    author: "dave",
    approver: "bob",
    files: { "requests/ec2-admin/dave-live.yaml": requestYaml({ requester: "dave", duration: "1h" }) },
  });
  // An open request whose window (09:30–10:00) is still ahead on AWS's clock,
  // but already closed on a runner two hours ahead.
  openPr = world.scenario.openRequestPr({
    author: "carol",
    files: {
      "requests/ec2-admin/carol-later.yaml": requestYaml({
        requester: "carol",
        duration: "30m",
        start: "2026-11-30T09:30:00Z",
      }),
    },
  }).number;
}, 90_000);

afterAll(async () => {
  await world?.close();
});

describe("revoke mode decides by AWS's clock, not the runner's", () => {
  it("runner 5 min behind: an early revoke cuts off a session assumed just before it", async () => {
    world.aws.clock.set(at("2026-11-30T08:09:59Z"));
    aliceSession = await takeSession(world, "alice.smith");
    world.aws.clock.set(at("2026-11-30T08:10:00Z"));
    expect(await sessionWorks(world, aliceSession)).toBe(true);

    const run = await world.runAction("revoke", dispatchRun(world, "alice-skew"), {
      inputs: { request: "alice-skew" },
      runnerSkewMs: -5 * MINUTE,
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(jsonOutput(run, "revoked")).toEqual(["alice-skew"]);

    // The cut-off is stamped from AWS's time (08:10 and after), not the runner's 08:05.
    const stamped = Date.parse(cutoffTime(world, EXAMPLE_ROLE, "alice.smith") as string);
    expect(stamped).toBeGreaterThan(at("2026-11-30T08:10:00Z").getTime());
    expect(await sessionWorks(world, aliceSession)).toMatch(/AccessDenied/);
    expect((await world.tryAssume("alice.smith")).ok).toBe(false);
    // dave's grant and access are untouched.
    expect((await world.tryAssume("dave")).ok).toBe(true);
    // About 300 s: the frozen world stands still while the runner's clock runs on (a loaded machine).
    expect(run.stdout).toMatch(/the runner's clock is (2[5-9]\d|300) s behind AWS's/);
  });

  it("runner 2 h ahead: no live grant expires, no cut-off is cleared, no open request is closed", async () => {
    world.aws.clock.set(at("2026-11-30T08:30:00Z"));
    daveSession = await takeSession(world, "dave");
    // On the runner's clock it is 10:30: dave's window (08:00–09:00) would be over, alice's
    // cut-off (08:11) older than the role's MaxSessionDuration (1 h), carol's requested
    // window (09:30–10:00) closed.
    const run = await world.runAction("revoke", scheduledRun(world), { runnerSkewMs: 2 * HOUR });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(jsonOutput(run, "revoked")).toEqual([]);
    expect(jsonOutput(run, "execution-ids")).toEqual([]);

    expect(world.grantPolicies("dave")).toEqual(["elevate-dave-live"]);
    expect(await sessionWorks(world, daveSession)).toBe(true);
    expect((await world.tryAssume("dave")).ok).toBe(true);

    expect(cutoffsOn(world, EXAMPLE_ROLE)).toEqual(["elevate-cutoff-alice.smith"]);
    expect(await sessionWorks(world, aliceSession)).toMatch(/AccessDenied/);

    expect(world.github.pullRequest(world.repository, openPr).state).toBe("open");
    expect(run.summary).toContain("| dave-live | dave |");
    expect(run.stdout).toMatch(/the runner's clock is 72\d\d s ahead of AWS's/);
  });

  it("the same runner, once AWS's clock has passed the window and the session maximum, expires and clears", async () => {
    world.aws.clock.set(at("2026-11-30T09:20:00Z"));
    const run = await world.runAction("revoke", scheduledRun(world), { runnerSkewMs: 2 * HOUR });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(jsonOutput(run, "revoked")).toEqual(["dave-live"]);
    expect(world.grantPolicies("dave")).toEqual([]);
    // Cut off exactly at dave's notAfter (+1 s), not at the runner's 11:20.
    expect(cutoffTime(world, EXAMPLE_ROLE, "dave")).toBe("2026-11-30T09:00:01Z");
    expect(await sessionWorks(world, daveSession)).toMatch(/AccessDenied/);
    // alice's cut-off (08:10 + margin) is over an hour old on AWS's clock: cleared.
    expect(cutoffsOn(world, EXAMPLE_ROLE)).toEqual(["elevate-cutoff-dave"]);
  });

  it("a runbook that runs minutes after the plan still cuts off a session assumed in between", async () => {
    world.aws.clock.set(at("2026-11-30T09:25:00Z"));
    await grantThroughPr(world, {
      author: "bob",
      approver: "carol",
      files: { "requests/ec2-admin/bob-late.yaml": requestYaml({ requester: "bob", duration: "1h" }) },
    });
    // The run plans at 09:25; then AWS is slow (1 s a call and a step) and, by the time
    // the runbook deletes the grant, it is 09:29 and bob has assumed the role again.
    const started = world.aws.calls("StartAutomationExecution").length;
    world.aws.knobs.latencyMs = 1000;
    const running = world.runAction("revoke", dispatchRun(world, "bob-late"), {
      inputs: { request: "bob-late" },
      runnerSkewMs: -5 * MINUTE,
    });
    while (world.aws.calls("StartAutomationExecution").length === started) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    world.aws.clock.set(at("2026-11-30T09:29:00Z"));
    const between = await world.tryAssume("bob");
    const run = await running;
    world.aws.knobs.latencyMs = 0;
    expect(run.exitCode, run.stdout).toBe(0);
    expect(jsonOutput(run, "revoked")).toEqual(["bob-late"]);
    expect(between.ok).toBe(true);
    // Stamped by the runbook at its own time (09:29) + 60 s, not the plan's 09:25.
    expect(cutoffTime(world, EXAMPLE_ROLE, "bob")).toBe("2026-11-30T09:30:00Z");
    expect(await sessionWorks(world, (between as { credentials: Credentials }).credentials)).toMatch(/AccessDenied/);
    // The report gives the time the runbook wrote.
    expect(run.summary).toContain("before 2026-11-30T09:30:00Z");
  }, 120_000);
});
