/**
 * Access ends at notAfter in AWS, with no GitHub run (issue 14). Grants go through the
 * real PR → approve → merge → grant-run loop of the committed bundle; after that only
 * the sandbox clock moves: EventBridge Scheduler fires each grant's one-time schedule,
 * which starts Elevate-ExpireGrant as the scheduler role. No revoke workflow runs
 * unless a test says so (the safety net).
 */
import { CreateScheduleCommand, ListSchedulesCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import { SSMClient, StartAutomationExecutionCommand } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ElevateWorld } from "../../sandbox/world.js";
import { requestYaml } from "../../sandbox/world.js";
import { cutoffPolicyText } from "../../src/domain/grant-policy.js";
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
let runsBefore: number;

function schedules(): string[] {
  return [...world.aws.state.schedules.values()].map((s) => `${s.groupName}/${s.name}`).sort();
}

function expireExecutions(requestId: string) {
  return executionsOf(world, "Elevate-ExpireGrant", requestId);
}

/** Moves the world clock and lets every schedule that became due run to its end. */
async function moveClock(iso: string): Promise<void> {
  world.aws.clock.set(at(iso));
  await world.aws.state.settleSchedules();
}

/** Revoke-mode action runs so far (the harness numbers every run). */
function revokeRuns(): number {
  return world.aws.calls("AssumeRoleWithWebIdentity").filter((c) => c.params.RoleArn?.endsWith("/elevate-revoke"))
    .length;
}

beforeAll(async () => {
  world = await startRevokeWorld({ start: at("2026-11-30T08:00:00Z"), awsExpiry: true });
  // alice: two overlapping grants on the same role (08:00–09:00 and 08:00–10:00).
  await grantThroughPr(world, {
    author: "alice",
    approver: "bob",
    files: { "requests/ec2-admin/alice-short.yaml": requestYaml({ requester: "alice", duration: "1h" }) },
  });
  await grantThroughPr(world, {
    author: "alice",
    approver: "bob",
    files: { "requests/ec2-admin/alice-long.yaml": requestYaml({ requester: "alice", duration: "2h" }) },
  });
  // bob: another user on the same role, 08:00–09:00.
  await grantThroughPr(world, {
    author: "bob",
    approver: "carol",
    files: { "requests/ec2-admin/bob-short.yaml": requestYaml({ requester: "bob", duration: "1h" }) },
  });
  // dave: 08:00–09:00, revoked early below.
  await grantThroughPr(world, {
    author: "dave",
    approver: "bob",
    files: { "requests/ec2-admin/dave-early.yaml": requestYaml({ requester: "dave", duration: "1h" }) },
  });
  runsBefore = revokeRuns();
}, 120_000);

afterAll(async () => {
  await world?.close();
});

describe("the grant schedules its own end", () => {
  it("creates one one-time schedule per grant at notAfter, in Elevate's group, run as the scheduler role", () => {
    expect(schedules()).toEqual([
      "elevate/alice-long",
      "elevate/alice-short",
      "elevate/bob-short",
      "elevate/dave-early",
    ]);
    const s = world.aws.state.schedules.get(`${world.aws.defaultAccountId}/elevate/alice-short`);
    expect(s).toMatchObject({
      // The minute before notAfter (Scheduler's 60 s precision); the runbook waits for notAfter.
      scheduleExpression: "at(2026-11-30T08:59:00)",
      scheduleExpressionTimezone: "UTC",
      actionAfterCompletion: "DELETE",
      flexibleTimeWindow: { Mode: "OFF" },
      state: "ENABLED",
    });
    expect(s?.target.Arn).toBe("arn:aws:scheduler:::aws-sdk:ssm:startAutomationExecution");
    expect(s?.target.RoleArn).toBe(world.outputs.SchedulerRoleArn);
    expect(JSON.parse(s?.target.Input ?? "{}")).toEqual({
      DocumentName: "Elevate-ExpireGrant",
      DocumentVersion: "$LATEST",
      Parameters: {
        AutomationAssumeRole: [world.outputs.AutomationRoleArn],
        RequestId: ["alice-short"],
        UserName: ["alice.smith"],
        NotAfter: ["2026-11-30T09:00:00Z"],
      },
    });
    // The schedule was created by the grant runbook (the automation role), before the policy.
    const [grant] = executionsOf(world, "Elevate-Grant", "alice-short");
    expect(grant?.steps.map((step) => `${step.StepName}:${step.StepStatus}`)).toContain("scheduleExpiry:Success");
    expect(
      world.aws.calls("CreateSchedule", "scheduler").every((c) => c.principal.includes("/elevate-automation/")),
    ).toBe(true);
  });
});

