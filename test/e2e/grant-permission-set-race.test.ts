/**
 * Elevate-GrantPermissionSet's createAssignment script (infra/runbooks/elevate-grant-permission-set.yaml)
 * racing an early revoke of the same grant, run with python3 and boto3 against the sandbox's
 * Identity Center and Scheduler, as the Automation engine runs it.
 *
 * A grant with a later window waits (aws:sleep) until NotBefore. Its request file deleted
 * meanwhile, Elevate-RevokePermissionSet finds no assignment, deletes the grant's end
 * schedule and ends AlreadyAbsent. Were the grant then to assign at NotBefore, that
 * assignment would have no end. So the script assigns only while its end schedule is there,
 * and looks again once the assignment exists: a revoke that deleted the schedule while the
 * creation was in progress (so it saw no assignment) is honoured by deleting the assignment
 * again, unless another active grant covers now. Either way the step fails and says why.
 *
 * The interleavings are forced: the schedule is deleted before the script runs, or while
 * the sandbox holds the creation IN_PROGRESS (identityCenter.knobs.statusPolls) and the
 * script has seen it start (sandbox.callLog), never by timing.
 */
import { CreateScheduleGroupCommand, DeleteScheduleCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runPythonScript } from "../../sandbox/aws/automation-engine.js";
import type { PermissionSet } from "../../sandbox/aws/identity-center.js";
import { type AwsSandbox, type Credentials, startAwsSandbox } from "../../sandbox/aws/server.js";
import { runbookScriptStep } from "../../sandbox/cfn/runbook.js";

const HUB = "123456789012";
const MEMBER = "210987654321";
const USER = "dave@acme.com";

const createAssignment = runbookScriptStep("infra/runbooks/elevate-grant-permission-set.yaml", "createAssignment");
const scheduleEnd = runbookScriptStep("infra/runbooks/elevate-grant-permission-set.yaml", "scheduleEnd");
const revokeScript = runbookScriptStep("infra/runbooks/elevate-revoke-permission-set.yaml", "revoke");

let sandbox: AwsSandbox;
let scheduler: SchedulerClient;
let permissionSet: PermissionSet;
let userId: string;
let eligibleGroupId: string;

