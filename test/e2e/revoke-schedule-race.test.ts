/**
 * Elevate-Revoke's deleteExpirySchedule script (infra/runbooks/elevate-revoke.yaml) racing
 * EventBridge Scheduler itself: the grant's one-time `at()` schedule, ActionAfterCompletion
 * DELETE, fires in the minute before notAfter and Scheduler deletes it after its one
 * invocation ("For one-time schedules, this occurs after the schedule has invoked its
 * target once", https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-delete.html).
 * When that lands between the script's GetSchedule and its DeleteSchedule, the delete answers
 * ResourceNotFoundException: the schedule is gone, which is what the revoke wanted
 * (AlreadyGone), and the run it started finds no grant policy. Any other error still fails.
 *
 * Forced with the sandbox's knobs.beforeNext: the schedule goes right before DeleteSchedule.
 */
import { CreateScheduleCommand, CreateScheduleGroupCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPythonScript } from "../../sandbox/aws/automation-engine.js";
import { type AwsSandbox, startAwsSandbox } from "../../sandbox/aws/server.js";
import { runbookScriptStep } from "../../sandbox/cfn/runbook.js";

const inputs = runbookScriptStep("infra/runbooks/elevate-revoke.yaml", "deleteExpirySchedule");

let sandbox: AwsSandbox;
let scheduler: SchedulerClient;

beforeAll(async () => {
  sandbox = await startAwsSandbox({ region: "ap-northeast-1" });
  scheduler = new SchedulerClient({
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    credentials: sandbox.rootCredentials,
  });
  await scheduler.send(new CreateScheduleGroupCommand({ Name: "elevate" }));
}, 60_000);

afterAll(async () => {
  scheduler?.destroy();
  await sandbox?.close();
});

/** The grant's end schedule as Elevate-Grant's scheduleExpiry makes it (the fields the revoke reads). */
async function expirySchedule(requestId: string, userName: string): Promise<void> {
  const at = new Date(sandbox.clock.now().getTime() + 3600_000).toISOString().slice(0, 19);
  await scheduler.send(
    new CreateScheduleCommand({
      Name: requestId,
      GroupName: "elevate",
      ScheduleExpression: `at(${at})`,
      ScheduleExpressionTimezone: "UTC",
      FlexibleTimeWindow: { Mode: "OFF" },
      ActionAfterCompletion: "DELETE",
      Target: {
        Arn: "arn:aws:scheduler:::aws-sdk:ssm:startAutomationExecution",
        RoleArn: `arn:aws:iam::${sandbox.defaultAccountId}:role/elevate-scheduler`,
        Input: JSON.stringify({
          DocumentName: "Elevate-ExpireGrant",
          Parameters: { RequestId: [requestId], UserName: [userName] },
        }),
      },
    }),
  );
}

const key = (requestId: string) => `${sandbox.defaultAccountId}/elevate/${requestId}`;

function deleteExpiry(requestId: string, userName: string) {
  const credential = sandbox.rootCredentials;
  return runPythonScript({
    script: inputs.Script,
    handler: inputs.Handler,
    payload: { RequestId: requestId, UserName: userName },
    now: sandbox.clock.now(),
    aws: { credential, endpoint: sandbox.endpoint, region: sandbox.region },
  });
}

describe("deleteExpirySchedule: a schedule that fires (and is deleted by Scheduler) during the revoke", () => {
  it("deletes the grant's schedule when it is there", async () => {
    await expirySchedule("resize-asg", "alice.smith");
    const result = await deleteExpiry("resize-asg", "alice.smith");
    expect(result.ErrorType, String(result.ErrorMessage)).toBeUndefined();
    expect(result.Payload).toEqual({ Schedule: "Deleted" });
    expect(sandbox.state.schedules.has(key("resize-asg"))).toBe(false);
  }, 30_000);

  it("gone between its GetSchedule and its DeleteSchedule: AlreadyGone, the step succeeds", async () => {
    await expirySchedule("rotate-keys", "alice.smith");
    const since = sandbox.callLog.length;
    // Scheduler's ActionAfterCompletion DELETE, right after the one invocation.
    sandbox.knobs.beforeNext("DeleteSchedule", () => {
      sandbox.state.schedules.delete(key("rotate-keys"));
    });
    const result = await deleteExpiry("rotate-keys", "alice.smith");
    expect(result.ErrorType, String(result.ErrorMessage)).toBeUndefined();
    expect(result.Payload).toEqual({ Schedule: "AlreadyGone" });
    const calls = sandbox.callLog.slice(since).filter((c) => c.service === "scheduler");
    expect(calls.map((c) => `${c.action} ${c.outcome}`)).toEqual([
      "GetSchedule ok",
      "DeleteSchedule ResourceNotFoundException",
    ]);
  }, 30_000);

  it("another user's schedule of that name stays (NotThisGrant)", async () => {
    await expirySchedule("debug-asg", "bob");
    const result = await deleteExpiry("debug-asg", "alice.smith");
    expect(result.Payload).toEqual({ Schedule: "NotThisGrant" });
    expect(sandbox.state.schedules.has(key("debug-asg"))).toBe(true);
  }, 30_000);

  it("AccessDenied on the delete fails the step (never taken for 'already gone')", async () => {
    await expirySchedule("s3-fix", "alice.smith");
    sandbox.knobs.failNext("DeleteSchedule", "AccessDeniedException");
    const result = await deleteExpiry("s3-fix", "alice.smith");
    expect(result.ErrorType).toBeDefined();
    expect(String(result.ErrorMessage)).toMatch(/AccessDenied/);
    expect(sandbox.state.schedules.has(key("s3-fix"))).toBe(true);
  }, 30_000);
});