describe("one grant's schedule cannot be taken over or deleted through another user", () => {
  async function startAs(document: string, parameters: Record<string, string>) {
    const ssm = new SSMClient({
      region: world.aws.region,
      endpoint: world.aws.endpoint,
      credentials: world.aws.rootCredentials,
    });
    const out = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: document,
        Parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, [v]])),
      }),
    );
    ssm.destroy();
    return world.aws.state.waitForExecution(out.AutomationExecutionId as string);
  }

  it("a grant started with another user's request id fails before any policy, leaving that schedule", async () => {
    const before = world.aws.state.schedules.get(`${world.aws.defaultAccountId}/elevate/alice-long`);
    const forged = await startAs("Elevate-Grant", {
      AutomationAssumeRole: world.outputs.AutomationRoleArn as string,
      RequestId: "alice-long",
      UserName: "carol",
      RoleArn: world.roleArn,
      NotBefore: "2026-11-30T08:00:00Z",
      NotAfter: "2026-11-30T09:00:00Z",
    });
    expect(forged.status).toBe("Failed");
    expect(forged.failureMessage).toContain("ends a grant of 'alice.smith', not 'carol'");
    expect(world.grantPolicies("carol")).toEqual([]);
    expect(world.aws.state.schedules.get(`${world.aws.defaultAccountId}/elevate/alice-long`)).toBe(before);
  });

  it("a revoke naming another user leaves that grant's schedule", async () => {
    const revoked = await startAs("Elevate-Revoke", {
      AutomationAssumeRole: world.outputs.AutomationRoleArn as string,
      RequestId: "alice-long",
      UserName: "carol",
      RoleName: "EC2_FullAccess_Role",
      CutOff: "false",
      RevokedAt: "2026-11-30T08:00:00Z",
      StampAtRunTime: "true",
      StampNotAfter: "9999-12-31T23:59:59Z",
      RoleAccountId: "123456789012",
      CoveringRequests: "-",
    });
    expect(revoked.status).toBe("Success");
    expect(revoked.steps.find((step) => step.StepName === "deleteExpirySchedule")?.Outputs?.Schedule).toEqual([
      "NotThisGrant",
    ]);
    expect(schedules()).toContain("elevate/alice-long");
  });
});

