/**
 * End to end: deploy infra/template.yaml into the AWS sandbox with the mini
 * CloudFormation (real SDK clients), then run the deployed runbooks through
 * SSM Automation and use the result as the requester would.
 */
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
} from "@aws-sdk/client-iam";
import { GetAutomationExecutionCommand, SSMClient, StartAutomationExecutionCommand } from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsSandbox, startAwsSandbox } from "../../sandbox/aws/index.js";
import { type DeployResult, deployTemplate } from "../../sandbox/cfn/deploy.js";
import { ELIGIBLE_TAG } from "../../sandbox/world.js";
import { cutoffPolicyName, cutoffPolicyText, grantPolicyText } from "../../src/domain/grant-policy.js";

const START = new Date("2026-11-30T08:00:00Z");
const NOT_BEFORE = new Date("2026-11-30T09:00:00Z");
const NOT_AFTER = new Date("2026-11-30T11:00:00Z");
const iamTime = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;

/**
 * The sandbox has no AWS managed policies, so the example role's
 * AmazonEC2FullAccess is put inline; its central statement is `ec2:*` on `*`.
 */
const EC2_FULL_ACCESS = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "ec2:*", Resource: "*" }],
};

let sandbox: AwsSandbox;
let deployed: DeployResult;
let iam: IAMClient;
let ssm: SSMClient;
let userCredentials: { accessKeyId: string; secretAccessKey: string };

