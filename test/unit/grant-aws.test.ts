/**
 * The exact AWS inputs grant mode sends (aws-sdk-client-mock), and how it
 * reads automation statuses: only `Success` is success (docs/threat-model.md invariants
 * 4 and 5).
 */
import {
  type AutomationExecutionStatus,
  GetAutomationExecutionCommand,
  SSMClient,
  StartAutomationExecutionCommand,
  type StartAutomationExecutionCommandInput,
} from "@aws-sdk/client-ssm";
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { assumeRoleWithWebIdentity, automationClientToken, waitForAutomation } from "../../src/adapters/aws.js";
import { loadConfig } from "../../src/domain/config.js";
import { buildGrantPlan } from "../../src/domain/plan.js";
import { validateRequest } from "../../src/domain/request.js";
import { grantClientToken, grantRunbookParameters, startGrantExecution } from "../../src/modes/grant.js";

const ssmMock = mockClient(SSMClient);
const stsMock = mockClient(STSClient);
afterEach(() => {
  ssmMock.reset();
  stsMock.reset();
});

const ROLE_ARN = "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role";
const loaded = loadConfig(
  `version: 1
aws:
  region: ap-northeast-1
  accountId: "123456789012"
  grantRoleArn: arn:aws:iam::123456789012:role/elevate-grant
  revokeRoleArn: arn:aws:iam::123456789012:role/elevate-revoke
  automationRoleArn: arn:aws:iam::123456789012:role/elevate-automation
  grantDocument: Elevate-Grant
  revokeDocument: Elevate-Revoke
users:
  alice: alice.smith
roles:
  ec2-admin:
    arn: ${ROLE_ARN}
    maxDuration: 2h
`,
  ".github/elevate.yml",
);
if (!loaded.config) throw new Error(JSON.stringify(loaded.errors));
const config = loaded.config;

