/**
 * Races on a session cut-off (elevate-cutoff-<UserName> on a privileged role) between
 * runbook executions, with the runbooks' own python scripts run against the sandbox's
 * IAM as the Automation engine runs them:
 *
 * - Elevate-Revoke's putCutOffPolicy: the revoker read the cut-off when it planned; the
 *   grant of another request of the same user may end at its notAfter meanwhile
 *   (Elevate-ExpireGrant, started by Scheduler and not held back by the revoke
 *   workflow's concurrency group) and move the cut-off forward. Writing the revoker's
 *   earlier time would give back the sessions that run cut off: the later one stays.
 * - Elevate-ClearCutoff: the revoker found the cut-off old enough to clear; a concurrent
 *   revoke or expiry may move it forward before the clear runs. The clear reads it again
 *   and keeps a cut-off that may still deny live sessions; one that goes between its read
 *   and its delete is done; any other failure fails the step.
 *
 * The concurrent change lands at a fixed point, never by timing: before the script
 * starts (the revoker's plan is older than the run), or through the sandbox's
 * knobs.beforeNext hook right before the script's own IAM call.
 */
import { CreateRoleCommand, CreateUserCommand, IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runPythonScript } from "../../sandbox/aws/automation-engine.js";
import { type AwsSandbox, type Credentials, startAwsSandbox } from "../../sandbox/aws/server.js";
import { runbookScriptStep } from "../../sandbox/cfn/runbook.js";
import { cutoffPolicyText } from "../../src/domain/grant-policy.js";

const USER = "alice.smith";
const ROLE = "ProdAdmin";
const CUTOFF = `elevate-cutoff-${USER}`;
const NOW = new Date("2026-11-30T12:00:00Z");

const putCutOff = runbookScriptStep("infra/runbooks/elevate-revoke.yaml", "putCutOffPolicy");
const clearCutOff = runbookScriptStep("infra/runbooks/elevate-clear-cutoff.yaml", "clearCutOff");
const memberPutCutOff = runbookScriptStep("infra/runbooks/elevate-member-cutoff.yaml", "putCutOff");

let sandbox: AwsSandbox;
let iam: IAMClient;

beforeAll(async () => {
  sandbox = await startAwsSandbox({ region: "ap-northeast-1", now: NOW, clockMode: "frozen" });
  iam = new IAMClient({ endpoint: sandbox.endpoint, region: sandbox.region, credentials: sandbox.rootCredentials });
  await iam.send(new CreateUserCommand({ UserName: "nobody" }));
  await iam.send(
    new CreateRoleCommand({
      RoleName: ROLE,
      MaxSessionDuration: 3600,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "sts:AssumeRole" },
        ],
      }),
    }),
  );
}, 60_000);

afterAll(async () => {
  iam?.destroy();
  await sandbox?.close();
});

beforeEach(() => {
  sandbox.knobs.reset();
  const role = sandbox.state.role(ROLE);
  if (role && CUTOFF in sandbox.state.rolePolicies(ROLE))
    sandbox.state.iam.deleteRolePolicy("123456789012", ROLE, CUTOFF);
});

/** Writes the cut-off as another run (Elevate-ExpireGrant, another Elevate-Revoke) would. */
function cutOffBy(other: string): void {
  sandbox.state.iam.putRolePolicy("123456789012", ROLE, CUTOFF, cutoffPolicyText(USER, new Date(other)));
}

function cutoffTime(): string | undefined {
  const doc = sandbox.state.rolePolicies(ROLE)[CUTOFF] as
    | { Statement: { Condition: { DateLessThan: { "aws:TokenIssueTime": string } } }[] }
    | undefined;
  return doc?.Statement[0]?.Condition.DateLessThan["aws:TokenIssueTime"];
}

function run(
  inputs: { Script: string; Handler: string },
  payload: Record<string, unknown>,
  credentials: Credentials = sandbox.rootCredentials,
) {
  const credential = credentials;
  return runPythonScript({
    script: inputs.Script,
    handler: inputs.Handler,
    payload,
    now: sandbox.clock.now(),
    aws: { credential, endpoint: sandbox.endpoint, region: sandbox.region },
  });
}

const puts = (since: number) => sandbox.callLog.slice(since).filter((c) => c.action === "PutRolePolicy");