async function runAutomation(document: string, parameters: Record<string, string>): Promise<string> {
  const started = await ssm.send(
    new StartAutomationExecutionCommand({
      DocumentName: document,
      Parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, [v]])),
    }),
  );
  const id = started.AutomationExecutionId as string;
  // Each aws:executeScript step runs python3 with boto3 (about a second on a loaded machine).
  const giveUpAt = Date.now() + 60_000;
  while (Date.now() < giveUpAt) {
    const { AutomationExecution: execution } = await ssm.send(
      new GetAutomationExecutionCommand({ AutomationExecutionId: id }),
    );
    const status = execution?.AutomationExecutionStatus;
    if (status && !["Pending", "InProgress", "Waiting"].includes(status)) {
      if (status !== "Success") {
        throw new Error(`${document} ended ${status}: ${execution?.FailureMessage ?? "(no message)"}`);
      }
      return status;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${document} did not finish within a minute`);
}

function stsAs(credentials: { accessKeyId: string; secretAccessKey: string }): STSClient {
  return new STSClient({ region: sandbox.region, endpoint: sandbox.endpoint, credentials });
}

beforeAll(async () => {
  sandbox = await startAwsSandbox({ now: START, clockMode: "frozen" });
  const client = { region: sandbox.region, endpoint: sandbox.endpoint, credentials: sandbox.rootCredentials };
  iam = new IAMClient(client);
  ssm = new SSMClient(client);
  deployed = await deployTemplate({
    templatePath: "infra/template.yaml",
    parameters: {
      GitHubOwner: "acme",
      GitHubRepo: "elevate",
      GitHubRepoId: "424242",
      CreateNotificationTopic: "true",
      GrantableRoles: `arn:aws:iam::${sandbox.defaultAccountId}:role/elevated/EC2_FullAccess_Role=2h`,
    },
    accountId: sandbox.defaultAccountId,
    region: sandbox.region,
    credentials: sandbox.rootCredentials,
    endpoints: { iam: sandbox.endpoint, ssm: sandbox.endpoint, sns: sandbox.endpoint },
    inlineManagedPolicies: { "arn:aws:iam::aws:policy/AmazonEC2FullAccess": EC2_FULL_ACCESS },
  });
  await iam.send(new CreateUserCommand({ UserName: "alice.smith", Path: "/elevate/", Tags: [ELIGIBLE_TAG] }));
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: "alice.smith" }));
  userCredentials = {
    accessKeyId: key.AccessKey?.AccessKeyId as string,
    secretAccessKey: key.AccessKey?.SecretAccessKey as string,
  };
});

afterAll(async () => {
  await sandbox?.close();
});

describe("infra/template.yaml in the AWS sandbox", () => {
  it("creates every resource with the planned identities", () => {
    const account = sandbox.defaultAccountId;
    expect(deployed.outputs).toMatchObject({
      GrantRoleArn: `arn:aws:iam::${account}:role/elevate-grant`,
      AutomationRoleArn: `arn:aws:iam::${account}:role/elevate-automation`,
      GrantDocumentName: "Elevate-Grant",
      RevokeDocumentName: "Elevate-Revoke",
      ClearCutoffDocumentName: "Elevate-ClearCutoff",
      GrantApprovalDocumentName: "Elevate-GrantWithApproval",
      ExpireGrantDocumentName: "Elevate-ExpireGrant",
      ScheduleGroupName: "elevate",
      SchedulerRoleArn: `arn:aws:iam::${account}:role/elevate-scheduler`,
      NotifyTopicArn: `arn:aws:sns:${sandbox.region}:${account}:Elevate`,
      ExampleRoleArn: `arn:aws:iam::${account}:role/elevated/EC2_FullAccess_Role`,
      GrantPermissionSetDocumentName: "Elevate-GrantPermissionSet",
      RevokePermissionSetDocumentName: "Elevate-RevokePermissionSet",
    });
    // grant, revoke, automation, scheduler and the example role; nine runbooks (the five, the two
    // permission-set ones and the two member-account ones); Elevate's schedule group.
    expect(sandbox.calls("CreateRole").map((c) => c.outcome)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    expect(sandbox.calls("CreateDocument").map((c) => c.outcome)).toEqual(Array(9).fill("ok"));
    expect(sandbox.calls("CreateScheduleGroup", "scheduler").map((c) => c.params.Name)).toEqual(["elevate"]);
  });

  it("Elevate-Grant attaches the contract's policy, and the user can assume the role only inside the window", async () => {
    const roleArn = deployed.outputs.ExampleRoleArn as string;
    await runAutomation("Elevate-Grant", {
      AutomationAssumeRole: deployed.outputs.AutomationRoleArn as string,
      RequestId: "inc-1234-resize",
      UserName: "alice.smith",
      RoleArn: roleArn,
      NotBefore: iamTime(NOT_BEFORE),
      NotAfter: iamTime(NOT_AFTER),
    });
    const policy = await iam.send(
      new GetUserPolicyCommand({ UserName: "alice.smith", PolicyName: "elevate-inc-1234-resize" }),
    );
    expect(decodeURIComponent(policy.PolicyDocument as string)).toBe(
      grantPolicyText({
        requestId: "inc-1234-resize",
        iamUser: "alice.smith",
        roleArn,
        notBefore: NOT_BEFORE,
        notAfter: NOT_AFTER,
      }),
    );

    const sts = stsAs(userCredentials);
    const assume = (sessionName: string) =>
      sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName }));
    // Before the window.
    await expect(assume("alice.smith")).rejects.toThrow(/not authorized|AccessDenied/i);
    sandbox.clock.set(new Date("2026-11-30T09:30:00Z"));
    // Inside the window, with the session name the console's switch-role sets.
    const session = await assume("alice.smith");
    expect(session.AssumedRoleUser?.Arn).toMatch(/:assumed-role\/EC2_FullAccess_Role\/alice\.smith$/);
    // Any other session name is refused by both the grant and the role's trust.
    await expect(assume("someone-else")).rejects.toThrow(/not authorized|AccessDenied/i);
    sandbox.clock.set(new Date("2026-11-30T11:00:01Z"));
    await expect(assume("alice.smith")).rejects.toThrow(/not authorized|AccessDenied/i);
  });

  it("Elevate-Revoke removes the grant, writes the cut-off, and succeeds again when already revoked", async () => {
    const revokedAt = new Date("2026-11-30T11:05:00Z");
    const parameters = {
      AutomationAssumeRole: deployed.outputs.AutomationRoleArn as string,
      RequestId: "inc-1234-resize",
      UserName: "alice.smith",
      RoleName: "EC2_FullAccess_Role",
      CutOff: "true",
      RevokedAt: iamTime(revokedAt),
      // An expired grant's cut-off: written exactly at RevokedAt.
      StampAtRunTime: "false",
      StampNotAfter: "9999-12-31T23:59:59Z",
      RoleAccountId: "123456789012",
      CoveringRequests: "-",
    };
    await runAutomation("Elevate-Revoke", parameters);
    const left = await iam.send(new ListUserPoliciesCommand({ UserName: "alice.smith" }));
    expect(left.PolicyNames).toEqual([]);
    const rolePolicies = await iam.send(new ListRolePoliciesCommand({ RoleName: "EC2_FullAccess_Role" }));
    expect(rolePolicies.PolicyNames).toContain(cutoffPolicyName("alice.smith"));
    const cutoff = await iam.send(
      new GetRolePolicyCommand({ RoleName: "EC2_FullAccess_Role", PolicyName: cutoffPolicyName("alice.smith") }),
    );
    expect(decodeURIComponent(cutoff.PolicyDocument as string)).toBe(cutoffPolicyText("alice.smith", revokedAt));

    // Already revoked: the delete is skipped, not failed.
    const deletesBefore = sandbox.calls("DeleteUserPolicy").length;
    await runAutomation("Elevate-Revoke", { ...parameters, CutOff: "false" });
    expect(sandbox.calls("DeleteUserPolicy").length).toBe(deletesBefore);

    // Elevate-ClearCutoff keeps a cut-off that may still deny live sessions (the role's
    // MaxSessionDuration, 1 h, has not passed since 11:05), removes it once it has, and is a
    // no-op the second time.
    const clear = {
      AutomationAssumeRole: deployed.outputs.AutomationRoleArn as string,
      UserName: "alice.smith",
      RoleName: "EC2_FullAccess_Role",
    };
    await runAutomation("Elevate-ClearCutoff", clear);
    const kept = await iam.send(new ListRolePoliciesCommand({ RoleName: "EC2_FullAccess_Role" }));
    expect(kept.PolicyNames).toContain(cutoffPolicyName("alice.smith"));
    sandbox.clock.set(new Date("2026-11-30T12:05:00Z"));
    await runAutomation("Elevate-ClearCutoff", clear);
    await runAutomation("Elevate-ClearCutoff", clear);
    const after = await iam.send(new ListRolePoliciesCommand({ RoleName: "EC2_FullAccess_Role" }));
    expect(after.PolicyNames).not.toContain(cutoffPolicyName("alice.smith"));
  }, 90_000);

  it("the automation role cannot write on a user outside the eligible path", async () => {
    // Marked eligible, but outside EligibleUserPath: the path alone still refuses it.
    await iam.send(new CreateUserCommand({ UserName: "admin", Tags: [ELIGIBLE_TAG] }));
    await expect(
      runAutomation("Elevate-Grant", {
        AutomationAssumeRole: deployed.outputs.AutomationRoleArn as string,
        RequestId: "sneaky-grant",
        UserName: "admin",
        RoleArn: deployed.outputs.ExampleRoleArn as string,
        NotBefore: iamTime(NOT_BEFORE),
        NotAfter: iamTime(NOT_AFTER),
      }),
    ).rejects.toThrow(/Failed|AccessDenied|not authorized/i);
    const policies = await iam.send(new ListUserPoliciesCommand({ UserName: "admin" }));
    expect(policies.PolicyNames).toEqual([]);
  });
});
