/**
 * Elevate-Revoke's deleteGrantPolicy script (infra/runbooks/elevate-revoke.yaml), run with
 * python3 and boto3 against the sandbox's IAM, as the Automation engine runs it. The policy
 * may be deleted between the runbook's list and its delete (the grant's own
 * Elevate-ExpireGrant at notAfter, or another revoke): that NoSuchEntity, and only that,
 * counts as done, so the runbook goes on to the cut-off. Any other error fails the step.
 */
import { CreateUserCommand, IAMClient, PutUserPolicyCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPythonScript } from "../../sandbox/aws/automation-engine.js";
import { type AwsSandbox, type Credentials, startAwsSandbox } from "../../sandbox/aws/server.js";
import { runbookScriptStep } from "../../sandbox/cfn/runbook.js";

const inputs = runbookScriptStep("infra/runbooks/elevate-revoke.yaml", "deleteGrantPolicy");

let sandbox: AwsSandbox;

beforeAll(async () => {
  sandbox = await startAwsSandbox({ region: "ap-northeast-1" });
  const iam = new IAMClient({
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    credentials: sandbox.rootCredentials,
  });
  await iam.send(new CreateUserCommand({ UserName: "alice.smith", Path: "/elevate/" }));
  await iam.send(new CreateUserCommand({ UserName: "nobody" }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: "alice.smith",
      PolicyName: "elevate-resize-web-asg",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: "*" }],
      }),
    }),
  );
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
});

async function deleteGrant(credentials: Credentials, userName: string, policyName: string) {
  const credential = credentials;
  return runPythonScript({
    script: inputs.Script,
    handler: inputs.Handler,
    payload: { UserName: userName, PolicyName: policyName },
    now: sandbox.clock.now(),
    aws: { credential, endpoint: sandbox.endpoint, region: sandbox.region },
  });
}

describe("deleteGrantPolicy: already revoked is done, every other failure fails", () => {
  it("deletes the grant policy when it is there", async () => {
    const result = await deleteGrant(sandbox.rootCredentials, "alice.smith", "elevate-resize-web-asg");
    expect(result.ErrorType).toBeUndefined();
    expect(result.Payload).toEqual({ deleted: true });
    expect(sandbox.state.userPolicies("alice.smith")).toEqual({});
  }, 30_000);

  it("a policy deleted since the list (the grant's expiry got there first) is done, not a failure", async () => {
    const result = await deleteGrant(sandbox.rootCredentials, "alice.smith", "elevate-resize-web-asg");
    expect(result.ErrorType).toBeUndefined();
    expect(result.Payload).toEqual({ deleted: false });
  }, 30_000);

  it("AccessDenied still fails the step (never taken for 'already gone')", async () => {
    const result = await deleteGrant(sandbox.state.createAccessKey("nobody"), "alice.smith", "elevate-resize-web-asg");
    expect(result.ErrorType).toBeDefined();
    expect(String(result.ErrorMessage)).toMatch(/AccessDenied/);
  }, 30_000);
});
