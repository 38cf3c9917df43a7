import {
  GetAutomationExecutionCommand,
  SSMClient,
  StartAutomationExecutionCommand,
  type StartAutomationExecutionCommandInput,
} from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { automationClientToken } from "../../src/adapters/aws.js";
import { loadConfig } from "../../src/domain/config.js";
import type { Revocation } from "../../src/domain/revoke-plan.js";
import { revokeParameters, revokeTokenParts, runRunbook } from "../../src/modes/revoke.js";

const ssmMock = mockClient(SSMClient);
afterEach(() => ssmMock.reset());

const CONFIG_TEXT = `version: 1
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
    arn: arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role
`;
const loaded = loadConfig(CONFIG_TEXT, ".github/elevate.yml");
if (!loaded.config) throw new Error(JSON.stringify(loaded.errors));
const config = loaded.config;

const revocation: Revocation = {
  requestId: "resize-asg",
  policyName: "elevate-resize-asg",
  iamUser: "alice.smith",
  roleArn: "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role",
  roleName: "EC2_FullAccess_Role",
  window: { notBefore: new Date("2026-11-30T09:00:00Z"), notAfter: new Date("2026-11-30T11:00:00Z") },
  reason: "expired",
  why: "its window ended at 2026-11-30T11:00:00Z",
  cutOff: true,
  revokedAt: new Date("2026-11-30T11:00:01Z"),
  stampAtRunTime: false,
};

describe("Elevate-Revoke parameters", () => {
  it("match the runbook's parameter names and patterns exactly", () => {
    expect(revokeParameters(config, revocation)).toEqual({
      AutomationAssumeRole: "arn:aws:iam::123456789012:role/elevate-automation",
      RequestId: "resize-asg",
      UserName: "alice.smith",
      RoleName: "EC2_FullAccess_Role",
      CutOff: "true",
      RevokedAt: "2026-11-30T11:00:01Z",
      StampAtRunTime: "false",
      StampNotAfter: "9999-12-31T23:59:59Z",
      RoleAccountId: "123456789012",
      CoveringRequests: "-",
    });
    // An early revoke: the runbook stamps the cut-off on AWS's clock, never into a pending grant.
    expect(
      revokeParameters(config, {
        ...revocation,
        reason: "early",
        revokedAt: new Date("2026-11-30T10:00:00Z"),
        stampAtRunTime: true,
        stampNotAfter: new Date("2026-11-30T10:30:00Z"),
      }),
    ).toMatchObject({
      RevokedAt: "2026-11-30T10:00:00Z",
      StampAtRunTime: "true",
      StampNotAfter: "2026-11-30T10:30:00Z",
      RoleAccountId: "123456789012",
      CoveringRequests: "-",
    });
    const { roleArn: _arn, roleName: _name, ...unparsed } = revocation;
    const noCut = revokeParameters(config, { ...unparsed, cutOff: false });
    expect(noCut).toMatchObject({ CutOff: "false", RoleName: "alice.smith" });
  });

  it("never pair CutOff 'true' with the placeholder role name", () => {
    const { roleArn: _arn, roleName: _name, ...unparsed } = revocation;
    expect(() => revokeParameters(config, { ...unparsed, cutOff: true })).toThrow(
      "resize-asg: a session cut-off needs the role's name",
    );
    // A role name outside the runbook's pattern is no role name either.
    expect(() =>
      revokeParameters(config, {
        ...revocation,
        roleArn: "arn:aws:iam::123456789012:role/elevated/.hidden",
        roleName: ".hidden",
      }),
    ).toThrow("a session cut-off needs the role's name");
  });

  it("derive the ClientToken from the request, its window and every parameter", () => {
    const parameters = revokeParameters(config, revocation);
    const parts = revokeTokenParts(revocation, parameters);
    expect(parts.slice(0, 3)).toEqual(["revoke", "resize-asg", "2026-11-30T09:00:00Z/2026-11-30T11:00:00Z"]);
    const later = revokeParameters(config, { ...revocation, revokedAt: new Date("2026-11-30T12:00:00Z") });
    expect(automationClientToken(...revokeTokenParts(revocation, later))).not.toBe(automationClientToken(...parts));
  });
});

