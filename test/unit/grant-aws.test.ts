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
import {
  assumeRoleWithWebIdentity,
  automationClientToken,
  openRoleSession,
  RENEW_BEFORE_MS,
  sessionSecondsFor,
  waitForAutomation,
} from "../../src/adapters/aws.js";
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
  it("sends the role, the session name, the job's token and the session length asked for", async () => {
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
      durationSeconds: 4500,
    });
    expect(stsMock.commandCalls(AssumeRoleWithWebIdentityCommand).map((c) => c.args[0].input)).toEqual([
      {
        RoleArn: "arn:aws:iam::123456789012:role/elevate-grant",
        RoleSessionName: "elevate-grant-1001",
        WebIdentityToken: "eyJ.header.payload",
        DurationSeconds: 4500,
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
        durationSeconds: 900,
      }),
    ).rejects.toThrow(/returned no credentials/);
  });
});

describe("the run's AWS session covers its wait (timeout-seconds) and is renewed before it ends", () => {
  const issued = (n: number) => ({
    Credentials: {
      AccessKeyId: `ASIA${n}`,
      SecretAccessKey: "secret",
      SessionToken: `session-${n}`,
      Expiration: new Date("2026-11-30T09:00:00Z"),
    },
  });

  it("asks for the wait plus 15 minutes, within what STS accepts", () => {
    expect(sessionSecondsFor(600)).toBe(1500);
    expect(sessionSecondsFor(3600)).toBe(4500); // timeout-seconds at its maximum
    expect(sessionSecondsFor(10)).toBe(910);
    expect(sessionSecondsFor(0)).toBe(900);
    expect(sessionSecondsFor(50_000)).toBe(43_200);
  });

  it("renews with a new OIDC token when less than RENEW_BEFORE_MS is left, once for concurrent callers", async () => {
    stsMock.on(AssumeRoleWithWebIdentityCommand).resolvesOnce(issued(1)).resolvesOnce(issued(2));
    let now = 1_000_000;
    const tokens: string[] = [];
    const session = await openRoleSession({
      region: "ap-northeast-1",
      roleArn: config.aws.grantRoleArn,
      sessionName: "elevate-grant-1001",
      durationSeconds: 4500,
      webIdentityToken: async () => {
        tokens.push(`token-${tokens.length + 1}`);
        return tokens.at(-1) as string;
      },
      now: () => now,
    });
    const first = await session();
    expect(first.accessKeyId).toBe("ASIA1");
    // Measured on the caller's clock from the request, not from STS's Expiration.
    expect(first.expiration).toEqual(new Date(1_000_000 + 4500 * 1000));
    now += 4500 * 1000 - RENEW_BEFORE_MS - 1;
    expect((await session()).accessKeyId).toBe("ASIA1");
    now += 2;
    const [a, b] = await Promise.all([session(), session()]);
    expect([a.accessKeyId, b.accessKeyId]).toEqual(["ASIA2", "ASIA2"]);
    expect(a.expiration).toEqual(new Date(now + 4500 * 1000));
    expect(stsMock.commandCalls(AssumeRoleWithWebIdentityCommand).map((c) => c.args[0].input.WebIdentityToken)).toEqual(
      ["token-1", "token-2"],
    );
  });

  it("falls back to 3,600-second sessions (and says so) when the role's MaxSessionDuration is lower", async () => {
    const tooLong = Object.assign(
      new Error("The requested DurationSeconds exceeds the MaxSessionDuration set for this role."),
      { name: "ValidationError" },
    );
    stsMock.on(AssumeRoleWithWebIdentityCommand).rejectsOnce(tooLong).resolves(issued(1));
    const warnings: string[] = [];
    const session = await openRoleSession({
      region: "ap-northeast-1",
      roleArn: config.aws.grantRoleArn,
      sessionName: "s",
      durationSeconds: 4500,
      webIdentityToken: async () => "t",
      now: () => 0,
      onShortSession: (m) => warnings.push(m),
    });
    expect((await session()).expiration).toEqual(new Date(3600 * 1000));
    expect(stsMock.commandCalls(AssumeRoleWithWebIdentityCommand).map((c) => c.args[0].input.DurationSeconds)).toEqual([
      4500, 3600,
    ]);
    expect(warnings).toEqual([
      expect.stringMatching(/does not allow a 4500-second session .*update the Elevate stack/),
    ]);
  });

  it("passes every other refusal on (a trust policy that does not match is not retried)", async () => {
    stsMock
      .on(AssumeRoleWithWebIdentityCommand)
      .rejects(
        Object.assign(new Error("Not authorized to perform sts:AssumeRoleWithWebIdentity"), { name: "AccessDenied" }),
      );
    await expect(
      openRoleSession({
        region: "ap-northeast-1",
        roleArn: config.aws.grantRoleArn,
        sessionName: "s",
        durationSeconds: 4500,
        webIdentityToken: async () => "t",
      }),
    ).rejects.toThrow(/Not authorized/);
    expect(stsMock.commandCalls(AssumeRoleWithWebIdentityCommand)).toHaveLength(1);
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
