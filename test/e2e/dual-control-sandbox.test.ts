/**
 * Dual control end to end on the AWS sandbox: the deployed template and the
 * Elevate-GrantWithApproval gate, started with the grant role's OIDC
 * credentials, decided by IAM principals over SendAutomationSignal (SigV4 says
 * who signals), and resolved by the revoke role through src/modes/dual-control.ts.
 * Tests run in order on one clock: the timeout case moves it a day and comes last.
 */
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import {
  CreateDocumentCommand,
  GetAutomationExecutionCommand,
  SendAutomationSignalCommand,
  SSMClient,
  StartAutomationExecutionCommand,
  StopAutomationExecutionCommand,
} from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsSandbox, type Credentials, startAwsSandbox } from "../../sandbox/aws/index.js";
import { type DeployResult, deployTemplate } from "../../sandbox/cfn/deploy.js";
import { GitHubOidcIssuer, stableId } from "../../sandbox/github/oidc.js";
import { ELIGIBLE_TAG } from "../../sandbox/world.js";
import { type ElevateConfig, findRole, loadConfig } from "../../src/domain/config.js";
import type { DualControlOutcome } from "../../src/domain/dual-control.js";
import { formatIamTime, grantPolicyDocument, grantPolicyText } from "../../src/domain/grant-policy.js";
import type { GrantPlan } from "../../src/domain/plan.js";
import { approvedGrantClientToken, resolvePendingApprovals, startApprovalGate } from "../../src/modes/dual-control.js";

const START = new Date("2026-11-30T08:00:00Z");
const MERGE_SHA = "a".repeat(40);
let sandbox: AwsSandbox;
let deployed: DeployResult;
let issuer: GitHubOidcIssuer;
let root: { region: string; endpoint: string; credentials: Credentials };
let config: ElevateConfig;
let account: string;
const keys: Record<string, Credentials> = {};

const arnOf = {
  user: (name: string) => `arn:aws:iam::${account}:user/${name}`,
  role: (name: string) => `arn:aws:iam::${account}:role/${name}`,
};

/** Credentials of the grant or revoke role, as its workflow on main would get them. */
async function workflowSsm(workflow: "elevate-grant.yml" | "elevate-revoke.yml"): Promise<SSMClient> {
  const now = sandbox.clock.now();
  const token = issuer.issue(
    {
      repository: "acme/elevate",
      eventName: workflow === "elevate-grant.yml" ? "push" : "schedule",
      ref: "refs/heads/main",
      sha: MERGE_SHA,
      workflowPath: `.github/workflows/${workflow}`,
      actor: "alice",
      runId: 42,
    },
    { audience: "sts.amazonaws.com", now },
  );
  const sts = new STSClient({
    region: sandbox.region,
    endpoint: sandbox.endpoint,
    credentials: { accessKeyId: "", secretAccessKey: "" },
    signer: { sign: async (request) => request },
  });
  const out = await sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: workflow === "elevate-grant.yml" ? config.aws.grantRoleArn : config.aws.revokeRoleArn,
      RoleSessionName: `gh-${workflow.slice(8, 13)}`,
      WebIdentityToken: token,
    }),
  );
  const c = out.Credentials!;
  return new SSMClient({
    region: sandbox.region,
    endpoint: sandbox.endpoint,
    credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
  });
}

function ssmAs(credentials: Credentials): SSMClient {
  return new SSMClient({ region: sandbox.region, endpoint: sandbox.endpoint, credentials, maxAttempts: 1 });
}

/** A session of the listed approver role sec-approver, assumed by dave (who is not listed himself). */
async function securityRoleSession(): Promise<Credentials> {
  const sts = new STSClient({ region: sandbox.region, endpoint: sandbox.endpoint, credentials: keys.dave! });
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: arnOf.role("sec-approver"), RoleSessionName: "dave" }));
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}

async function signal(who: Credentials, executionId: string, type: "Approve" | "Reject", comment?: string) {
  await ssmAs(who).send(
    new SendAutomationSignalCommand({
      AutomationExecutionId: executionId,
      SignalType: type,
      ...(comment ? { Payload: { Comment: [comment] } } : {}),
    }),
  );
}

async function execution(id: string) {
  const out = await new SSMClient(root).send(new GetAutomationExecutionCommand({ AutomationExecutionId: id }));
  return out.AutomationExecution!;
}