describe("runRunbook", () => {
  const parameters = revokeParameters(config, revocation);
  const tokenParts = revokeTokenParts(revocation, parameters);
  const now = Date.parse("2026-11-30T12:00:00Z");

  it("starts with the attempt-0 token and the exact inputs, and succeeds only on Success", async () => {
    ssmMock.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: "exec-1" });
    ssmMock.on(GetAutomationExecutionCommand).resolves({
      AutomationExecution: { AutomationExecutionStatus: "Success", ExecutionStartTime: new Date(now) },
    });
    const result = await runRunbook(
      new SSMClient({ region: "ap-northeast-1" }),
      { documentName: "Elevate-Revoke", parameters, tokenParts, timeoutMs: 5000 },
      () => now,
    );
    expect(result).toEqual({
      executionId: "exec-1",
      succeeded: true,
      message: "execution exec-1 succeeded",
      outputs: {},
    });
    const input = ssmMock.commandCalls(StartAutomationExecutionCommand)[0]?.args[0]
      .input as StartAutomationExecutionCommandInput;
    expect(input).toEqual({
      DocumentName: "Elevate-Revoke",
      // The newest runbook version, whatever the default version is (issue: stack updates).
      DocumentVersion: "$LATEST",
      Parameters: {
        AutomationAssumeRole: ["arn:aws:iam::123456789012:role/elevate-automation"],
        RequestId: ["resize-asg"],
        UserName: ["alice.smith"],
        RoleName: ["EC2_FullAccess_Role"],
        CutOff: ["true"],
        RevokedAt: ["2026-11-30T11:00:01Z"],
        StampAtRunTime: ["false"],
        StampNotAfter: ["9999-12-31T23:59:59Z"],
        RoleAccountId: ["123456789012"],
        CoveringRequests: ["-"],
      },
      ClientToken: automationClientToken(...tokenParts, "attempt-0"),
    });
  });

  it("moves past an execution that failed in an earlier run to the next token", async () => {
    ssmMock
      .on(StartAutomationExecutionCommand, { ClientToken: automationClientToken(...tokenParts, "attempt-0") })
      .resolves({ AutomationExecutionId: "exec-old" })
      .on(StartAutomationExecutionCommand, { ClientToken: automationClientToken(...tokenParts, "attempt-1") })
      .resolves({ AutomationExecutionId: "exec-new" });
    ssmMock
      .on(GetAutomationExecutionCommand, { AutomationExecutionId: "exec-old" })
      .resolves({
        AutomationExecution: {
          AutomationExecutionStatus: "Failed",
          ExecutionStartTime: new Date(now - 10 * 60_000),
          FailureMessage: "Throttling",
        },
      })
      .on(GetAutomationExecutionCommand, { AutomationExecutionId: "exec-new" })
      .resolves({ AutomationExecution: { AutomationExecutionStatus: "Success", ExecutionStartTime: new Date(now) } });
    const result = await runRunbook(
      new SSMClient({ region: "ap-northeast-1" }),
      { documentName: "Elevate-Revoke", parameters, tokenParts, timeoutMs: 5000 },
      () => now,
    );
    expect(result.executionId).toBe("exec-new");
    expect(result.succeeded).toBe(true);
    expect(ssmMock.commandCalls(StartAutomationExecutionCommand)).toHaveLength(2);
  });

  it("reports a failure of this run's own execution instead of retrying at once", async () => {
    ssmMock.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: "exec-1" });
    ssmMock.on(GetAutomationExecutionCommand).resolves({
      AutomationExecution: {
        AutomationExecutionStatus: "Failed",
        ExecutionStartTime: new Date(now),
        FailureMessage: "Step putCutOffPolicy failed: LimitExceeded",
      },
    });
    const result = await runRunbook(
      new SSMClient({ region: "ap-northeast-1" }),
      { documentName: "Elevate-Revoke", parameters, tokenParts, timeoutMs: 5000 },
      () => now,
    );
    expect(result).toEqual({
      executionId: "exec-1",
      succeeded: false,
      message: "execution exec-1 ended Failed: Step putCutOffPolicy failed: LimitExceeded",
    });
    expect(ssmMock.commandCalls(StartAutomationExecutionCommand)).toHaveLength(1);
  });

  it("reports a start that SSM refuses", async () => {
    ssmMock
      .on(StartAutomationExecutionCommand)
      .rejects(Object.assign(new Error("User is not authorized"), { name: "AccessDeniedException" }));
    const result = await runRunbook(
      new SSMClient({ region: "ap-northeast-1", maxAttempts: 1 }),
      { documentName: "Elevate-Revoke", parameters, tokenParts, timeoutMs: 5000 },
      () => now,
    );
    expect(result.succeeded).toBe(false);
    expect(result.message).toContain("could not start Elevate-Revoke: AccessDeniedException");
  });
});