describe("Elevate-Revoke putCutOffPolicy: the cut-off only moves forward, also against a concurrent run", () => {
  it("writes exactly cutoffPolicyText at the stamped time when there is none", async () => {
    const result = await run(putCutOff, { UserName: USER, RoleName: ROLE, RevokedAt: "2026-11-30T12:01:00Z" });
    expect(result.ErrorType, String(result.ErrorMessage)).toBeUndefined();
    expect(result.Payload).toEqual({ RevokedAt: "2026-11-30T12:01:00Z", Written: true });
    expect(sandbox.state.iam.getRolePolicy("123456789012", ROLE, CUTOFF)).toBe(
      cutoffPolicyText(USER, new Date("2026-11-30T12:01:00Z")),
    );
  }, 30_000);

  it("moves an earlier cut-off forward", async () => {
    cutOffBy("2026-11-30T09:00:01Z");
    const result = await run(putCutOff, { UserName: USER, RoleName: ROLE, RevokedAt: "2026-11-30T12:01:00Z" });
    expect(result.Payload).toEqual({ RevokedAt: "2026-11-30T12:01:00Z", Written: true });
    expect(cutoffTime()).toBe("2026-11-30T12:01:00Z");
  }, 30_000);

  it("keeps a later cut-off written since the revoker read it (another grant's expiry), untouched", async () => {
    // The revoker planned with no cut-off on the role (RevokedAt = this grant's end + 1 s);
    // then the user's other grant ended and its Elevate-ExpireGrant cut off at its own end.
    cutOffBy("2026-11-30T11:59:31Z");
    const since = sandbox.callLog.length;
    const result = await run(putCutOff, { UserName: USER, RoleName: ROLE, RevokedAt: "2026-11-30T11:00:01Z" });
    expect(result.ErrorType, String(result.ErrorMessage)).toBeUndefined();
    expect(result.Payload).toEqual({ RevokedAt: "2026-11-30T11:59:31Z", Written: false });
    expect(cutoffTime()).toBe("2026-11-30T11:59:31Z");
    expect(puts(since)).toEqual([]);
  }, 30_000);

  it("a concurrent clear that deletes it right after the write (it had read the older one): written again", async () => {
    cutOffBy("2026-11-30T09:00:01Z");
    const since = sandbox.callLog.length;
    // The first GetRolePolicy is this run's read; the second its read-back, before which the
    // concurrent Elevate-ClearCutoff's delete lands.
    sandbox.knobs.beforeNext("GetRolePolicy", () => undefined);
    sandbox.knobs.beforeNext("GetRolePolicy", () => sandbox.state.iam.deleteRolePolicy("123456789012", ROLE, CUTOFF));
    const result = await run(putCutOff, { UserName: USER, RoleName: ROLE, RevokedAt: "2026-11-30T12:01:00Z" });
    expect(result.ErrorType, String(result.ErrorMessage)).toBeUndefined();
    expect(result.Payload).toEqual({ RevokedAt: "2026-11-30T12:01:00Z", Written: true });
    expect(cutoffTime()).toBe("2026-11-30T12:01:00Z");
    expect(puts(since)).toHaveLength(2);
  }, 30_000);

  it("a concurrent earlier cut-off landing right after the write: written again at the later time", async () => {
    sandbox.knobs.beforeNext("GetRolePolicy", () => undefined);
    sandbox.knobs.beforeNext("GetRolePolicy", () => cutOffBy("2026-11-30T11:00:01Z"));
    const result = await run(putCutOff, { UserName: USER, RoleName: ROLE, RevokedAt: "2026-11-30T12:01:00Z" });
    expect(result.Payload).toEqual({ RevokedAt: "2026-11-30T12:01:00Z", Written: true });
    expect(cutoffTime()).toBe("2026-11-30T12:01:00Z");
  }, 30_000);

  it("a concurrent later cut-off landing right after the write is kept", async () => {
    sandbox.knobs.beforeNext("GetRolePolicy", () => undefined);
    sandbox.knobs.beforeNext("GetRolePolicy", () => cutOffBy("2026-11-30T12:05:00Z"));
    const result = await run(putCutOff, { UserName: USER, RoleName: ROLE, RevokedAt: "2026-11-30T12:01:00Z" });
    expect(result.Payload).toEqual({ RevokedAt: "2026-11-30T12:05:00Z", Written: true });
    expect(cutoffTime()).toBe("2026-11-30T12:05:00Z");
  }, 30_000);

  it("AccessDenied fails the step and writes nothing", async () => {
    const result = await run(
      putCutOff,
      { UserName: USER, RoleName: ROLE, RevokedAt: "2026-11-30T12:01:00Z" },
      sandbox.state.createAccessKey("nobody"),
    );
    expect(result.ErrorType).toBeDefined();
    expect(String(result.ErrorMessage)).toMatch(/AccessDenied/);
    expect(cutoffTime()).toBeUndefined();
  }, 30_000);
});