const MERGED_AT = new Date("2026-11-30T08:15:42.750Z");
const MERGE_SHA = "8f3c2a7d9e1b4c6a0f5e2d8b7a9c1e3f5d7b9a0c";
const validated = validateRequest({
  text: "requester: alice\nrole: ec2-admin\nduration: 1h30m\nreason: Resize the web ASG during INC-1234\n",
  path: "requests/ec2-admin/resize-asg.yaml",
  config,
  author: "alice",
  now: MERGED_AT,
});
if (!validated.request) throw new Error(JSON.stringify(validated.errors));
const planned = buildGrantPlan(validated.request, config, MERGED_AT);
if (!planned.ok) throw new Error(planned.message);
const plan = planned.plan;

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("StartAutomationExecution for a grant", () => {
  it("sends the runbook's parameters as single-element lists and the request+merge ClientToken", async () => {
    ssmMock.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: "exec-1" });
    ssmMock
      .on(GetAutomationExecutionCommand)
      .resolves({ AutomationExecution: { AutomationExecutionStatus: "InProgress" } });
    const id = await startGrantExecution(new SSMClient({ region: "ap-northeast-1" }), {
      documentName: config.aws.grantDocument,
      parameters: grantRunbookParameters(config, plan),
      requestId: plan.requestId,
      mergeSha: MERGE_SHA,
      calledAt: MERGED_AT.getTime(),
    });
    expect(id).toBe("exec-1");
    const calls = ssmMock.commandCalls(StartAutomationExecutionCommand);
    expect(calls).toHaveLength(1);
    const expected: StartAutomationExecutionCommandInput = {
      DocumentName: "Elevate-Grant",
      // The newest runbook version, whatever the default version is (issue: stack updates).
      DocumentVersion: "$LATEST",
      Parameters: {
        AutomationAssumeRole: ["arn:aws:iam::123456789012:role/elevate-automation"],
        RequestId: ["resize-asg"],
        UserName: ["alice.smith"],
        RoleArn: [ROLE_ARN],
        // Whole seconds: the merge's milliseconds are truncated, never rounded up.
        NotBefore: ["2026-11-30T08:15:42Z"],
        NotAfter: ["2026-11-30T09:45:42Z"],
      },
      ClientToken: automationClientToken("resize-asg", MERGE_SHA),
    };
    expect(calls[0]!.args[0].input).toEqual(expected);
  });

  it("derives a UUID-shaped ClientToken from the request id and merge commit only", () => {
    const token = grantClientToken("resize-asg", MERGE_SHA);
    expect(token).toMatch(UUID_V5);
    expect(token).toBe(automationClientToken("resize-asg", MERGE_SHA));
    expect(grantClientToken("resize-asg", MERGE_SHA)).toBe(token);
    expect(grantClientToken("resize-asg", MERGE_SHA.replace(/^8/, "9"))).not.toBe(token);
    expect(grantClientToken("resize-asg-2", MERGE_SHA)).not.toBe(token);
    // Retry attempts get their own, equally deterministic tokens.
    expect(grantClientToken("resize-asg", MERGE_SHA, 1)).toMatch(UUID_V5);
    expect(grantClientToken("resize-asg", MERGE_SHA, 1)).not.toBe(token);
  });

  it("joins a running or succeeded execution, and one that just failed in this run", async () => {
    ssmMock.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: "exec-1" });
    for (const status of ["InProgress", "Success", "Failed"] as const) {
      ssmMock.on(GetAutomationExecutionCommand).resolves({
        AutomationExecution: { AutomationExecutionStatus: status, ExecutionStartTime: MERGED_AT },
      });
      const id = await startGrantExecution(new SSMClient({ region: "ap-northeast-1" }), {
        documentName: "Elevate-Grant",
        parameters: grantRunbookParameters(config, plan),
        requestId: plan.requestId,
        mergeSha: MERGE_SHA,
        calledAt: MERGED_AT.getTime() + 5_000,
      });
      expect(id, status).toBe("exec-1");
    }
    const tokens = ssmMock.commandCalls(StartAutomationExecutionCommand).map((c) => c.args[0].input.ClientToken);
    expect(new Set(tokens)).toEqual(new Set([grantClientToken("resize-asg", MERGE_SHA)]));
  });

  it("starts the next attempt, same parameters, when the token's execution failed in an earlier run", async () => {
    const earlier = new Date(MERGED_AT.getTime());
    const attempt0 = grantClientToken("resize-asg", MERGE_SHA, 0);
    const attempt1 = grantClientToken("resize-asg", MERGE_SHA, 1);
    ssmMock.on(StartAutomationExecutionCommand, { ClientToken: attempt0 }).resolves({ AutomationExecutionId: "old" });
    ssmMock.on(StartAutomationExecutionCommand, { ClientToken: attempt1 }).resolves({ AutomationExecutionId: "new" });
    ssmMock.on(GetAutomationExecutionCommand, { AutomationExecutionId: "old" }).resolves({
      AutomationExecution: { AutomationExecutionStatus: "Failed", ExecutionStartTime: earlier },
    });
    ssmMock.on(GetAutomationExecutionCommand, { AutomationExecutionId: "new" }).resolves({
      AutomationExecution: { AutomationExecutionStatus: "InProgress", ExecutionStartTime: new Date() },
    });
    const id = await startGrantExecution(new SSMClient({ region: "ap-northeast-1" }), {
      documentName: "Elevate-Grant",
      parameters: grantRunbookParameters(config, plan),
      requestId: plan.requestId,
      mergeSha: MERGE_SHA,
      calledAt: MERGED_AT.getTime() + 10 * 60_000,
    });
    expect(id).toBe("new");
    const inputs = ssmMock.commandCalls(StartAutomationExecutionCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.ClientToken)).toEqual([attempt0, attempt1]);
    expect(inputs[1]!.Parameters).toEqual(inputs[0]!.Parameters);
  });
});

describe("AssumeRoleWithWebIdentity for the grant role", () => {
  it("sends the role, the session name, the job's token and a 15-minute session", async () => {
    stsMock.on(AssumeRoleWithWebIdentityCommand).resolves({
      Credentials: {
        AccessKeyId: "ASIAEXAMPLE",
        SecretAccessKey: "secret",
        SessionToken: "session",
        Expiration: new Date("2026-11-30T08:30:00Z"),
      },
    });
    const credentials = await assumeRoleWithWebIdentity({
      region: "ap-northeast-1",
      roleArn: config.aws.grantRoleArn,
      webIdentityToken: "eyJ.header.payload",
      sessionName: "elevate-grant-1001",
    });
    expect(stsMock.commandCalls(AssumeRoleWithWebIdentityCommand).map((c) => c.args[0].input)).toEqual([
      {
        RoleArn: "arn:aws:iam::123456789012:role/elevate-grant",
        RoleSessionName: "elevate-grant-1001",
        WebIdentityToken: "eyJ.header.payload",
        DurationSeconds: 900,
      },
    ]);
    expect(credentials).toEqual({
      accessKeyId: "ASIAEXAMPLE",
      secretAccessKey: "secret",
      sessionToken: "session",
      expiration: new Date("2026-11-30T08:30:00Z"),
    });
  });

  it("fails when STS answers without credentials", async () => {
    stsMock.on(AssumeRoleWithWebIdentityCommand).resolves({});
    await expect(
      assumeRoleWithWebIdentity({
        region: "ap-northeast-1",
        roleArn: config.aws.grantRoleArn,
        webIdentityToken: "t",
        sessionName: "s",
      }),
    ).rejects.toThrow(/returned no credentials/);
  });
});