describe("access ends at notAfter with no GitHub run", () => {
  let aliceSession: Awaited<ReturnType<typeof takeSession>>;
  let bobSession: Awaited<ReturnType<typeof takeSession>>;

  it("a session assumed a minute before notAfter is denied a minute after it; overlapping grants never cut each other off", async () => {
    // dave's grant is revoked early first (a dispatch), so his schedule is gone before 09:00.
    const early = await revoke(world, dispatchRun(world, "dave-early"), { request: "dave-early" });
    expect(early.exitCode, early.stdout).toBe(0);
    expect(jsonOutput(early, "revoked")).toEqual(["dave-early"]);
    expect(schedules()).not.toContain("elevate/dave-early");
    const [daveRevoke] = executionsOf(world, "Elevate-Revoke", "dave-early");
    expect(daveRevoke?.outputs).toBeDefined();
    expect(daveRevoke?.steps.find((step) => step.StepName === "deleteExpirySchedule")?.Outputs?.Schedule).toEqual([
      "Deleted",
    ]);
    runsBefore = revokeRuns();

    await moveClock("2026-11-30T08:59:00Z");
    aliceSession = await takeSession(world, "alice.smith");
    bobSession = await takeSession(world, "bob");
    expect(await sessionWorks(world, aliceSession)).toBe(true);
    expect(await sessionWorks(world, bobSession)).toBe(true);

    await moveClock("2026-11-30T09:01:00Z");
    // bob: his only grant ended; his session from 08:59 is denied, in AWS.
    expect(await sessionWorks(world, bobSession)).toMatch(/AccessDenied/);
    expect(world.grantPolicies("bob")).toEqual([]);
    expect(cutoffTime(world, EXAMPLE_ROLE, "bob")).toBe("2026-11-30T09:00:01Z");
    expect(world.aws.state.rolePolicies(EXAMPLE_ROLE)["elevate-cutoff-bob"]).toEqual(
      JSON.parse(cutoffPolicyText("bob", at("2026-11-30T09:00:01Z"))),
    );
    const [bobExpiry] = expireExecutions("bob-short");
    expect(bobExpiry?.status).toBe("Success");
    expect(bobExpiry?.outputs["expireGrant.Outcome"]).toEqual(["Revoked"]);
    expect(bobExpiry?.executedBy).toMatch(/:assumed-role\/elevate-scheduler\//);

    // alice: her short grant ended, but her long one still covers the role (invariant 3).
    expect(world.grantPolicies("alice.smith")).toEqual(["elevate-alice-long"]);
    expect(await sessionWorks(world, aliceSession)).toBe(true);
    // (dave's cut-off is his early revoke's.)
    expect(cutoffsOn(world, EXAMPLE_ROLE).sort()).toEqual(["elevate-cutoff-bob", "elevate-cutoff-dave"]);
    const [aliceShort] = expireExecutions("alice-short");
    expect(aliceShort?.outputs["expireGrant.Reason"]?.[0]).toContain("alice-long");

    // dave's schedule was deleted by the early revoke: nothing fired for him.
    expect(expireExecutions("dave-early")).toEqual([]);
    // Every schedule that fired deleted itself.
    expect(schedules()).toEqual(["elevate/alice-long"]);
    // No GitHub run did any of this.
    expect(revokeRuns()).toBe(runsBefore);
    const byWorkflow = executionsOf(world, "Elevate-Revoke").filter((e) => e.executedBy.includes("/elevate-revoke/"));
    expect(byWorkflow.map((e) => e.parameters.RequestId?.[0])).toEqual(["dave-early"]);
  });

  it("when the last covering grant ends, that session is cut off too", async () => {
    await moveClock("2026-11-30T09:30:00Z");
    const midSession = await takeSession(world, "alice.smith");
    await moveClock("2026-11-30T09:59:00Z");
    const lateSession = await takeSession(world, "alice.smith");
    await moveClock("2026-11-30T10:01:00Z");
    expect(await sessionWorks(world, midSession)).toMatch(/AccessDenied/);
    expect(await sessionWorks(world, lateSession)).toMatch(/AccessDenied/);
    // (The 08:59 session has outlived its one-hour duration by now.)
    expect(await sessionWorks(world, aliceSession)).toMatch(/ExpiredToken|AccessDenied/);
    expect(world.grantPolicies("alice.smith")).toEqual([]);
    expect(cutoffTime(world, EXAMPLE_ROLE, "alice.smith")).toBe("2026-11-30T10:00:01Z");
    expect(schedules()).toEqual([]);
    expect(revokeRuns()).toBe(runsBefore);
  });

  it("the safety net then finds nothing to repair", async () => {
    const run = await revoke(world, scheduledRun(world));
    expect(run.exitCode, run.stdout).toBe(0);
    expect(jsonOutput(run, "revoked")).toEqual([]);
    expect(jsonOutput(run, "drift")).toEqual([]);
  });
});

describe("a schedule that fires after an early revoke, twice or late is a no-op ending Success", () => {
  let scheduler: SchedulerClient;

  beforeAll(async () => {
    scheduler = new SchedulerClient({
      region: world.aws.region,
      endpoint: world.aws.endpoint,
      credentials: world.aws.rootCredentials,
    });
    await moveClock("2026-11-30T11:00:00Z");
    for (const [author, approver, id] of [
      ["alice", "bob", "alice-twice"],
      ["bob", "carol", "bob-late"],
      ["dave", "bob", "dave-revoked"],
    ] as const) {
      await grantThroughPr(world, {
        author,
        approver,
        files: { [`requests/ec2-admin/${id}.yaml`]: requestYaml({ requester: author, duration: "1h" }) },
      });
    }
  }, 90_000);

  afterAll(() => scheduler?.destroy());

  it("after an early revoke: a stale schedule for a revoked grant finds no policy", async () => {
    const early = await revoke(world, dispatchRun(world, "dave-revoked"), { request: "dave-revoked" });
    expect(jsonOutput(early, "revoked")).toEqual(["dave-revoked"]);
    // A schedule for that grant that survived (e.g. re-created by a stale grant run).
    await scheduler.send(
      new CreateScheduleCommand({
        Name: "dave-revoked",
        GroupName: "elevate",
        ScheduleExpression: "at(2026-11-30T12:00:00)",
        FlexibleTimeWindow: { Mode: "OFF" },
        ActionAfterCompletion: "DELETE",
        Target: {
          Arn: "arn:aws:scheduler:::aws-sdk:ssm:startAutomationExecution",
          RoleArn: world.outputs.SchedulerRoleArn,
          Input: JSON.stringify({
            DocumentName: "Elevate-ExpireGrant",
            Parameters: {
              AutomationAssumeRole: [world.outputs.AutomationRoleArn],
              RequestId: ["dave-revoked"],
              UserName: ["dave"],
              NotAfter: ["2026-11-30T12:00:00Z"],
            },
          }),
        },
      }),
    );
  });

  it("twice (at-least-once delivery) and late (after the safety net) end Success and change nothing", async () => {
    // Due together at 12:00, taken in creation order: alice-twice, bob-late, then dave's stale one.
    world.aws.knobs.duplicateNextInvocation();
    world.aws.knobs.dropNextInvocation();
    const daveCutoff = cutoffTime(world, EXAMPLE_ROLE, "dave");
    expect(daveCutoff).toBeDefined();
    await moveClock("2026-11-30T12:05:00Z");
    expect(world.grantPolicies("alice.smith")).toEqual([]);
    const twice = expireExecutions("alice-twice");
    expect(twice.map((e) => e.status)).toEqual(["Success", "Success"]);
    expect(twice.map((e) => e.outputs["expireGrant.Outcome"]?.[0]).sort()).toEqual(["AlreadyRevoked", "Revoked"]);
    expect(cutoffTime(world, EXAMPLE_ROLE, "alice.smith")).toBe("2026-11-30T12:00:01Z");
    const [stale] = expireExecutions("dave-revoked");
    expect(stale?.status).toBe("Success");
    expect(stale?.outputs["expireGrant.Outcome"]).toEqual(["AlreadyRevoked"]);
    // The stale schedule left dave's early-revoke cut-off as it was.
    expect(cutoffTime(world, EXAMPLE_ROLE, "dave")).toBe(daveCutoff);

    // bob's invocation did not come in time: the hourly safety net revokes his grant first.
    expect(expireExecutions("bob-late")).toEqual([]);
    const net = await revoke(world, scheduledRun(world));
    expect(jsonOutput(net, "revoked")).toEqual(["bob-late"]);
    const bobCutoff = cutoffTime(world, EXAMPLE_ROLE, "bob");
    // Then the late delivery of bob's schedule arrives.
    await scheduler.send(
      new CreateScheduleCommand({
        Name: "bob-late",
        GroupName: "elevate",
        ScheduleExpression: "at(2026-11-30T12:10:00)",
        FlexibleTimeWindow: { Mode: "OFF" },
        ActionAfterCompletion: "DELETE",
        Target: {
          Arn: "arn:aws:scheduler:::aws-sdk:ssm:startAutomationExecution",
          RoleArn: world.outputs.SchedulerRoleArn,
          Input: JSON.stringify({
            DocumentName: "Elevate-ExpireGrant",
            Parameters: {
              AutomationAssumeRole: [world.outputs.AutomationRoleArn],
              RequestId: ["bob-late"],
              UserName: ["bob"],
              NotAfter: ["2026-11-30T12:00:00Z"],
            },
          }),
        },
      }),
    );
    await moveClock("2026-11-30T12:15:00Z");
    const [late] = expireExecutions("bob-late");
    expect(late?.status).toBe("Success");
    expect(late?.outputs["expireGrant.Outcome"]).toEqual(["AlreadyRevoked"]);
    // A no-op changes nothing: no cut-off moved, no schedule left.
    expect(cutoffTime(world, EXAMPLE_ROLE, "bob")).toBe(bobCutoff);
    const left = await scheduler.send(new ListSchedulesCommand({ GroupName: "elevate" }));
    expect(left.Schedules).toEqual([]);
  });
});

describe("a missed schedule: the hourly safety net repairs it", () => {
  it("a dropped invocation leaves the session alive until the scheduled revoke run cuts it off", async () => {
    await moveClock("2026-11-30T13:00:00Z");
    await grantThroughPr(world, {
      author: "alice",
      approver: "bob",
      files: { "requests/ec2-admin/alice-missed.yaml": requestYaml({ requester: "alice", duration: "1h" }) },
    });
    await moveClock("2026-11-30T13:59:00Z");
    const session = await takeSession(world, "alice.smith");
    world.aws.knobs.dropNextInvocation();
    await moveClock("2026-11-30T14:01:00Z");
    expect(world.aws.state.scheduleInvocations.at(-1)).toMatchObject({ name: "alice-missed", outcome: "Dropped" });
    expect(expireExecutions("alice-missed")).toEqual([]);
    expect(await sessionWorks(world, session)).toBe(true);

    await moveClock("2026-11-30T14:30:00Z");
    const run = await revoke(world, scheduledRun(world));
    expect(run.exitCode, run.stdout).toBe(0);
    expect(jsonOutput(run, "revoked")).toEqual(["alice-missed"]);
    expect(await sessionWorks(world, session)).toMatch(/AccessDenied/);
  });
});

describe("the end comes at notAfter, not before", () => {
  it("the run fired in the minute before notAfter waits for it: the session works until notAfter and is denied right after", async () => {
    await moveClock("2026-11-30T15:00:00Z");
    await grantThroughPr(world, {
      author: "carol",
      approver: "bob",
      files: { "requests/ec2-admin/carol-exact.yaml": requestYaml({ requester: "carol", duration: "1h" }) },
    });
    await moveClock("2026-11-30T15:59:30Z");
    const session = await takeSession(world, "carol");
    // at(15:59:00) fires by 15:59:59 at the latest; Elevate-ExpireGrant then sleeps until 16:00:00.
    await moveClock("2026-11-30T15:59:59Z");
    expect(world.aws.state.scheduleInvocations.at(-1)).toMatchObject({ name: "carol-exact", outcome: "Invoked" });
    const [waiting] = expireExecutions("carol-exact");
    expect(waiting?.currentStepName).toBe("waitForNotAfter");
    expect(await sessionWorks(world, session)).toBe(true);
    expect(world.grantPolicies("carol")).toEqual(["elevate-carol-exact"]);

    world.aws.clock.set(at("2026-11-30T16:00:00Z"));
    const deadline = Date.now() + 30_000;
    let works = await sessionWorks(world, session);
    while (works === true && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      works = await sessionWorks(world, session);
    }
    expect(works).toMatch(/AccessDenied/);
    await world.aws.state.waitForExecution(waiting?.id as string);
    expect(waiting?.status).toBe("Success");
    expect(cutoffTime(world, EXAMPLE_ROLE, "carol")).toBe("2026-11-30T16:00:01Z");
    expect(world.grantPolicies("carol")).toEqual([]);
  });
});
