/**
 * Dual control end to end through the committed bundle (docs/dual-control.md):
 * the grant run of a role with `awsApproval` starts the AWS-side approval gate
 * and reports "waiting" without holding the runner; an approver signals in
 * AWS; the next scheduled revoke run attaches the grant (window from the
 * approval) and reports it on the PR, once. A rejection grants nothing.
 */
import { CreateAccessKeyCommand, IAMClient, PutUserPolicyCommand } from "@aws-sdk/client-iam";
import { SendAutomationSignalCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Credentials } from "../../sandbox/aws/index.js";
import { scheduleEvent } from "../../sandbox/harness/events.js";
import type { ActionRun } from "../../sandbox/harness/run-action.js";
import { ElevateWorld, requestYaml } from "../../sandbox/world.js";
import { parseGrantPolicy } from "../../src/domain/grant-policy.js";

const START = new Date("2026-11-30T08:00:00Z");
const ACCOUNT = "123456789012";
let world: ElevateWorld;
let carolKeys: Credentials;

const list = (run: ActionRun, name: string): string[] => JSON.parse(run.outputs[name] ?? "[]");

beforeAll(async () => {
  world = await ElevateWorld.start({
    start: START,
    clockMode: "frozen",
    ...(process.env.ELEVATE_TEST_BUNDLE ? { bundlePath: process.env.ELEVATE_TEST_BUNDLE } : {}),
    stackParameters: { CreateApprovalTopic: "true", EnableDualControl: "true" },
    extraRoles: [
      "  ec2-dual:",
      `    arn: arn:aws:iam::${ACCOUNT}:role/elevated/EC2_FullAccess_Role`,
      "    awsApproval:",
      `      approvers: [arn:aws:iam::${ACCOUNT}:user/elevate/carol]`,
      "      minApprovals: 1",
    ].join("\n"),
    codeowners: "/requests/ @bob\n/.github/ @carol\n",
  });
  // carol approves in AWS with her own IAM identity (SendAutomationSignal).
  const iam = new IAMClient({
    region: world.aws.region,
    endpoint: world.aws.endpoint,
    credentials: world.aws.rootCredentials,
  });
  await iam.send(
    new PutUserPolicyCommand({
      UserName: "carol",
      PolicyName: "approve-automation",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: ["ssm:SendAutomationSignal", "ssm:GetAutomationExecution"], Resource: "*" },
        ],
      }),
    }),
  );
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: "carol" }));
  carolKeys = { accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey! };
}, 120_000);

afterAll(async () => {
  await world?.close();
});

async function mergeRequest(id: string, requester: string) {
  const pr = world.scenario.openRequestPr({
    author: requester,
    files: { [`requests/ec2-dual/${id}.yaml`]: requestYaml({ requester, role: "ec2-dual", duration: "1h" }) },
  });
  pr.approve("bob");
  return { pr, merged: pr.merge("merge") };
}

async function signal(executionId: string, type: "Approve" | "Reject") {
  const ssm = new SSMClient({
    region: world.aws.region,
    endpoint: world.aws.endpoint,
    credentials: carolKeys,
    maxAttempts: 1,
  });
  await ssm.send(new SendAutomationSignalCommand({ AutomationExecutionId: executionId, SignalType: type }));
}

const scheduled = () =>
  world.runAction(
    "revoke",
    scheduleEvent({
      repository: world.scenario.webhookRepository(),
      cron: "17 * * * *",
      sha: world.scenario.mainSha(),
    }),
  );