function plan(requestId: string, hours = 1): GrantPlan {
  const input = {
    requestId,
    iamUser: "alice.smith",
    roleArn: deployed.outputs.ExampleRoleArn as string,
    notBefore: START,
    notAfter: new Date(START.getTime() + hours * 3_600_000),
  };
  return {
    requestId,
    iamUser: input.iamUser,
    roleArn: input.roleArn,
    notBefore: formatIamTime(input.notBefore),
    notAfter: formatIamTime(input.notAfter),
    policyName: `elevate-${requestId}`,
    policyDocument: grantPolicyDocument(input),
  };
}

async function openGate(requestId: string, prNumber: number): Promise<string> {
  const approval = findRole(config, "ec2-admin")?.awsApproval;
  if (!approval) throw new Error("ec2-admin has no awsApproval");
  const gate = await startApprovalGate(await workflowSsm("elevate-grant.yml"), config, {
    plan: plan(requestId),
    approval,
    prNumber,
    mergeSha: MERGE_SHA,
  });
  // The engine parks the gate in Waiting: waitForExecution returns at that idle point.
  await sandbox.state.waitForExecution(gate.executionId);
  return gate.executionId;
}

async function resolve(revokedRequestIds?: Set<string>): Promise<DualControlOutcome[]> {
  return resolvePendingApprovals(await workflowSsm("elevate-revoke.yml"), config, {
    now: sandbox.clock.now(),
    timeoutMs: 20_000,
    ...(revokedRequestIds ? { revokedRequestIds } : {}),
  });
}

const grantExecutions = () => [...sandbox.state.executions.values()].filter((e) => e.documentName === "Elevate-Grant");

beforeAll(async () => {
  sandbox = await startAwsSandbox({ now: START, clockMode: "frozen" });
  account = sandbox.defaultAccountId;
  root = { region: sandbox.region, endpoint: sandbox.endpoint, credentials: sandbox.rootCredentials };
  issuer = new GitHubOidcIssuer();
  sandbox.addTrustedIssuer({ issuerUrl: issuer.issuerUrl, publicKey: issuer.publicKey, kid: issuer.kid });
  deployed = await deployTemplate({
    templatePath: "infra/template.yaml",
    parameters: {
      GitHubOwner: "acme",
      GitHubRepo: "elevate",
      GitHubRepoId: String(stableId("acme/elevate")),
      CreateApprovalTopic: "true",
      EnableDualControl: "true",
      GrantableRoles: `arn:aws:iam::${account}:role/elevated/EC2_FullAccess_Role=2h`,
    },
    accountId: account,
    region: sandbox.region,
    credentials: sandbox.rootCredentials,
    endpoints: { iam: sandbox.endpoint, ssm: sandbox.endpoint, sns: sandbox.endpoint },
    inlineManagedPolicies: {
      "arn:aws:iam::aws:policy/AmazonEC2FullAccess": {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "ec2:*", Resource: "*" }],
      },
    },
  });
  const iam = new IAMClient(root);
  await iam.send(new CreateUserCommand({ UserName: "alice.smith", Path: "/elevate/", Tags: [ELIGIBLE_TAG] }));
  // Approvers and bystanders may signal as far as IAM goes; aws:approve decides who counts.
  const signalPolicy = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["ssm:SendAutomationSignal", "ssm:GetAutomationExecution"], Resource: "*" },
      { Effect: "Allow", Action: "sts:AssumeRole", Resource: `arn:aws:iam::${account}:role/sec-approver` },
    ],
  });
  for (const name of ["bob", "carol", "dave", "alice.smith"]) {
    if (name !== "alice.smith") await iam.send(new CreateUserCommand({ UserName: name }));
    await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: "signal", PolicyDocument: signalPolicy }));
    const key = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
    keys[name] = { accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey! };
  }
  await iam.send(
    new CreateRoleCommand({
      RoleName: "sec-approver",
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "sts:AssumeRole" }],
      }),
    }),
  );
  await iam.send(
    new PutRolePolicyCommand({ RoleName: "sec-approver", PolicyName: "signal", PolicyDocument: signalPolicy }),
  );
  const loaded = loadConfig(
    `version: 1
aws:
  region: ${sandbox.region}
  accountId: "${account}"
  grantRoleArn: ${deployed.outputs.GrantRoleArn}
  revokeRoleArn: ${deployed.outputs.RevokeRoleArn}
  automationRoleArn: ${deployed.outputs.AutomationRoleArn}
  grantDocument: Elevate-Grant
  revokeDocument: Elevate-Revoke
users:
  alice: alice.smith
roles:
  ec2-admin:
    arn: ${deployed.outputs.ExampleRoleArn}
    maxDuration: 2h
    awsApproval:
      approvers:
        - ${arnOf.user("bob")}
        - ${arnOf.user("carol")}
        - ${arnOf.role("sec-approver")}
      minApprovals: 2
`,
    "elevate.yml",
  );
  if (!loaded.config) throw new Error(JSON.stringify(loaded.errors));
  config = loaded.config;
});

