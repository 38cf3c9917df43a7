/**
 * The grant or revoke workflow's AWS role session, as its run on main gets it: a GitHub
 * OIDC token of acme/elevate (sandbox/github/oidc.ts) exchanged with
 * AssumeRoleWithWebIdentity (unsigned, as the action sends it).
 */
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsSandbox, Credentials } from "../../sandbox/aws/index.js";
import type { GitHubOidcIssuer } from "../../sandbox/github/oidc.js";

export async function workflowCredentials(
  sandbox: AwsSandbox,
  issuer: GitHubOidcIssuer,
  roleArn: string,
  workflow: "elevate-grant.yml" | "elevate-revoke.yml",
): Promise<Credentials> {
  const token = issuer.issue(
    {
      repository: "acme/elevate",
      eventName: workflow === "elevate-grant.yml" ? "push" : "schedule",
      ref: "refs/heads/main",
      sha: "a".repeat(40),
      workflowPath: `.github/workflows/${workflow}`,
      actor: "octocat",
      runId: 7,
    },
    { audience: "sts.amazonaws.com", now: sandbox.clock.now() },
  );
  const sts = new STSClient({
    region: sandbox.region,
    endpoint: sandbox.endpoint,
    credentials: { accessKeyId: "", secretAccessKey: "" },
    signer: { sign: async (request) => request },
  });
  const out = await sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: roleArn,
      RoleSessionName: "run-7",
      WebIdentityToken: token,
      DurationSeconds: 7200,
    }),
  );
  sts.destroy();
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}