beforeAll(async () => {
  sandbox = await startAwsSandbox({ region: "ap-northeast-1", accountIds: [HUB, MEMBER] });
  const ic = sandbox.state.identityCenter;
  userId = ic.createUser(USER).userId;
  eligibleGroupId = ic.createGroup("elevate-eligible").groupId;
  ic.addToGroup(eligibleGroupId, USER);
  permissionSet = ic.createPermissionSet({ name: "ProdAdmin" });
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

beforeEach(() => {
  const ic = sandbox.state.identityCenter;
  ic.knobs.statusPolls = 0;
  if (assigned()) ic.startOperation("delete", assignment());
  for (const key of [...sandbox.state.schedules.keys()]) sandbox.state.schedules.delete(key);
});

const assigned = () => sandbox.state.identityCenter.hasAssignment(USER, MEMBER, permissionSet.arn);
const assignment = () => ({
  accountId: MEMBER,
  permissionSetArn: permissionSet.arn,
  principalType: "USER" as const,
  principalId: userId,
});

function python(inputs: { Script: string; Handler: string }, payload: Record<string, unknown>, creds?: Credentials) {
  const credential = creds ?? sandbox.rootCredentials;
  return runPythonScript({
    script: inputs.Script,
    handler: inputs.Handler,
    payload,
    now: sandbox.clock.now(),
    timeoutSeconds: 90,
    aws: { credential, endpoint: sandbox.endpoint, region: sandbox.region },
  });
}

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");

/** The grant's end schedule, made by the runbook's own scheduleEnd script. */
async function scheduleEndOf(requestId: string, window: { notBefore: string; notAfter: string }) {
  const result = await python(scheduleEnd, {
    RequestId: requestId,
    UserName: USER,
    PermissionSetArn: permissionSet.arn,
    AccountId: MEMBER,
    NotBefore: window.notBefore,
    NotAfter: window.notAfter,
    AutomationAssumeRole: `arn:aws:iam::${HUB}:role/elevate-automation`,
    HubAccountId: HUB,
    Partition: "aws",
  });
  expect(result.ErrorType, String(result.ErrorMessage)).toBeUndefined();
}

function activeWindow() {
  const now = sandbox.clock.now().getTime();
  return { notBefore: iso(now - 60_000), notAfter: iso(now + 2 * 3600_000) };
}

function create(requestId: string) {
  const ic = sandbox.state.identityCenter;
  return python(createAssignment, {
    InstanceArn: ic.instanceArn,
    IdentityStoreId: ic.identityStoreId,
    EligibleGroupId: eligibleGroupId,
    RequestId: requestId,
    PermissionSetArn: permissionSet.arn,
    AccountId: MEMBER,
    UserId: userId,
    UserName: USER,
  });
}

/** Resolves once the sandbox has answered a call of `action` with `outcome` since `since`. */
async function answered(action: string, outcome: string, since: number): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (sandbox.callLog.slice(since).some((c) => c.action === action && c.outcome === outcome)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no ${action} answered ${outcome}`);
}

/** What an early revoke of `requestId` does first: delete the grant's end schedule. */
async function revokeDeletesSchedule(requestId: string): Promise<void> {
  await scheduler.send(new DeleteScheduleCommand({ Name: requestId, GroupName: "elevate" }));
}

describe("a permission-set grant racing its own early revoke", () => {
  it("with its end schedule in place it assigns", async () => {
    await scheduleEndOf("dave-a", activeWindow());
    const result = await create("dave-a");
    expect(result.ErrorType, String(result.ErrorMessage)).toBeUndefined();
    expect(result.Payload).toMatchObject({ Status: "SUCCEEDED" });
    expect(assigned()).toBe(true);
  }, 120_000);

  it("revoked while it waited for NotBefore (end schedule gone): assigns nothing, fails saying so", async () => {
    await scheduleEndOf("dave-b", activeWindow());
    await revokeDeletesSchedule("dave-b");
    const since = sandbox.callLog.length;
    const result = await create("dave-b");
    expect(result.ErrorType).toBeDefined();
    expect(String(result.ErrorMessage)).toMatch(/dave-b was revoked before its window opened.*nothing assigned/);
    expect(assigned()).toBe(false);
    expect(sandbox.callLog.slice(since).filter((c) => c.action === "CreateAccountAssignment")).toEqual([]);
  }, 120_000);

  it("revoked while the creation was in progress: the assignment is deleted again, the step fails", async () => {
    await scheduleEndOf("dave-c", activeWindow());
    const ic = sandbox.state.identityCenter;
    ic.knobs.statusPolls = 1_000;
    const since = sandbox.callLog.length;
    const script = create("dave-c");
    await answered("CreateAccountAssignment", "ok", since);
    // The revoke: its schedule deleted, no assignment seen yet (still being created).
    expect(assigned()).toBe(false);
    await revokeDeletesSchedule("dave-c");
    ic.knobs.statusPolls = 0;
    ic.settle();
    const result = await script;
    expect(result.ErrorType).toBeDefined();
    expect(String(result.ErrorMessage)).toMatch(
      /dave-c was revoked while its assignment was being created.* is gone\); the assignment was deleted again/,
    );
    expect(assigned()).toBe(false);
  }, 120_000);

  it("revoked while the creation was in progress, another grant active: the assignment stays for it", async () => {
    await scheduleEndOf("dave-other", activeWindow());
    await scheduleEndOf("dave-d", activeWindow());
    const ic = sandbox.state.identityCenter;
    ic.knobs.statusPolls = 1_000;
    const since = sandbox.callLog.length;
    const script = create("dave-d");
    await answered("CreateAccountAssignment", "ok", since);
    await revokeDeletesSchedule("dave-d");
    ic.knobs.statusPolls = 0;
    ic.settle();
    const result = await script;
    expect(result.ErrorType).toBeDefined();
    expect(String(result.ErrorMessage)).toMatch(/the assignment stays for dave-other/);
    expect(assigned()).toBe(true);
  }, 120_000);

  it("AccessDenied reading its schedule fails the step and assigns nothing", async () => {
    await scheduleEndOf("dave-e", activeWindow());
    sandbox.knobs.failNext("GetSchedule", "AccessDeniedException");
    const result = await create("dave-e");
    expect(result.ErrorType).toBeDefined();
    expect(String(result.ErrorMessage)).toMatch(/AccessDenied/);
    expect(assigned()).toBe(false);
  }, 120_000);
});

describe("the grant's own end, fired by Scheduler, after its entry left the catalog", () => {
  it("still ends the grant: the fired schedule is still there to name it, and the run deletes it", async () => {
    const window = activeWindow();
    await scheduleEndOf("dave-f", window);
    expect((await create("dave-f")).ErrorType).toBeUndefined();
    expect(assigned()).toBe(true);
    // Scheduler invokes the target once, then applies the schedule's ActionAfterCompletion
    // (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-delete.html).
    const key = `${HUB}/elevate/dave-f`;
    const schedule = sandbox.state.schedules.get(key);
    if (schedule?.actionAfterCompletion === "DELETE") sandbox.state.schedules.delete(key);
    else if (schedule) schedule.completed = true;
    // The started Elevate-RevokePermissionSet runs at NotAfter; the platform team has since
    // removed the pair from GrantablePermissionSets.
    const ic = sandbox.state.identityCenter;
    const result = await python(revokeScript, {
      RequestId: "dave-f",
      UserName: USER,
      PermissionSetArn: permissionSet.arn,
      AccountId: MEMBER,
      InstanceArn: ic.instanceArn,
      IdentityStoreId: ic.identityStoreId,
      GrantablePermissionSets: "",
    });
    expect(result.ErrorType, String(result.ErrorMessage)).toBeUndefined();
    expect(result.Payload).toEqual({ Outcome: "Deleted", CoveringRequests: "" });
    expect(assigned()).toBe(false);
    expect(sandbox.state.schedules.has(key)).toBe(false);
    // A second delivery of the same invocation (Scheduler delivers at least once) finds the
    // grant ended and its schedule gone: nothing left to delete, done, not refused.
    const again = await python(revokeScript, {
      RequestId: "dave-f",
      UserName: USER,
      PermissionSetArn: permissionSet.arn,
      AccountId: MEMBER,
      InstanceArn: ic.instanceArn,
      IdentityStoreId: ic.identityStoreId,
      GrantablePermissionSets: "",
    });
    expect(again.ErrorType, String(again.ErrorMessage)).toBeUndefined();
    expect(again.Payload).toEqual({ Outcome: "AlreadyAbsent", CoveringRequests: "" });
  }, 120_000);
});