afterAll(async () => {
  await sandbox?.close();
});

describe("dual control on the sandbox", () => {
  it("waits for approval without a runner: status Waiting, request published to the Automation topic", async () => {
    const id = await openGate("dc-waiting", 11);
    const e = await execution(id);
    expect(e.AutomationExecutionStatus).toBe("Waiting");
    expect(e.StepExecutions?.[0]).toMatchObject({ StepName: "approve", StepStatus: "Waiting" });
    expect(e.ExecutedBy).toMatch(new RegExp(`^arn:aws:sts::${account}:assumed-role/elevate-grant/`));
    const published = sandbox.state.published.filter((m) => m.message.includes(id));
    expect(published).toHaveLength(1);
    expect(published[0]?.topicArn).toBe(deployed.outputs.ApprovalTopicArn);
    expect(published[0]?.publishedBy).toMatch(/assumed-role\/elevate-automation\//);
    expect(published[0]?.message).toContain("allow IAM user alice.smith to assume");
    const outcomes = await resolve();
    expect(outcomes.find((o) => o.gateExecutionId === id)).toMatchObject({
      status: "pending",
      requestId: "dc-waiting",
    });
    expect(grantExecutions()).toHaveLength(0);
    // Re-running the grant workflow joins the same gate (ClientToken from request and merge).
    expect(await openGate("dc-waiting", 11)).toBe(id);
    await new SSMClient(root).send(new StopAutomationExecutionCommand({ AutomationExecutionId: id }));
    await sandbox.state.waitForExecution(id);
    expect((await execution(id)).AutomationExecutionStatus).toBe("Cancelled");
  });

  it("refuses signals from principals that are not listed approvers, and counts each approver once", async () => {
    const id = await openGate("dc-approved", 12);
    for (const stranger of ["dave", "alice.smith"]) {
      await expect(signal(keys[stranger]!, id, "Approve")).rejects.toMatchObject({
        name: "InvalidAutomationSignalException",
        message: expect.stringContaining("is not an approver"),
      });
    }
    await expect(signal(keys.dave!, id, "Reject")).rejects.toMatchObject({ name: "InvalidAutomationSignalException" });
    sandbox.clock.advance(10 * 60_000);
    await signal(keys.bob!, id, "Approve", "ok for INC-1234");
    await expect(signal(keys.bob!, id, "Approve")).rejects.toMatchObject({
      name: "InvalidAutomationSignalException",
      message: expect.stringContaining("each approver counts once"),
    });
    const e = await execution(id);
    expect(e.AutomationExecutionStatus).toBe("Waiting");
    expect(e.StepExecutions?.[0]?.Outputs?.ApprovalStatus).toEqual(["Waiting"]);
    expect(e.StepExecutions?.[0]?.Outputs?.ApproverDecisions).toHaveLength(1);
    expect((await resolve()).find((o) => o.gateExecutionId === id)?.status).toBe("pending");
    expect(grantExecutions()).toHaveLength(0);
  });

  it("approved by the required number of approvers: the grant policy's window starts at the approval", async () => {
    const id = [...sandbox.state.executions.values()].find(
      (e) => e.documentName === "Elevate-GrantWithApproval" && e.status === "Waiting",
    )?.id as string;
    sandbox.clock.advance(20 * 60_000 + 500);
    const approvedAt = sandbox.clock.now();
    // The second distinct approver is a role: any session of sec-approver counts for it.
    await signal(await securityRoleSession(), id, "Approve");
    await sandbox.state.waitForExecution(id);
    const e = await execution(id);
    expect(e.AutomationExecutionStatus).toBe("Success");
    expect(e.Outputs?.["approve.ApprovalStatus"]).toEqual(["Approved"]);
    // The approval time is the decisive signal's; the window starts at its whole second.
    expect(e.StepExecutions?.[0]?.ExecutionEndTime?.getTime()).toBe(approvedAt.getTime());

    sandbox.clock.advance(5 * 60_000); // the next scheduled revoke run
    const outcome = (await resolve()).find((o) => o.gateExecutionId === id);
    const notBefore = new Date(Math.floor(approvedAt.getTime() / 1000) * 1000);
    const notAfter = new Date(notBefore.getTime() + 3_600_000);
    expect(outcome).toMatchObject({
      status: "granted",
      requestId: "dc-approved",
      prNumber: 12,
      notBefore: formatIamTime(notBefore),
      notAfter: formatIamTime(notAfter),
      newlyResolved: true,
    });
    expect(outcome?.decisions?.map((d) => d.decision)).toEqual(["Approve", "Approve"]);
    const policy = sandbox.state.userPolicies("alice.smith")["elevate-dc-approved"];
    expect(JSON.stringify(policy)).toBe(
      grantPolicyText({
        requestId: "dc-approved",
        iamUser: "alice.smith",
        roleArn: deployed.outputs.ExampleRoleArn as string,
        notBefore,
        notAfter,
      }),
    );
    // Started by the revoke role with the request-and-merge ClientToken (invariant 4).
    const grants = grantExecutions();
    expect(grants).toHaveLength(1);
    expect(grants[0]?.clientToken).toBe(approvedGrantClientToken("dc-approved", MERGE_SHA));
    expect(grants[0]?.executedBy).toMatch(/assumed-role\/elevate-revoke\//);
  });

  it("re-resolving is idempotent: no second Elevate-Grant execution, same window", async () => {
    sandbox.clock.advance(5 * 60_000);
    const first = grantExecutions()[0]?.id;
    const outcome = (await resolve()).find((o) => o.requestId === "dc-approved");
    expect(outcome).toMatchObject({ status: "granted", grantExecutionId: first, newlyResolved: false });
    expect(grantExecutions()).toHaveLength(1);
    // A request deleted in the meantime (early revoke) is never granted again by its gate.
    const revoked = (await resolve(new Set(["dc-approved"]))).find((o) => o.requestId === "dc-approved");
    expect(revoked).toMatchObject({ status: "refused", message: expect.stringContaining("was revoked") });
    expect(grantExecutions()).toHaveLength(1);
  });

  it("rejection by any approver: the gate fails, the request is refused, no policy", async () => {
    const id = await openGate("dc-rejected", 13);
    await signal(keys.bob!, id, "Approve");
    await signal(keys.carol!, id, "Reject", "not during the freeze");
    await sandbox.state.waitForExecution(id);
    const e = await execution(id);
    // "Understanding automation statuses": a rejected aws:approve step fails the automation.
    expect(e.AutomationExecutionStatus).toBe("Failed");
    expect(e.StepExecutions?.[0]?.StepStatus).toBe("Failed");
    expect(e.StepExecutions?.[0]?.Outputs?.ApprovalStatus).toEqual(["Rejected"]);
    await expect(signal(keys.bob!, id, "Approve")).rejects.toMatchObject({ name: "InvalidAutomationSignalException" });
    const outcome = (await resolve()).find((o) => o.gateExecutionId === id);
    expect(outcome).toMatchObject({ status: "refused", requestId: "dc-rejected", prNumber: 13 });
    expect(outcome?.message).toContain(`rejected in AWS by ${arnOf.user("carol")} ("not during the freeze")`);
    expect(sandbox.state.userPolicies("alice.smith")).not.toHaveProperty("elevate-dc-rejected");
    expect(grantExecutions()).toHaveLength(1);
  });

  it("the requester's approval through a listed role's session (named after her) is refused, whoever else approved", async () => {
    const id = await openGate("dc-self", 14);
    // Her IAM user is not an approver; a session of the approver role named after her is one for AWS.
    const sts = new STSClient({
      region: sandbox.region,
      endpoint: sandbox.endpoint,
      credentials: keys["alice.smith"]!,
    });
    const own = await sts.send(
      new AssumeRoleCommand({ RoleArn: arnOf.role("sec-approver"), RoleSessionName: "alice.smith" }),
    );
    const c = own.Credentials!;
    await signal(
      { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
      id,
      "Approve",
    );
    await signal(keys.bob!, id, "Approve");
    await sandbox.state.waitForExecution(id);
    expect((await execution(id)).AutomationExecutionStatus).toBe("Success"); // AWS's view: two listed approvers
    const before = grantExecutions().length;
    const outcome = (await resolve()).find((o) => o.gateExecutionId === id);
    expect(outcome).toMatchObject({
      status: "refused",
      requestId: "dc-self",
      message: expect.stringMatching(
        new RegExp(
          `^the requester approved her own gate in AWS \\(arn:aws:sts::${account}:assumed-role/sec-approver/alice\\.smith,`,
        ),
      ),
    });
    expect(grantExecutions()).toHaveLength(before);
    expect(sandbox.state.userPolicies("alice.smith")["elevate-dc-self"]).toBeUndefined();
  });

  it("a gate not started by the grant role is never honoured", async () => {
    // Someone else in the account with StartAutomationExecution on the gate (here the
    // account root) copies a real gate's parameters and gets two approvers to approve.
    const gateParams = [...sandbox.state.executions.values()].find(
      (e) => e.documentName === "Elevate-GrantWithApproval",
    )!.parameters;
    const forged = await new SSMClient(root).send(
      new StartAutomationExecutionCommand({
        DocumentName: "Elevate-GrantWithApproval",
        Parameters: { ...gateParams, RequestId: ["dc-forged"], MergeSha: ["b".repeat(40)] },
      }),
    );
    const id = forged.AutomationExecutionId!;
    await sandbox.state.waitForExecution(id);
    await signal(keys.bob!, id, "Approve");
    await signal(keys.carol!, id, "Approve");
    await sandbox.state.waitForExecution(id);
    expect((await execution(id)).AutomationExecutionStatus).toBe("Success");
    const outcome = (await resolve()).find((o) => o.gateExecutionId === id);
    expect(outcome).toMatchObject({ status: "untrusted", message: expect.stringContaining("not by the grant role") });
    expect(sandbox.state.userPolicies("alice.smith")).not.toHaveProperty("elevate-dc-forged");
    expect(grantExecutions()).toHaveLength(1);
  });

  it("AWS's topic-name rule: a NotificationArn not starting with Automation is refused", async () => {
    const content = (topic: string) =>
      JSON.stringify({
        schemaVersion: "0.3",
        mainSteps: [
          {
            name: "approve",
            action: "aws:approve",
            inputs: { NotificationArn: topic, Approvers: [arnOf.user("bob")] },
          },
        ],
      });
    const ssm = new SSMClient(root);
    await expect(
      ssm.send(
        new CreateDocumentCommand({
          Name: "Bad-Approval",
          DocumentType: "Automation",
          Content: content(`arn:aws:sns:${sandbox.region}:${account}:Elevate`),
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidDocumentContent", message: expect.stringContaining('"Automation"') });
    const gateParams = [...sandbox.state.executions.values()].find(
      (e) => e.documentName === "Elevate-GrantWithApproval",
    )!.parameters;
    await expect(
      ssm.send(
        new StartAutomationExecutionCommand({
          DocumentName: "Elevate-GrantWithApproval",
          Parameters: { ...gateParams, NotificationArn: [`arn:aws:sns:${sandbox.region}:${account}:Elevate`] },
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidAutomationExecutionParametersException" });
  });

  it("timeout: no decision within the step's timeoutSeconds ends TimedOut, and the request is refused", async () => {
    const id = await openGate("dc-timeout", 14);
    await signal(keys.bob!, id, "Approve");
    sandbox.clock.advance(86_399_000);
    expect((await execution(id)).AutomationExecutionStatus).toBe("Waiting");
    sandbox.clock.advance(1_000);
    // Judged on the sandbox clock when anyone looks: the step timed out at its deadline.
    const e = await execution(id);
    await sandbox.state.waitForExecution(id);
    expect(e.AutomationExecutionStatus).toBe("TimedOut");
    expect((await execution(id)).StepExecutions?.[0]?.StepStatus).toBe("TimedOut");
    await expect(signal(keys.carol!, id, "Approve")).rejects.toMatchObject({
      name: "InvalidAutomationSignalException",
    });
    const outcomes = await resolve();
    const outcome = outcomes.find((o) => o.gateExecutionId === id);
    expect(outcome).toMatchObject({ status: "refused", requestId: "dc-timeout", prNumber: 14 });
    expect(outcome?.message).toContain("no AWS-side approval within 24 h (1 of 2 approvals)");
    expect(sandbox.state.userPolicies("alice.smith")).not.toHaveProperty("elevate-dc-timeout");
    // The approved request's window has closed by now: still no second execution.
    expect(outcomes.find((o) => o.requestId === "dc-approved")?.status).toBe("refused");
    expect(grantExecutions()).toHaveLength(1);
  });
});