/** A fake clock whose sleep advances it, recording every delay. */
function fakeTime() {
  let now = 1_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

describe("waitForAutomation", () => {
  const ssm = () => new SSMClient({ region: "ap-northeast-1" });

  it("is a success only for Success", async () => {
    ssmMock
      .on(GetAutomationExecutionCommand)
      .resolvesOnce({ AutomationExecution: { AutomationExecutionStatus: "Pending" } })
      .resolvesOnce({ AutomationExecution: { AutomationExecutionStatus: "InProgress" } })
      .resolves({ AutomationExecution: { AutomationExecutionStatus: "Success", Outputs: { "a.b": ["c"] } } });
    const time = fakeTime();
    const result = await waitForAutomation(ssm(), "exec-1", { timeoutMs: 60_000, ...time });
    expect(result).toEqual({
      executionId: "exec-1",
      status: "Success",
      succeeded: true,
      outputs: { "a.b": ["c"] },
      timedOutWaiting: false,
    });
    expect(ssmMock.commandCalls(GetAutomationExecutionCommand)[0]!.args[0].input).toEqual({
      AutomationExecutionId: "exec-1",
    });
  });

  it.each<AutomationExecutionStatus>([
    "Failed",
    "TimedOut",
    "Cancelled",
    "CompletedWithSuccess",
    "CompletedWithFailure",
    "Rejected",
    "Exited",
  ])("fails on the terminal status %s, with AWS's failure message", async (status) => {
    ssmMock.on(GetAutomationExecutionCommand).resolves({
      AutomationExecution: { AutomationExecutionStatus: status, FailureMessage: "Step fails when it is ..." },
    });
    const result = await waitForAutomation(ssm(), "exec-1", { timeoutMs: 60_000, ...fakeTime() });
    expect(result).toMatchObject({
      status,
      succeeded: false,
      timedOutWaiting: false,
      failureMessage: "Step fails when it is ...",
    });
  });

  it("treats an unknown status as not done, and fails at the timeout", async () => {
    ssmMock.on(GetAutomationExecutionCommand).resolves({
      // A status this SDK version does not know (AWS adds statuses over time).
      AutomationExecution: { AutomationExecutionStatus: "Mystery" as AutomationExecutionStatus },
    });
    const time = fakeTime();
    const result = await waitForAutomation(ssm(), "exec-1", { timeoutMs: 10_000, ...time });
    expect(result).toMatchObject({ status: "Mystery", succeeded: false, timedOutWaiting: true });
    expect(result.failureMessage).toMatch(/still Mystery after 10 s/);
    expect(time.sleeps.reduce((a, b) => a + b, 0)).toBe(10_000);
  });

  it("times out on an execution that never ends, polling at most once a second", async () => {
    ssmMock
      .on(GetAutomationExecutionCommand)
      .resolves({ AutomationExecution: { AutomationExecutionStatus: "InProgress" } });
    const time = fakeTime();
    const result = await waitForAutomation(ssm(), "exec-1", { timeoutMs: 30_000, ...time });
    expect(result).toMatchObject({ status: "InProgress", succeeded: false, timedOutWaiting: true, outputs: {} });
    // Starts fast, grows, and is capped at 1 s so the end of a runbook is seen within a second.
    expect(time.sleeps[0]).toBe(100);
    expect(Math.max(...time.sleeps)).toBe(1000);
    for (let i = 1; i < time.sleeps.length - 1; i++)
      expect(time.sleeps[i]!).toBeGreaterThanOrEqual(time.sleeps[i - 1]!);
    expect(time.sleeps.filter((ms) => ms === 1000).length).toBeGreaterThan(20);
    // Never sleeps past the deadline.
    expect(time.sleeps.reduce((a, b) => a + b, 0)).toBe(30_000);
  });

  it("treats a missing execution as an unknown status, never a success", async () => {
    ssmMock.on(GetAutomationExecutionCommand).resolves({});
    const result = await waitForAutomation(ssm(), "exec-1", { timeoutMs: 1_000, ...fakeTime() });
    expect(result).toMatchObject({ status: "Unknown", succeeded: false, timedOutWaiting: true });
  });
});