describe("dual control through the bundle", () => {
  it("grant waits for AWS-side approval; the scheduled run grants once approved, from the approval time", async () => {
    const { pr, merged } = await mergeRequest("dual-approved", "alice");
    const grant = await world.runAction("grant", merged.pushEvent);
    expect(grant.exitCode, grant.stdout).toBe(0);
    expect(list(grant, "granted")).toEqual([]);
    expect(list(grant, "refused")).toEqual([]);
    const [gateId] = list(grant, "execution-ids");
    expect(gateId).toMatch(/^[0-9a-f-]{36}$/);
    expect(world.grantPolicies("alice.smith")).toEqual([]);
    expect(world.github.comments(world.repository, pr.number).at(-1)?.body).toContain("waiting for AWS-side approval");
    expect((await world.tryAssume("alice.smith")).ok).toBe(false);

    // Approved 20 minutes later: the window starts then, not at the merge.
    world.aws.clock.set(new Date(START.getTime() + 20 * 60_000));
    await signal(gateId as string, "Approve");
    await world.aws.state.waitForExecution(gateId as string);
    const run = await scheduled();
    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, "granted")).toEqual(["dual-approved"]);
    const policy = world.aws.state.userPolicies("alice.smith")["elevate-dual-approved"];
    const parsed = parseGrantPolicy(JSON.stringify(policy));
    expect(parsed?.notBefore.toISOString()).toBe("2026-11-30T08:20:00.000Z");
    expect(parsed?.notAfter.toISOString()).toBe("2026-11-30T09:20:00.000Z");
    expect((await world.tryAssume("alice.smith")).ok).toBe(true);
    const outcomeComments = () =>
      world.github
        .comments(world.repository, pr.number)
        .filter((c) => c.body.includes("AWS-side approval") && c.body.includes("granted"));
    expect(outcomeComments()).toHaveLength(1);

    // The next run sees the finished gate again: no second grant, no second comment.
    const grantExecutions = () =>
      [...world.aws.state.executions.values()].filter((e) => e.documentName === "Elevate-Grant").length;
    const executionsBefore = grantExecutions();
    world.aws.clock.advance(10 * 60_000); // the next scheduled run
    const again = await scheduled();
    expect(again.exitCode, again.stdout).toBe(0);
    expect(grantExecutions()).toBe(executionsBefore);
    expect(list(again, "granted")).toEqual([]);
    expect(outcomeComments()).toHaveLength(1);
  }, 120_000);

  it("a rejection in AWS grants nothing and is reported on the PR", async () => {
    const { pr, merged } = await mergeRequest("dual-rejected", "dave");
    const grant = await world.runAction("grant", merged.pushEvent);
    expect(grant.exitCode, grant.stdout).toBe(0);
    const [gateId] = list(grant, "execution-ids");
    await signal(gateId as string, "Reject");
    await world.aws.state.waitForExecution(gateId as string);
    const run = await scheduled();
    expect(world.grantPolicies("dave")).toEqual([]);
    expect(list(run, "granted")).not.toContain("dual-rejected");
    const last = world.github.comments(world.repository, pr.number).at(-1)?.body ?? "";
    expect(last).toContain("dual-rejected");
    expect(last).toMatch(/reject/i);
    expect((await world.tryAssume("dave")).ok).toBe(false);
  }, 120_000);

  it("the sole AWS-side approver's own request is refused before any gate starts (she never approves herself)", async () => {
    const pr = world.scenario.openRequestPr({
      author: "carol",
      files: {
        "requests/ec2-dual/dual-own.yaml": requestYaml({ requester: "carol", role: "ec2-dual", duration: "1h" }),
      },
    });
    pr.approve("bob");
    // The PR check says so before the merge, as the grant will.
    const check = await world.runAction("check", pr.pullRequestEvent());
    expect(check.exitCode).not.toBe(0);
    expect(check.annotations.map((a) => a.message).join("\n")).toMatch(/never approves her own request/);
    const grant = await world.runAction("grant", pr.merge("merge").pushEvent);
    expect(grant.exitCode).not.toBe(0);
    expect(list(grant, "refused")).toEqual(["dual-own"]);
    expect(grant.annotations.filter((a) => a.level === "error").map((a) => a.message)).toContainEqual(
      expect.stringMatching(
        /the requester's IAM user carol is one of roles\.ec2-dual\.awsApproval\.approvers and never approves her own request; the 0 other approver\(s\) cannot reach minApprovals 1/,
      ),
    );
    const gates = [...world.aws.state.executions.values()].filter(
      (e) => e.documentName === "Elevate-GrantWithApproval" && e.parameters.RequestId?.[0] === "dual-own",
    );
    expect(gates).toEqual([]);
    expect(world.grantPolicies("carol")).toEqual([]);
  }, 120_000);
});
