/**
 * Revoke mode through the action bundle, on one world whose frozen clock walks
 * through a morning: scheduled expiry with a session cut-off, stale request PRs,
 * an idempotent re-run, a dropped scheduled run (docs/threat-model.md invariant 6), two runs
 * racing on the same revocation, IAM throttling during the inventory, and the
 * cut-off cleared once the role's MaxSessionDuration has passed.
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
  executionsOf,
  grantThroughPr,
  jsonOutput,
  revoke,
  scheduledRun,
  sessionWorks,
  startRevokeWorld,
  takeSession,
} from "./revoke-bundle-support.js";

let world: ElevateWorld;
let stalePr: number;
let livePr: number;
/** alice's session from inside her window (08:00–09:00). */
let aliceSession: Credentials;
/** bob's session from late in his window (08:00–10:00). */
let bobLateSession: Credentials;

beforeAll(async () => {
  world = await startRevokeWorld({ start: at("2026-11-30T08:00:00Z") });
  await grantThroughPr(world, {
    author: "alice",
    approver: "bob",
    files: { "requests/ec2-admin/alice-expiry.yaml": requestYaml({ requester: "alice", duration: "1h" }) },
  });
  await grantThroughPr(world, {
    author: "bob",
    approver: "carol",
    files: { "requests/ec2-admin/bob-long.yaml": requestYaml({ requester: "bob", duration: "2h" }) },
  });
  // Two open request PRs: one whose window (05:00–06:00) closed before anyone merged it, one without a start.
  stalePr = world.scenario.openRequestPr({
    author: "dave",
    files: {
      "requests/ec2-admin/dave-too-late.yaml": requestYaml({
        requester: "dave",
        duration: "1h",
        start: "2026-11-30T05:00:00Z",
      }),
    },
  }).number;
  livePr = world.scenario.openRequestPr({
    author: "dave",
    files: { "requests/ec2-admin/dave-later.yaml": requestYaml({ requester: "dave", duration: "1h" }) },
  }).number;
}, 90_000);

afterAll(async () => {
  await world?.close();
});