describe("Elevate-MemberCutoff putCutOff: a later cut-off stays untouched", () => {
  it("keeps a later one without rewriting it, moves an earlier one forward", async () => {
    cutOffBy("2026-11-30T11:59:31Z");
    const since = sandbox.callLog.length;
    const kept = await run(memberPutCutOff, { UserName: USER, RoleName: ROLE, RevokedAt: "2026-11-30T11:00:01Z" });
    expect(kept.Payload).toEqual({ RevokedAt: "2026-11-30T11:59:31Z" });
    expect(puts(since)).toEqual([]);
    const moved = await run(memberPutCutOff, { UserName: USER, RoleName: ROLE, RevokedAt: "2026-11-30T12:01:00Z" });
    expect(moved.Payload).toEqual({ RevokedAt: "2026-11-30T12:01:00Z" });
    expect(cutoffTime()).toBe("2026-11-30T12:01:00Z");
  }, 30_000);

  it("deleted by a concurrent clear right after the write: written again", async () => {
    sandbox.knobs.beforeNext("GetRolePolicy", () => undefined);
    sandbox.knobs.beforeNext("GetRolePolicy", () => sandbox.state.iam.deleteRolePolicy("123456789012", ROLE, CUTOFF));
    const result = await run(memberPutCutOff, { UserName: USER, RoleName: ROLE, RevokedAt: "2026-11-30T12:01:00Z" });
    expect(result.Payload).toEqual({ RevokedAt: "2026-11-30T12:01:00Z" });
    expect(cutoffTime()).toBe("2026-11-30T12:01:00Z");
  }, 30_000);
});

describe("Elevate-ClearCutoff: deletes only a cut-off that is still old enough when it runs", () => {
  it("clears a cut-off older than the role's MaxSessionDuration", async () => {
    cutOffBy("2026-11-30T10:30:00Z");
    const result = await run(clearCutOff, { UserName: USER, RoleName: ROLE });
    expect(result.ErrorType, String(result.ErrorMessage)).toBeUndefined();
    expect(result.Payload).toMatchObject({ Outcome: "Cleared" });
    expect(cutoffTime()).toBeUndefined();
  }, 30_000);

  it("keeps a cut-off moved forward since the revoker found it old (a concurrent revoke or expiry)", async () => {
    // The revoker read 10:30:00 (90 minutes old, clearable); before the clear ran, the user's
    // other grant ended and Elevate-ExpireGrant moved the cut-off to 11:59:31.
    cutOffBy("2026-11-30T11:59:31Z");
    const result = await run(clearCutOff, { UserName: USER, RoleName: ROLE });
    expect(result.ErrorType, String(result.ErrorMessage)).toBeUndefined();
    expect(result.Payload).toMatchObject({ Outcome: "NotYet" });
    expect(String((result.Payload as { Reason: string }).Reason)).toMatch(/may live until 2026-11-30T12:59:31Z/);
    expect(cutoffTime()).toBe("2026-11-30T11:59:31Z");
  }, 30_000);

  it("one already gone is done (AlreadyGone)", async () => {
    const result = await run(clearCutOff, { UserName: USER, RoleName: ROLE });
    expect(result.ErrorType, String(result.ErrorMessage)).toBeUndefined();
    expect(result.Payload).toMatchObject({ Outcome: "AlreadyGone" });
  }, 30_000);

  it("one deleted by another clearing run between its read and its delete is done (AlreadyGone)", async () => {
    cutOffBy("2026-11-30T10:30:00Z");
    const since = sandbox.callLog.length;
    sandbox.knobs.beforeNext("DeleteRolePolicy", () =>
      sandbox.state.iam.deleteRolePolicy("123456789012", ROLE, CUTOFF),
    );
    const result = await run(clearCutOff, { UserName: USER, RoleName: ROLE });
    expect(result.ErrorType, String(result.ErrorMessage)).toBeUndefined();
    expect(result.Payload).toMatchObject({ Outcome: "AlreadyGone" });
    const deletes = sandbox.callLog.slice(since).filter((c) => c.action === "DeleteRolePolicy");
    expect(deletes.map((c) => c.outcome)).toEqual(["NoSuchEntity"]);
  }, 30_000);

  it("leaves a policy of that name that is not Elevate's exact cut-off (NotElevates)", async () => {
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: ROLE,
        PolicyName: CUTOFF,
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Deny", Action: "*", Resource: "*" }],
        }),
      }),
    );
    const result = await run(clearCutOff, { UserName: USER, RoleName: ROLE });
    expect(result.Payload).toMatchObject({ Outcome: "NotElevates" });
    expect(sandbox.state.rolePolicies(ROLE)[CUTOFF]).toBeDefined();
  }, 30_000);

  it("AccessDenied fails the step and deletes nothing", async () => {
    cutOffBy("2026-11-30T10:30:00Z");
    const result = await run(clearCutOff, { UserName: USER, RoleName: ROLE }, sandbox.state.createAccessKey("nobody"));
    expect(result.ErrorType).toBeDefined();
    expect(String(result.ErrorMessage)).toMatch(/AccessDenied/);
    expect(cutoffTime()).toBe("2026-11-30T10:30:00Z");
  }, 30_000);

  it("a failed delete fails the step (never taken for 'already gone')", async () => {
    cutOffBy("2026-11-30T10:30:00Z");
    sandbox.knobs.failNext("DeleteRolePolicy", "UnmodifiableEntity");
    const result = await run(clearCutOff, { UserName: USER, RoleName: ROLE });
    expect(result.ErrorType).toBeDefined();
    expect(String(result.ErrorMessage)).toMatch(/UnmodifiableEntity/);
    expect(cutoffTime()).toBe("2026-11-30T10:30:00Z");
  }, 30_000);
});
