// doctor --aws: the GitHub side of the stack (OIDC provider audience, the grant and revoke
// roles' trusts), each finding with what to run; and config keys the stack disagrees with.
import { describe, expect, it } from "vitest";
import { type AwsFacts, awsFindings } from "../../src/domain/doctor-aws.js";
import { trustFindings } from "../../src/domain/doctor-trusts.js";
import { exampleConfig } from "./domain-fixtures.js";

const config = exampleConfig();
const at = () => ({ line: 1, col: 1 });
const PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
const GRANT = "arn:aws:iam::123456789012:role/elevate-grant";

function trust(sub: string | undefined, repositoryId: string | undefined) {
  const condition: Record<string, string> = {};
  if (sub !== undefined) condition["token.actions.githubusercontent.com:sub"] = sub;
  if (repositoryId !== undefined) condition["token.actions.githubusercontent.com:repository_id"] = repositoryId;
  return { Statement: [{ Effect: "Allow", Condition: { StringEquals: condition } }] };
}

function messages(facts: Partial<Pick<AwsFacts, "oidcProvider" | "trusts" | "repository">>) {
  return trustFindings(
    {
      oidcProvider: { arn: PROVIDER, clientIds: { ok: true, value: ["sts.amazonaws.com"] } },
      trusts: [],
      repository: "acme/aws-access",
      ...facts,
    },
    config,
    "cfg.yml",
    at,
  ).map((f) => `${f.severity}: ${f.message}`);
}

describe("doctor --aws: the OIDC provider and the role trusts say what to run", () => {
  it("a provider without the sts.amazonaws.com audience names the command that adds it", () => {
    expect(messages({ oidcProvider: { arn: PROVIDER, clientIds: { ok: true, value: ["other"] } } })).toEqual([
      `error: the GitHub OIDC provider ${PROVIDER} does not list the audience sts.amazonaws.com; add it (aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn ${PROVIDER} --client-id sts.amazonaws.com)`,
    ]);
  });

  it("an unreadable trust, one with no subject, and one without the repository id each say what to do", () => {
    expect(
      messages({
        trusts: [{ configKey: "grantRoleArn", arn: GRANT, trust: { ok: false, message: "NoSuchEntity: x" } }],
      }),
    ).toEqual([
      `error: cannot read the trust policy of ${GRANT}: NoSuchEntity: x; is the stack deployed in account 123456789012, and may these credentials call iam:GetRole?`,
    ]);
    expect(
      messages({
        trusts: [{ configKey: "grantRoleArn", arn: GRANT, trust: { ok: true, value: trust(undefined, "42") } }],
      }),
    ).toEqual([
      `error: ${GRANT} trusts no GitHub OIDC subject; its trust must pin the repository, main and its workflow: redeploy the stack (infra/template.yaml) with GitHubOwner, GitHubRepo and GitHubRepoId of this repository`,
    ]);
    const sub = "repo:acme/aws-access:ref:refs/heads/main";
    expect(
      messages({
        trusts: [{ configKey: "grantRoleArn", arn: GRANT, trust: { ok: true, value: trust(sub, undefined) } }],
      }),
    ).toEqual([
      `warning: ${GRANT} does not pin the repository id; a re-created repository of the same name would be trusted: redeploy the stack from the current template with GitHubRepoId (gh api repos/acme/aws-access --jq .id)`,
    ]);
    expect(
      messages({ trusts: [{ configKey: "grantRoleArn", arn: GRANT, trust: { ok: true, value: trust(sub, "42") } }] }),
    ).toEqual([]);
  });
});

describe("doctor --aws: config keys the stack's outputs disagree with", () => {
  it("say which value to write", () => {
    const facts: AwsFacts = {
      stack: {
        values: new Map([
          ["GrantRoleArn", "arn:aws:iam::123456789012:role/other-grant"],
          ["RevokeRoleArn", config.aws.revokeRoleArn],
          ["NotifyTopicArn", "arn:aws:sns:ap-northeast-1:123456789012:Other"],
        ]),
        parameters: new Map(),
      },
      documents: [],
      oidcProvider: { arn: PROVIDER, clientIds: { ok: true, value: ["sts.amazonaws.com"] } },
      trusts: [],
      users: [],
      repository: undefined,
    };
    const { notifyTopicArn: _, ...aws } = config.aws;
    const found = awsFindings(facts, { ...config, aws }, "cfg.yml", at).map((f) => `${f.severity}: ${f.message}`);
    expect(found).toEqual([
      "error: aws.grantRoleArn is arn:aws:iam::123456789012:role/elevate-grant, but the stack's GrantRoleArn is arn:aws:iam::123456789012:role/other-grant; set aws.grantRoleArn to the stack's value",
      "warning: aws.notifyTopicArn is not set, but the stack has NotifyTopicArn arn:aws:sns:ap-northeast-1:123456789012:Other; add aws.notifyTopicArn: arn:aws:sns:ap-northeast-1:123456789012:Other",
    ]);
  });
});