describe("revoke mode through the bundle: expiry", () => {
  it("scheduled run after notAfter: deletes the policy, cuts off alice's old session, keeps bob, closes the stale PR", async () => {
    world.aws.clock.set(at("2026-11-30T08:30:00Z"));
    aliceSession = await takeSession(world, "alice.smith");
    const bobSession = await takeSession(world, "bob");
    expect(await sessionWorks(world, aliceSession)).toBe(true);

    world.aws.clock.set(at("2026-11-30T09:10:00Z"));
    // The policy denies by itself after notAfter, but a session taken inside the window lives on.
    expect((await world.tryAssume("alice.smith")).ok).toBe(false);
    expect(await sessionWorks(world, aliceSession)).toBe(true);

    const run = await revoke(world, scheduledRun(world));
    expect(run.exitCode, run.stdout).toBe(0);
    expect(jsonOutput(run, "revoked")).toEqual(["alice-expiry"]);
    expect(jsonOutput(run, "request-ids")).toEqual(["alice-expiry"]);
    expect(jsonOutput(run, "drift")).toEqual([]);
    const [execution] = executionsOf(world, "Elevate-Revoke", "alice-expiry");
    expect(execution?.status).toBe("Success");
    expect(execution?.parameters.CutOff).toEqual(["true"]);
    expect(jsonOutput(run, "execution-ids")).toEqual([execution?.id]);

    expect(world.grantPolicies("alice.smith")).toEqual([]);
    expect(world.grantPolicies("bob")).toEqual(["elevate-bob-long"]);
    expect(cutoffsOn(world, EXAMPLE_ROLE)).toEqual(["elevate-cutoff-alice.smith"]);
    expect(cutoffTime(world, EXAMPLE_ROLE, "alice.smith")).toBe("2026-11-30T09:00:01Z");
    expect(await sessionWorks(world, aliceSession)).toMatch(/AccessDenied/);
    // bob: another user on the same role, untouched.
    expect(await sessionWorks(world, bobSession)).toBe(true);
    expect((await world.tryAssume("bob")).ok).toBe(true);

    expect(run.summary).toContain(
      "| alice-expiry | alice.smith | arn:aws:iam::123456789012:role/elevated/EC2\\_FullAccess\\_Role | expired: its window ended at 2026-11-30T09:00:00Z | revoked | before 2026-11-30T09:00:01Z |",
    );
    expect(run.summary).toContain("| bob-long | bob |");
    expect(run.summary).toContain("50m |"); // bob's remaining time, 09:10 → 10:00

    const stale = world.github.pullRequest(world.repository, stalePr);
    expect(stale.state).toBe("closed");
    const comments = world.github.comments(world.repository, stalePr);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain(
      "- requests/ec2-admin/dave-too-late.yaml: the requested window closed at 2026-11-30T06:00:00Z",
    );
    expect(run.summary).toContain(`PR #${stalePr} (requests/ec2-admin/dave-too-late.yaml): window closed`);
    expect(world.github.pullRequest(world.repository, livePr).state).toBe("open");
    // The live PR is only announced: its "requested" notification went out, marked once (docs/notifications.md).
    const liveComments = world.github.comments(world.repository, livePr);
    expect(liveComments.map((c) => c.author.login)).toEqual(["github-actions[bot]"]);
    expect(liveComments[0]?.body).toContain("<!-- elevate:requested-notified -->");
  });

  it("re-running is idempotent: nothing to revoke, no second execution, a dispatch for a revoked id is done", async () => {
    world.aws.clock.set(at("2026-11-30T09:15:00Z"));
    const executionsBefore = world.aws.state.executions.size;
    const again = await revoke(world, scheduledRun(world));
    expect(again.exitCode, again.stdout).toBe(0);
    expect(jsonOutput(again, "revoked")).toEqual([]);
    expect(jsonOutput(again, "execution-ids")).toEqual([]);

    const dispatched = await revoke(world, dispatchRun(world, "alice-expiry"), { request: "alice-expiry" });
    expect(dispatched.exitCode, dispatched.stdout).toBe(0);
    expect(jsonOutput(dispatched, "revoked")).toEqual([]);
    expect(dispatched.summary).toContain("alice-expiry: no grant policy in IAM (already revoked or never granted).");
    expect(world.aws.state.executions.size).toBe(executionsBefore);
    expect(world.github.comments(world.repository, stalePr)).toHaveLength(1);
  });

  it("a dropped scheduled run extends nothing; a failed revoke is retried once, even by racing runs", async () => {
    world.aws.clock.set(at("2026-11-30T09:50:00Z"));
    bobLateSession = await takeSession(world, "bob");

    // No revoke run since 09:15: bob's policy is still in IAM, and already refuses him.
    world.aws.clock.set(at("2026-11-30T10:30:00Z"));
    expect(world.grantPolicies("bob")).toEqual(["elevate-bob-long"]);
    const refused = await world.tryAssume("bob");
    expect(refused.ok).toBe(false);
    expect(refused.ok ? "" : refused.error).toMatch(/AccessDenied/);
    expect(await sessionWorks(world, bobLateSession)).toBe(true);

    // The runbook's delete is refused once (AccessDenied, not retried): the run fails and says
    // so. alice's cut-off (09:00:01) is older than the role's MaxSessionDuration (1 h): cleared.
    world.aws.knobs.failNext("DeleteUserPolicy", "AccessDenied", 1);
    const failed = await revoke(world, scheduledRun(world));
    expect(failed.exitCode).toBe(1);
    expect(jsonOutput(failed, "revoked")).toEqual([]);
    const [failedRevoke] = executionsOf(world, "Elevate-Revoke", "bob-long");
    expect(failedRevoke?.status).toBe("Failed");
    const clears = executionsOf(world, "Elevate-ClearCutoff");
    expect(clears.map((e) => [e.parameters.UserName?.[0], e.status])).toEqual([["alice.smith", "Success"]]);
    expect(jsonOutput(failed, "execution-ids")).toEqual([clears[0]?.id, failedRevoke?.id]);
    expect(failed.annotations.some((a) => a.level === "error" && /bob-long: revoke failed/.test(a.message))).toBe(true);
    expect(world.grantPolicies("bob")).toEqual(["elevate-bob-long"]);

    // 10:40, two runs at once (outside the workflow's concurrency group, e.g. a manual copy):
    // both skip the failed execution of the earlier run and retry under the next ClientToken,
    // which SSM maps to one execution; slow AWS answers make both plan the same work.
    world.aws.clock.set(at("2026-11-30T10:40:00Z"));
    const executionsBefore = world.aws.state.executions.size;
    world.aws.knobs.latencyMs = 100;
    const runs = await Promise.all([revoke(world, scheduledRun(world)), revoke(world, scheduledRun(world))]);
    world.aws.knobs.latencyMs = 0;
    expect(world.aws.state.executions.size).toBe(executionsBefore + 1);
    const revokes = executionsOf(world, "Elevate-Revoke", "bob-long");
    expect(revokes.map((e) => e.status)).toEqual(["Failed", "Success"]);
    const retried = revokes[1]?.id as string;
    for (const run of runs) {
      expect(run.exitCode, run.stdout).toBe(0);
      // Whatever the interleaving, a run reports only that one execution.
      const ids = jsonOutput(run, "execution-ids") as string[];
      expect([retried]).toEqual(expect.arrayContaining(ids));
      expect(jsonOutput(run, "revoked")).toEqual(ids.length > 0 ? ["bob-long"] : []);
    }
    expect(runs.some((run) => (jsonOutput(run, "revoked") as string[]).length === 1)).toBe(true);

    expect(world.grantPolicies("bob")).toEqual([]);
    expect(cutoffsOn(world, EXAMPLE_ROLE)).toEqual(["elevate-cutoff-bob"]);
    expect(cutoffTime(world, EXAMPLE_ROLE, "bob")).toBe("2026-11-30T10:00:01Z");
    expect(await sessionWorks(world, bobLateSession)).toMatch(/AccessDenied/);
  });

  it("throttled inventory pages are retried; the cut-off stays for MaxSessionDuration, then is cleared", async () => {
    world.aws.clock.set(at("2026-11-30T10:59:00Z"));
    const listedBefore = world.aws.calls("GetAccountAuthorizationDetails").length;
    world.aws.knobs.failNext("GetAccountAuthorizationDetails", "Throttling", 2);
    const young = await revoke(world, scheduledRun(world));
    expect(young.exitCode, young.stdout).toBe(0);
    const listed = world.aws.calls("GetAccountAuthorizationDetails").slice(listedBefore);
    expect(listed.map((c) => c.outcome)).toEqual([
      expect.stringMatching(/Throttling/),
      expect.stringMatching(/Throttling/),
      "ok",
    ]);
    // 59 minutes old: a session issued just before 10:00:01 may still be alive.
    expect(cutoffsOn(world, EXAMPLE_ROLE)).toEqual(["elevate-cutoff-bob"]);
    expect(executionsOf(world, "Elevate-ClearCutoff")).toHaveLength(1);

    world.aws.clock.set(at("2026-11-30T11:01:00Z"));
    world.aws.knobs.throttleRate = 0.3;
    const old = await revoke(world, scheduledRun(world));
    world.aws.knobs.reset();
    expect(old.exitCode, old.stdout).toBe(0);
    const clears = executionsOf(world, "Elevate-ClearCutoff").filter((e) => e.parameters.UserName?.[0] === "bob");
    expect(clears.map((e) => [e.parameters.RoleName?.[0], e.status])).toEqual([[EXAMPLE_ROLE, "Success"]]);
    expect(jsonOutput(old, "execution-ids")).toEqual([clears[0]?.id]);
    expect(cutoffsOn(world, EXAMPLE_ROLE)).toEqual([]);
    expect(old.summary).toContain("| elevate-cutoff-bob | EC2\\_FullAccess\\_Role | cleared:");
  });
});
