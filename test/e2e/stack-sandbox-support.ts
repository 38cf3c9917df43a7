/**
 * The AWS sandbox with infra/template.yaml deployed and no GitHub: for tests that drive
 * the runbooks and the revoker's own inventory, plan and runbook calls in-process
 * (revoke-sandbox, revoke-cover-race). The example role is grantable for 4h; alice.smith
 * and bob are eligible IAM users.
 */
import { CreateUserCommand, IAMClient } from "@aws-sdk/client-iam";
import { SSMClient, StartAutomationExecutionCommand } from "@aws-sdk/client-ssm";
import { expect } from "vitest";
import { type AwsSandbox, startAwsSandbox } from "../../sandbox/aws/index.js";
import { type DeployResult, deployTemplate } from "../../sandbox/cfn/deploy.js";
import { ELIGIBLE_TAG } from "../../sandbox/world.js";
import { type ElevateConfig, loadConfig } from "../../src/domain/config.js";
import type { KnownRequest } from "../../src/domain/revoke-plan.js";

export interface StackSandbox {
  sandbox: AwsSandbox;
  deployed: DeployResult;
  iam: IAMClient;
  ssm: SSMClient;
  /** The template's example role, the one grantable role. */
  roleArn: string;
  /** Runs Elevate-Grant directly (as the grant action starts it) and expects Success. */
  grant(requestId: string, userName: string, notBefore: string, notAfter: string): Promise<void>;
  /** A config for this stack, with `users` (login → IAM user) and the example role as `ec2-admin`. */
  config(users: Record<string, string>): ElevateConfig;
  /** Requests merged at their notBefore for their whole window, as the default branch says: [id, IAM user, notBefore, notAfter]. */
  known(...entries: [string, string, string, string][]): Map<string, KnownRequest>;
  close(): Promise<void>;
}

export async function startStackSandbox(start: Date): Promise<StackSandbox> {
  const sandbox = await startAwsSandbox({ now: start, clockMode: "frozen" });
  const client = { region: sandbox.region, endpoint: sandbox.endpoint, credentials: sandbox.rootCredentials };
  const iam = new IAMClient(client);
  const ssm = new SSMClient(client);
  const deployed = await deployTemplate({
    templatePath: "infra/template.yaml",
    parameters: {
      GitHubOwner: "acme",
      GitHubRepo: "elevate",
      GitHubRepoId: "424242",
      GrantableRoles: `arn:aws:iam::${sandbox.defaultAccountId}:role/elevated/EC2_FullAccess_Role=4h`,
    },
    accountId: sandbox.defaultAccountId,
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
  const roleArn = deployed.outputs.ExampleRoleArn as string;
  for (const name of ["alice.smith", "bob"])
    await iam.send(new CreateUserCommand({ UserName: name, Path: "/elevate/", Tags: [ELIGIBLE_TAG] }));

  return {
    sandbox,
    deployed,
    iam,
    ssm,
    roleArn,
    async grant(requestId, userName, notBefore, notAfter) {
      const started = await ssm.send(
        new StartAutomationExecutionCommand({
          DocumentName: "Elevate-Grant",
          Parameters: {
            AutomationAssumeRole: [deployed.outputs.AutomationRoleArn as string],
            RequestId: [requestId],
            UserName: [userName],
            RoleArn: [roleArn],
            NotBefore: [notBefore],
            NotAfter: [notAfter],
          },
        }),
      );
      const record = await sandbox.state.waitForExecution(started.AutomationExecutionId as string);
      expect(record.status).toBe("Success");
    },
    config(users) {
      const account = sandbox.defaultAccountId;
      const loaded = loadConfig(
        `version: 1
aws:
  region: ${sandbox.region}
  accountId: "${account}"
  grantRoleArn: arn:aws:iam::${account}:role/elevate-grant
  revokeRoleArn: arn:aws:iam::${account}:role/elevate-revoke
  automationRoleArn: ${deployed.outputs.AutomationRoleArn}
  grantDocument: Elevate-Grant
  revokeDocument: Elevate-Revoke
users:
${Object.entries(users)
  .map(([login, iamUser]) => `  ${login}: ${iamUser}\n`)
  .join("")}roles:
  ec2-admin:
    arn: ${roleArn}
`,
        "elevate.yml",
      );
      if (!loaded.config) throw new Error(JSON.stringify(loaded.errors));
      return loaded.config;
    },
    known(...entries) {
      return new Map(
        entries.map(([id, user, nb, na]) => [
          id,
          {
            requestId: id,
            file: `requests/ec2-admin/${id}.yaml`,
            deleted: false,
            requested: {
              iamUser: user,
              target: { kind: "role", roleArn },
              durationMs: new Date(na).getTime() - new Date(nb).getTime(),
              mergedAt: new Date(nb),
            },
          },
        ]),
      );
    },
    async close() {
      iam.destroy();
      ssm.destroy();
      await sandbox.close();
    },
  };
}
