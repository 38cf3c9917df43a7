/**
 * infra/template.yaml resolved by the sandbox's mini CloudFormation, and its
 * policies evaluated with @cloud-copilot/iam-simulate.
 */
import { readFileSync } from "node:fs";
import { createValidatedPolicy, validateTrustPolicy } from "@cloud-copilot/iam-policy";
import { runUnsafeSimulation } from "@cloud-copilot/iam-simulate";
import { describe, expect, it } from "vitest";
import { GITHUB_CONDITION_CLAIMS } from "../../sandbox/aws/sts.js";
import { type DeploymentPlan, planDeployment } from "../../sandbox/cfn/deploy.js";
import { parseTemplate, TemplateError } from "../../sandbox/cfn/template.js";
import { sessionSecondsFor } from "../../src/adapters/aws.js";
import { iamDecision } from "../support/iam-simulate.js";

const TEMPLATE = readFileSync("infra/template.yaml", "utf8");
const ACCOUNT = "123456789012";
const REGION = "ap-northeast-1";
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
const BASE = { GitHubOwner: "acme", GitHubRepo: "elevate", GitHubRepoId: "98765" };

function plan(parameters: Record<string, string> = {}): DeploymentPlan {
  return planDeployment({
    template: TEMPLATE,
    parameters: { ...BASE, ...parameters },
    accountId: ACCOUNT,
    region: REGION,
  });
}

function props(p: DeploymentPlan, logicalId: string): Record<string, unknown> {
  const resource = p.resources.find((r) => r.logicalId === logicalId);
  if (!resource) throw new Error(`${logicalId} not planned`);
  return resource.properties;
}

function inlinePolicy(p: DeploymentPlan, logicalId: string): object {
  const policies = props(p, logicalId).Policies as { PolicyDocument: object }[];
  expect(policies).toHaveLength(1);
  return (policies[0] as { PolicyDocument: object }).PolicyDocument;
}

describe("template parsing and intrinsic resolution", () => {
  it("parses the short intrinsic tags into their long forms", () => {
    const t = parseTemplate(TEMPLATE);
    expect(t.Conditions?.ShouldCreateOidcProvider).toEqual({
      "Fn::Equals": [{ Ref: "CreateOidcProvider" }, "true"],
    });
    const grantRole = t.Resources.GrantRole?.Properties as { RoleName: string };
    expect(grantRole.RoleName).toBe("elevate-grant");
    expect(JSON.stringify(t.Resources.GrantRole)).toContain('{"Fn::GetAtt":["GitHubOidcProvider","Arn"]}');
  });

  it("resolves Refs, pseudo parameters, Sub, GetAtt, If and NoValue", () => {
    const p = plan();
    expect(p.outputs).toEqual({
      Region: REGION,
      AccountId: ACCOUNT,
      GrantRoleArn: `arn:aws:iam::${ACCOUNT}:role/elevate-grant`,
      RevokeRoleArn: `arn:aws:iam::${ACCOUNT}:role/elevate-revoke`,
      AutomationRoleArn: `arn:aws:iam::${ACCOUNT}:role/elevate-automation`,
      GrantDocumentName: "Elevate-Grant",
      RevokeDocumentName: "Elevate-Revoke",
      ClearCutoffDocumentName: "Elevate-ClearCutoff",
      GrantApprovalDocumentName: "Elevate-GrantWithApproval",
      ExpireGrantDocumentName: "Elevate-ExpireGrant",
      ScheduleGroupName: "elevate",
      SchedulerRoleArn: `arn:aws:iam::${ACCOUNT}:role/elevate-scheduler`,
      OidcProviderArn: PROVIDER,
      ExampleRoleArn: `arn:aws:iam::${ACCOUNT}:role/elevated/EC2_FullAccess_Role`,
      MemberCutoffDocumentName: "Elevate-MemberCutoff",
      MemberClearCutoffDocumentName: "Elevate-MemberClearCutoff",
      MemberExecutionRoleName: "elevate-member-cutoff",
      GrantPermissionSetDocumentName: "Elevate-GrantPermissionSet",
      RevokePermissionSetDocumentName: "Elevate-RevokePermissionSet",
    });
    // No administration role unless asked: the account may have its own.
    expect(p.resources.map((r) => r.logicalId)).not.toContain("AutomationAdministrationRole");
    // No SNS topic by default: the Notify statements are removed, not left empty.
    expect(p.resources.map((r) => r.logicalId)).not.toContain("NotificationTopic");
    expect(JSON.stringify(inlinePolicy(p, "GrantRole"))).not.toContain("sns:");
    // No privileged role ARNs given: only the example role's statement remains.
    const statements = (inlinePolicy(p, "AutomationRole") as { Statement: { Sid: string }[] }).Statement;
    expect(statements.map((s) => s.Sid)).toEqual([
      "GrantPoliciesOnMarkedEligibleUsers",
      "RevokePoliciesOnEligibleUsers",
      "CutOffPoliciesOnExampleRole",
      "StartMemberRunbooks",
      "ReadMemberRunbookExecutions",
      "PassAdministrationRoleToSsm",
      "ExpirySchedulesInElevateGroup",
      "PassSchedulerRoleToScheduler",
      "ListElevateSchedules",
      "PublishApprovalRequests",
    ]);
    // No approval topic unless asked for (dual control is opt-in).
    expect(p.resources.map((r) => r.logicalId)).not.toContain("ApprovalTopic");
    // ${aws:username} outside Fn::Sub stays a policy variable.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS template
    expect(JSON.stringify(props(p, "ElevatedEc2Role"))).toContain('"sts:RoleSessionName":"${aws:username}"');
  });

  it("creates dependencies first", () => {
    const order = plan().resources.map((r) => r.logicalId);
    expect(order.indexOf("GitHubOidcProvider")).toBeLessThan(order.indexOf("GrantRole"));
    expect(order.indexOf("AutomationRole")).toBeLessThan(order.indexOf("GrantRole"));
    expect(order.indexOf("GrantDocument")).toBeLessThan(order.indexOf("GrantRole"));
    expect(order.indexOf("ElevatedEc2Role")).toBeLessThan(order.indexOf("AutomationRole"));
  });

  it("honours the optional resources' switches", () => {
    const p = plan({ CreateOidcProvider: "false", CreateNotificationTopic: "true", CreateExampleRole: "false" });
    const ids = p.resources.map((r) => r.logicalId);
    expect(ids).not.toContain("GitHubOidcProvider");
    expect(ids).not.toContain("ElevatedEc2Role");
    expect(p.outputs.NotifyTopicArn).toBe(`arn:aws:sns:${REGION}:${ACCOUNT}:Elevate`);
    expect(p.outputs.OidcProviderArn).toBe(PROVIDER);
    expect(JSON.stringify(inlinePolicy(p, "GrantRole"))).toContain(
      `"Resource":"arn:aws:sns:${REGION}:${ACCOUNT}:Elevate"`,
    );
  });

  it("creates the smoke-test canary only when asked, its role in the ceiling for 15m", () => {
    const payload = (q: DeploymentPlan) => {
      const content = props(q, "GrantDocument").Content as { mainSteps: { inputs: { InputPayload: object } }[] };
      return content.mainSteps[0]?.inputs.InputPayload as { GrantableRoles: string };
    };
    const off = plan({ GrantableRoles: `arn:aws:iam::${ACCOUNT}:role/A=1h` });
    expect(off.resources.map((r) => r.logicalId)).not.toContain("SmokeTestUser");
    expect(off.outputs.SmokeTestRoleArn).toBeUndefined();
    expect(payload(off).GrantableRoles).toBe(`arn:aws:iam::${ACCOUNT}:role/A=1h`);

    const on = plan({ GrantableRoles: `arn:aws:iam::${ACCOUNT}:role/A=1h`, CreateSmokeTestCanary: "true" });
    const role = `arn:aws:iam::${ACCOUNT}:role/elevated/elevate-smoke-test-canary`;
    expect(on.outputs).toMatchObject({ SmokeTestRoleArn: role, SmokeTestUserName: "elevate-smoke-test" });
    expect(payload(on).GrantableRoles).toBe(`arn:aws:iam::${ACCOUNT}:role/A=1h,${role}=15m`);
    expect(props(on, "SmokeTestUser")).toEqual({
      UserName: "elevate-smoke-test",
      Path: "/elevate/",
      Tags: [{ Key: "elevate:eligible", Value: "true" }],
    });
    const canaryRole = props(on, "SmokeTestRole");
    expect(canaryRole.Policies).toBeUndefined();
    expect(canaryRole.ManagedPolicyArns).toBeUndefined();
    expect(canaryRole.MaxSessionDuration).toBe(3600);
  });

  it("rejects bad parameters with the parameter's name", () => {
    expect(() => plan({ GitHubOwner: "acme/evil" })).toThrow(/Parameters\.GitHubOwner/);
    expect(() => plan({ EligibleUserPath: "/" })).toThrow(/Parameters\.EligibleUserPath/);
    expect(() => plan({ CreateOidcProvider: "yes" })).toThrow(/Parameters\.CreateOidcProvider.*not one of/);
    expect(() => plan({ Unknown: "x" })).toThrow(/Parameters\.Unknown.*not declared/);
    expect(() => planDeployment({ template: TEMPLATE, parameters: {}, accountId: ACCOUNT, region: REGION })).toThrow(
      /GitHubOwner.*no value/,
    );
    // The repository id is required: every OIDC trust pins it.
    const { GitHubRepoId: _id, ...withoutId } = BASE;
    expect(() =>
      planDeployment({ template: TEMPLATE, parameters: withoutId, accountId: ACCOUNT, region: REGION }),
    ).toThrow(/Parameters\.GitHubRepoId.*no value/);
    expect(() => plan({ GitHubRepoId: "" })).toThrow(TemplateError);
    expect(() => plan({ GitHubRepoId: "acme/elevate" })).toThrow(/Parameters\.GitHubRepoId/);
    expect(() => plan({ EnableDualControl: "yes" })).toThrow(/Parameters\.EnableDualControl.*not one of/);
    expect(() => plan({ MaxGrantLeadTime: "7d" })).toThrow(/Parameters\.MaxGrantLeadTime/);
  });

  it("resolves Fn::Sub literals, Select/Split/Join and reports unknown references", () => {
    const mini = (body: string) =>
      planDeployment({
        template: `Parameters:\n  P:\n    Type: CommaDelimitedList\n    Default: a, b ,c\nResources:\n${body}`,
        parameters: {},
        accountId: ACCOUNT,
        region: REGION,
      });
    const p = mini(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not a JS template
      "  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Sub '${!Literal}-${AWS::Region}'\n" +
        "      DisplayName: !Join ['+', [!Select [1, !Ref P], !Select [0, !Split ['/', 'x/y']]]]\n",
    );
    expect(p.resources[0]?.properties).toEqual({ TopicName: `\${Literal}-${REGION}`, DisplayName: "b+x" });
    expect(() => mini("  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Ref Nope\n")).toThrow(
      /Resources\.T.*unknown Nope/,
    );
    expect(() => mini("  T:\n    Type: AWS::S3::Bucket\n")).toThrow(/AWS::S3::Bucket is not supported/);
    expect(() => mini("  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      Bogus: 1\n")).toThrow(
      /Properties\.Bogus.*unsupported/,
    );
    expect(() => mini("  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !GetAZs ''\n")).toThrow(
      /template\.yaml:9:18: unsupported tag.*!GetAZs/,
    );
  });
});

/**
 * A trust policy for runUnsafeSimulation. Wrapped as a named, validated policy:
 * the unsafe path loads a bare document without metadata and then fails on an
 * Allow while naming the deciding policy (iam-simulate 0.1.173).
 */
function trustPolicy(document: unknown) {
  const validated = createValidatedPolicy(document, validateTrustPolicy, { name: "trust-policy" });
  expect(validated.errors).toEqual([]);
  return validated;
}

/** Claims GitHub puts in a token, as STS exposes them to the trust policy. */
function githubClaims(overrides: Partial<Record<"aud" | "sub" | "job_workflow_ref" | "repository_id", string>> = {}) {
  const claims = {
    aud: "sts.amazonaws.com",
    repository_id: "98765",
    sub: "repo:acme/elevate:ref:refs/heads/main",
    job_workflow_ref: "acme/elevate/.github/workflows/elevate-grant.yml@refs/heads/main",
    ...overrides,
  };
  return Object.fromEntries(Object.entries(claims).map(([k, v]) => [`token.actions.githubusercontent.com:${k}`, v]));
}

/**
 * Trust policies are evaluated with the unvalidated simulator: the validated one
 * drops `<provider>:aud` / `:sub`, which are per-provider keys missing from its
 * action data (the sandbox's STS does the same, sandbox/aws/authz.ts). The
 * denial cases below prove the keys are evaluated, not ignored.
 */
function assumeWithWebIdentity(document: unknown, roleArn: string, context: Record<string, string>): string {
  return runUnsafeSimulation(
    {
      request: {
        principal: PROVIDER,
        action: "sts:AssumeRoleWithWebIdentity",
        resource: { resource: roleArn, accountId: ACCOUNT },
        contextVariables: { "aws:FederatedProvider": PROVIDER, ...context },
      },
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: trustPolicy(document),
    },
    {},
  );
}

describe("grant and revoke role trust (GitHub OIDC)", () => {
  const p = plan();
  const grantTrust = props(p, "GrantRole").AssumeRolePolicyDocument;
  const revokeTrust = props(p, "RevokeRole").AssumeRolePolicyDocument;
  const grantArn = p.outputs.GrantRoleArn as string;
  const revokeArn = p.outputs.RevokeRoleArn as string;
  const revokeWorkflow = "acme/elevate/.github/workflows/elevate-revoke.yml@refs/heads/main";

  it("allows the grant workflow on main", () => {
    expect(assumeWithWebIdentity(grantTrust, grantArn, githubClaims())).toBe("Allowed");
  });

  it.each([
    ["a pull_request token", { sub: "repo:acme/elevate:pull_request" }],
    ["another branch", { sub: "repo:acme/elevate:ref:refs/heads/feature" }],
    ["a tag", { sub: "repo:acme/elevate:ref:refs/tags/v1" }],
    ["an environment token", { sub: "repo:acme/elevate:environment:prod" }],
    ["a fork / another repository", { sub: "repo:mallory/elevate:ref:refs/heads/main" }],
    ["a repository with a matching prefix", { sub: "repo:acme/elevate-fork:ref:refs/heads/main" }],
    ["another workflow (the revoke one)", { job_workflow_ref: revokeWorkflow }],
    [
      "the grant workflow from another branch",
      { job_workflow_ref: "acme/elevate/.github/workflows/elevate-grant.yml@refs/heads/dev" },
    ],
    [
      "a reusable workflow of another repository",
      { job_workflow_ref: "mallory/tools/.github/workflows/elevate-grant.yml@refs/heads/main" },
    ],
    ["the default GitHub audience", { aud: "https://github.com/acme" }],
    ["a case-changed repository", { sub: "repo:ACME/elevate:ref:refs/heads/main" }],
    ["a deleted and re-created repository of the same name (another repository_id)", { repository_id: "11111" }],
  ])("denies %s", (_label, overrides) => {
    expect(assumeWithWebIdentity(grantTrust, grantArn, githubClaims(overrides))).toBe("ImplicitlyDenied");
  });

  it("denies a token without a job_workflow_ref claim", () => {
    const context = githubClaims();
    delete context["token.actions.githubusercontent.com:job_workflow_ref"];
    expect(assumeWithWebIdentity(grantTrust, grantArn, context)).toBe("ImplicitlyDenied");
  });

  it("denies a token without a repository_id claim", () => {
    const context = githubClaims();
    delete context["token.actions.githubusercontent.com:repository_id"];
    expect(assumeWithWebIdentity(grantTrust, grantArn, context)).toBe("ImplicitlyDenied");
  });

  it("every OIDC trust statement pins aud, sub, job_workflow_ref and repository_id, in both sub formats", () => {
    for (const parameters of [{}, { GitHubOwnerId: "1234" }]) {
      const q = plan(parameters);
      for (const logicalId of ["GrantRole", "RevokeRole"]) {
        const trust = props(q, logicalId).AssumeRolePolicyDocument as {
          Statement: { Action: string; Condition: { StringEquals: Record<string, string> } }[];
        };
        for (const statement of trust.Statement) {
          expect(statement.Action).toBe("sts:AssumeRoleWithWebIdentity");
          const keys = Object.keys(statement.Condition.StringEquals).sort();
          expect(keys, logicalId).toEqual(
            ["aud", "job_workflow_ref", "repository_id", "sub"].map((k) => `token.actions.githubusercontent.com:${k}`),
          );
          expect(statement.Condition.StringEquals["token.actions.githubusercontent.com:repository_id"]).toBe("98765");
        }
      }
    }
  });

  // AWS evaluates only these GitHub claims (sandbox/aws/sts.ts GITHUB_CONDITION_CLAIMS); a
  // condition on any other claim never matches in AWS, and the sandbox's STS refuses it too
  // (test/e2e/sandbox-aws-sts.test.ts), so the template must not rely on one.
  it("relies only on GitHub claims AWS documents as condition keys", () => {
    const text = JSON.stringify(plan().resources.map((r) => r.properties));
    const used = [...text.matchAll(/token\.actions\.githubusercontent\.com:([a-z_]+)/g)].map((m) => m[1] as string);
    expect(used.length).toBeGreaterThan(0);
    for (const claim of used) expect(GITHUB_CONDITION_CLAIMS, claim).toContain(claim);
  });

  it("the revoke role trusts only the revoke workflow", () => {
    expect(assumeWithWebIdentity(revokeTrust, revokeArn, githubClaims({ job_workflow_ref: revokeWorkflow }))).toBe(
      "Allowed",
    );
    expect(assumeWithWebIdentity(revokeTrust, revokeArn, githubClaims())).toBe("ImplicitlyDenied");
  });

  it("uses the immutable subject format when both repository ids are given", () => {
    const q = plan({ GitHubOwnerId: "1234", GitHubRepoId: "98765" });
    const trust = props(q, "GrantRole").AssumeRolePolicyDocument;
    const immutable = "repo:acme@1234/elevate@98765:ref:refs/heads/main";
    expect(assumeWithWebIdentity(trust, grantArn, githubClaims({ sub: immutable }))).toBe("Allowed");
    expect(assumeWithWebIdentity(trust, grantArn, githubClaims())).toBe("ImplicitlyDenied");
    expect(
      assumeWithWebIdentity(trust, grantArn, githubClaims({ sub: "repo:acme@1234/elevate@11111:ref:refs/heads/main" })),
    ).toBe("ImplicitlyDenied");
  });

  describe("break-glass (elevate-breakglass.yml, docs/break-glass.md)", () => {
    const breakGlassWorkflow = "acme/elevate/.github/workflows/elevate-breakglass.yml@refs/heads/main";

    it("the grant role admits the break-glass workflow on main, in its own statement", () => {
      expect(assumeWithWebIdentity(grantTrust, grantArn, githubClaims({ job_workflow_ref: breakGlassWorkflow }))).toBe(
        "Allowed",
      );
      const sids = (grantTrust as { Statement: { Sid: string }[] }).Statement.map((s) => s.Sid);
      expect(sids).toEqual(["GitHubGrantWorkflowOnMain", "GitHubBreakGlassWorkflowOnMain"]);
    });

    it.each([
      ["from another branch", { job_workflow_ref: breakGlassWorkflow, sub: "repo:acme/elevate:ref:refs/heads/dev" }],
      [
        "read from another branch",
        { job_workflow_ref: "acme/elevate/.github/workflows/elevate-breakglass.yml@refs/heads/dev" },
      ],
      ["in a pull_request run", { job_workflow_ref: breakGlassWorkflow, sub: "repo:acme/elevate:pull_request" }],
      [
        "of another repository",
        { job_workflow_ref: "mallory/elevate/.github/workflows/elevate-breakglass.yml@refs/heads/main" },
      ],
    ])("denies the break-glass workflow %s", (_label, overrides) => {
      expect(assumeWithWebIdentity(grantTrust, grantArn, githubClaims(overrides))).toBe("ImplicitlyDenied");
    });

    it("the revoke role does not admit it", () => {
      expect(
        assumeWithWebIdentity(revokeTrust, revokeArn, githubClaims({ job_workflow_ref: breakGlassWorkflow })),
      ).toBe("ImplicitlyDenied");
    });

    it("AllowBreakGlass 'false' removes the statement; the grant workflow is unaffected", () => {
      const closed = props(plan({ AllowBreakGlass: "false" }), "GrantRole").AssumeRolePolicyDocument;
      expect((closed as { Statement: unknown[] }).Statement).toHaveLength(1);
      expect(assumeWithWebIdentity(closed, grantArn, githubClaims({ job_workflow_ref: breakGlassWorkflow }))).toBe(
        "ImplicitlyDenied",
      );
      expect(assumeWithWebIdentity(closed, grantArn, githubClaims())).toBe("Allowed");
    });

    it("uses the immutable subject format like the grant statement", () => {
      const trust = props(plan({ GitHubOwnerId: "1234", GitHubRepoId: "98765" }), "GrantRole").AssumeRolePolicyDocument;
      const claims = { sub: "repo:acme@1234/elevate@98765:ref:refs/heads/main", job_workflow_ref: breakGlassWorkflow };
      expect(assumeWithWebIdentity(trust, grantArn, githubClaims(claims))).toBe("Allowed");
      expect(assumeWithWebIdentity(trust, grantArn, githubClaims({ job_workflow_ref: breakGlassWorkflow }))).toBe(
        "ImplicitlyDenied",
      );
    });
  });

  it("the trust policies use StringEquals only, without wildcards", () => {
    for (const trust of [grantTrust, revokeTrust]) {
      const text = JSON.stringify(trust);
      expect(text).not.toMatch(/StringLike|ForAnyValue|ForAllValues|\*/);
    }
  });
});

describe("automation role", () => {
  const p = plan({ PrivilegedRoleArns: `arn:aws:iam::${ACCOUNT}:role/admin/ProdAdmin` });
  const automation = inlinePolicy(p, "AutomationRole");
  const principal = p.outputs.AutomationRoleArn as string;
  const session = `arn:aws:sts::${ACCOUNT}:assumed-role/elevate-automation/Automation-1`;
  const ask = (action: string, resource: string) =>
    iamDecision({ principal: session, action, resource, identityPolicies: [automation] });

  const marked = { "iam:ResourceTag/elevate:eligible": "true" };
  const askOnUser = (action: string, resource: string, context: Record<string, string>) =>
    iamDecision({ principal: session, action, resource, context, identityPolicies: [automation] });

  it("may write grant policies only on users under the eligible path that carry elevate:eligible=true", async () => {
    const alice = `arn:aws:iam::${ACCOUNT}:user/elevate/alice.smith`;
    expect(await askOnUser("iam:PutUserPolicy", alice, marked)).toBe("Allowed");
    expect(await ask("iam:PutUserPolicy", alice)).toBe("ImplicitlyDenied");
    for (const value of ["false", "True", "yes", ""]) {
      expect(await askOnUser("iam:PutUserPolicy", alice, { "iam:ResourceTag/elevate:eligible": value })).toBe(
        "ImplicitlyDenied",
      );
    }
    expect(await askOnUser("iam:PutUserPolicy", alice, { "iam:ResourceTag/elevate:other": "true" })).toBe(
      "ImplicitlyDenied",
    );
    // Revoking never depends on the marker: untagging a user must not keep a grant alive.
    for (const action of ["iam:DeleteUserPolicy", "iam:GetUserPolicy", "iam:ListUserPolicies"]) {
      expect(await ask(action, alice)).toBe("Allowed");
    }
  });

  it("may not touch users outside the eligible path", async () => {
    // Not even when marked: the path and the marker are both required.
    expect(await askOnUser("iam:PutUserPolicy", `arn:aws:iam::${ACCOUNT}:user/admin`, marked)).toBe("ImplicitlyDenied");
    expect(await askOnUser("iam:PutUserPolicy", `arn:aws:iam::${ACCOUNT}:user/elevated/alice`, marked)).toBe(
      "ImplicitlyDenied",
    );
    expect(await askOnUser("iam:PutUserPolicy", `arn:aws:iam::210987654321:user/elevate/alice`, marked)).toBe(
      "ImplicitlyDenied",
    );
    expect(await ask("iam:AttachUserPolicy", `arn:aws:iam::${ACCOUNT}:user/elevate/alice`)).toBe("ImplicitlyDenied");
  });

  it("may write cut-off policies on the privileged roles only", async () => {
    expect(await ask("iam:PutRolePolicy", `arn:aws:iam::${ACCOUNT}:role/admin/ProdAdmin`)).toBe("Allowed");
    expect(await ask("iam:DeleteRolePolicy", `arn:aws:iam::${ACCOUNT}:role/elevated/EC2_FullAccess_Role`)).toBe(
      "Allowed",
    );
    expect(await ask("iam:PutRolePolicy", `arn:aws:iam::${ACCOUNT}:role/OtherRole`)).toBe("ImplicitlyDenied");
    expect(await ask("iam:PutRolePolicy", principal)).toBe("ImplicitlyDenied");
    expect(await ask("iam:UpdateAssumeRolePolicy", `arn:aws:iam::${ACCOUNT}:role/admin/ProdAdmin`)).toBe(
      "ImplicitlyDenied",
    );
  });

  it("is trusted by SSM Automation of this account only", () => {
    const trust = props(p, "AutomationRole").AssumeRolePolicyDocument;
    const assume = (context: Record<string, string>) =>
      runUnsafeSimulation(
        {
          request: {
            principal: "ssm.amazonaws.com",
            action: "sts:AssumeRole",
            resource: { resource: principal, accountId: ACCOUNT },
            contextVariables: context,
          },
          identityPolicies: [],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          resourcePolicy: trustPolicy(trust),
        },
        {},
      );
    const execution = `arn:aws:ssm:${REGION}:${ACCOUNT}:automation-execution/0123abcd`;
    expect(assume({ "aws:SourceAccount": ACCOUNT, "aws:SourceArn": execution })).toBe("Allowed");
    expect(assume({ "aws:SourceAccount": "210987654321", "aws:SourceArn": execution })).toBe("ImplicitlyDenied");
    expect(
      assume({ "aws:SourceAccount": ACCOUNT, "aws:SourceArn": `arn:aws:ssm:${REGION}:${ACCOUNT}:document/Other` }),
    ).toBe("ImplicitlyDenied");
  });
});

describe("grant and revoke role permissions", () => {
  const p = plan();
  const grant = inlinePolicy(p, "GrantRole");
  const revoke = inlinePolicy(p, "RevokeRole");
  const ssm = `arn:aws:ssm:${REGION}:${ACCOUNT}`;
  const grantSession = `arn:aws:sts::${ACCOUNT}:assumed-role/elevate-grant/gh`;
  const revokeSession = `arn:aws:sts::${ACCOUNT}:assumed-role/elevate-revoke/gh`;

  it("the grant role may start only Elevate-Grant, its approval gate and Elevate-GrantPermissionSet", async () => {
    const ask = (resource: string) =>
      iamDecision({
        principal: grantSession,
        action: "ssm:StartAutomationExecution",
        resource,
        identityPolicies: [grant],
      });
    expect(await ask(`${ssm}:document/Elevate-Grant`)).toBe("Allowed");
    expect(await ask(`${ssm}:document/Elevate-GrantWithApproval`)).toBe("Allowed");
    expect(await ask(`${ssm}:document/Elevate-GrantPermissionSet`)).toBe("Allowed");
    expect(await ask(`${ssm}:document/Elevate-Revoke`)).toBe("ImplicitlyDenied");
    expect(await ask(`${ssm}:document/Elevate-RevokePermissionSet`)).toBe("ImplicitlyDenied");
    expect(await ask(`${ssm}:document/AWS-RunShellScript`)).toBe("ImplicitlyDenied");
  });

  it("the grant role may read the grant runbooks (the stack's ceilings) and no other document", async () => {
    const ask = (resource: string) =>
      iamDecision({ principal: grantSession, action: "ssm:GetDocument", resource, identityPolicies: [grant] });
    expect(await ask(`${ssm}:document/Elevate-Grant`)).toBe("Allowed");
    expect(await ask(`${ssm}:document/Elevate-GrantPermissionSet`)).toBe("Allowed");
    expect(await ask(`${ssm}:document/Elevate-Revoke`)).toBe("ImplicitlyDenied");
    expect(await ask(`${ssm}:document/AWS-RunShellScript`)).toBe("ImplicitlyDenied");
  });

  it("the grant role may pass only the automation role, only to SSM", async () => {
    const pass = (resource: string, service: string) =>
      iamDecision({
        principal: grantSession,
        action: "iam:PassRole",
        resource,
        context: { "iam:PassedToService": service },
        identityPolicies: [grant],
      });
    expect(await pass(p.outputs.AutomationRoleArn as string, "ssm.amazonaws.com")).toBe("Allowed");
    expect(await pass(p.outputs.AutomationRoleArn as string, "lambda.amazonaws.com")).toBe("ImplicitlyDenied");
    expect(await pass(p.outputs.ExampleRoleArn as string, "ssm.amazonaws.com")).toBe("ImplicitlyDenied");
  });

  it("the grant role cannot write IAM itself", async () => {
    expect(
      await iamDecision({
        principal: grantSession,
        action: "iam:PutUserPolicy",
        resource: `arn:aws:iam::${ACCOUNT}:user/elevate/alice`,
        identityPolicies: [grant],
      }),
    ).toBe("ImplicitlyDenied");
  });

  it("the revoke role may start Elevate-Revoke and Elevate-ClearCutoff, and read IAM", async () => {
    const ask = (action: string, resource: string) =>
      iamDecision({ principal: revokeSession, action, resource, identityPolicies: [revoke] });
    expect(await ask("ssm:StartAutomationExecution", `${ssm}:document/Elevate-Revoke`)).toBe("Allowed");
    expect(await ask("ssm:StartAutomationExecution", `${ssm}:document/Elevate-ClearCutoff`)).toBe("Allowed");
    // It cannot grant unless dual control is switched on (EnableDualControl, default 'false').
    expect(await ask("ssm:StartAutomationExecution", `${ssm}:document/Elevate-Grant`)).toBe("ImplicitlyDenied");
    expect(await ask("ssm:StartAutomationExecution", `${ssm}:document/Elevate-GrantWithApproval`)).toBe(
      "ImplicitlyDenied",
    );
    expect(await ask("ssm:SendAutomationSignal", `${ssm}:automation-execution/x`)).toBe("ImplicitlyDenied");
    expect(await ask("iam:GetAccountAuthorizationDetails", "*")).toBe("Allowed");
    expect(await ask("iam:GetRole", p.outputs.ExampleRoleArn as string)).toBe("Allowed");
    expect(await ask("iam:DeleteUserPolicy", `arn:aws:iam::${ACCOUNT}:user/elevate/alice`)).toBe("ImplicitlyDenied");
  });
});

describe("dual control on the revoke role (EnableDualControl)", () => {
  it("'true' lets the revoke role finish approved grants (start Elevate-Grant), never open a gate", async () => {
    const revoke = inlinePolicy(plan({ EnableDualControl: "true" }), "RevokeRole");
    const ssm = `arn:aws:ssm:${REGION}:${ACCOUNT}`;
    const ask = (resource: string) =>
      iamDecision({
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/elevate-revoke/gh`,
        action: "ssm:StartAutomationExecution",
        resource,
        identityPolicies: [revoke],
      });
    expect(await ask(`${ssm}:document/Elevate-Grant`)).toBe("Allowed");
    expect(await ask(`${ssm}:document/Elevate-GrantWithApproval`)).toBe("ImplicitlyDenied");
  });
});

describe("partitions", () => {
  it("deploys in the aws partition only: the trusts pin claims STS evaluates in commercial Regions", () => {
    expect(plan().resources.length).toBeGreaterThan(0);
    for (const [partition, region] of [
      ["aws-cn", "cn-north-1"],
      ["aws-us-gov", "us-gov-west-1"],
    ] as const) {
      expect(() =>
        planDeployment({ template: TEMPLATE, parameters: BASE, accountId: ACCOUNT, region, partition }),
      ).toThrow(/Rules\.CommercialPartitionOnly.*aws partition \(commercial Regions\) only/);
    }
  });
});

describe("grant and revoke role sessions", () => {
  it("allow a session that covers the longest wait (timeout-seconds 3,600) plus margin", () => {
    const p = plan();
    const longest = sessionSecondsFor(3600);
    for (const role of ["GrantRole", "RevokeRole"]) {
      const max = Number(props(p, role).MaxSessionDuration);
      expect(max, role).toBeGreaterThanOrEqual(longest);
      expect(max, role).toBeLessThanOrEqual(43_200);
    }
  });
});

describe("example privileged role", () => {
  const p = plan();
  const trust = props(p, "ElevatedEc2Role").AssumeRolePolicyDocument as object;
  const roleArn = p.outputs.ExampleRoleArn as string;
  const alice = `arn:aws:iam::${ACCOUNT}:user/elevate/alice`;
  const allowAssume = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: roleArn }],
  };

  it("has a one-hour maximum session", () => {
    expect(props(p, "ElevatedEc2Role").MaxSessionDuration).toBe(3600);
    expect(props(p, "ElevatedEc2Role").Path).toBe("/elevated/");
  });

  it("requires the role session name to equal the caller's IAM user name", async () => {
    const ask = (sessionName: string) =>
      iamDecision({
        principal: alice,
        action: "sts:AssumeRole",
        resource: roleArn,
        context: { "sts:RoleSessionName": sessionName, "aws:username": "alice" },
        identityPolicies: [allowAssume],
        resourcePolicy: trust,
      });
    expect(await ask("alice")).toBe("Allowed");
    expect(await ask("bob")).toBe("ImplicitlyDenied");
    expect(await ask("alice-2")).toBe("ImplicitlyDenied");
  });
});

describe("the expiry schedules: group, scheduler role and least privilege (issue 14)", () => {
  const p = plan();
  const automation = inlinePolicy(p, "AutomationRole");
  const scheduler = inlinePolicy(p, "SchedulerRole");
  const grant = inlinePolicy(p, "GrantRole");
  const revoke = inlinePolicy(p, "RevokeRole");
  const automationSession = `arn:aws:sts::${ACCOUNT}:assumed-role/elevate-automation/exec-1`;
  const schedulerSession = `arn:aws:sts::${ACCOUNT}:assumed-role/elevate-scheduler/abc`;
  const schedules = `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule`;
  const ssm = `arn:aws:ssm:${REGION}:${ACCOUNT}`;
  const schedulerRoleArn = p.outputs.SchedulerRoleArn as string;
  const automationRoleArn = p.outputs.AutomationRoleArn as string;

  it("creates the dedicated group and the scheduler role", () => {
    expect(props(p, "ScheduleGroup").Name).toBe("elevate");
    expect(props(p, "SchedulerRole").RoleName).toBe("elevate-scheduler");
    expect(props(p, "ExpireGrantDocument")).toMatchObject({
      Name: "Elevate-ExpireGrant",
      DocumentType: "Automation",
      UpdateMethod: "NewVersion",
    });
  });

  it("the automation role may create, read and delete schedules only in Elevate's group", async () => {
    const ask = (action: string, resource: string) =>
      iamDecision({ principal: automationSession, action, resource, identityPolicies: [automation] });
    for (const action of ["scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:DeleteSchedule"]) {
      expect(await ask(action, `${schedules}/elevate/inc-1234`)).toBe("Allowed");
      expect(await ask(action, `${schedules}/default/inc-1234`)).toBe("ImplicitlyDenied");
      expect(await ask(action, `${schedules}/elevate-other/inc-1234`)).toBe("ImplicitlyDenied");
    }
    expect(await ask("scheduler:UpdateSchedule", `${schedules}/elevate/inc-1234`)).toBe("ImplicitlyDenied");
    expect(await ask("scheduler:CreateScheduleGroup", `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/x`)).toBe(
      "ImplicitlyDenied",
    );
  });

  it("the automation role may pass only the scheduler role, only to EventBridge Scheduler", async () => {
    const ask = (resource: string, service: string) =>
      iamDecision({
        principal: automationSession,
        action: "iam:PassRole",
        resource,
        context: { "iam:PassedToService": service },
        identityPolicies: [automation],
      });
    expect(await ask(schedulerRoleArn, "scheduler.amazonaws.com")).toBe("Allowed");
    expect(await ask(schedulerRoleArn, "lambda.amazonaws.com")).toBe("ImplicitlyDenied");
    expect(await ask(automationRoleArn, "scheduler.amazonaws.com")).toBe("ImplicitlyDenied");
    expect(await ask(`arn:aws:iam::${ACCOUNT}:role/admin`, "scheduler.amazonaws.com")).toBe("ImplicitlyDenied");
  });

  it("the scheduler role may start only Elevate-ExpireGrant, passing only the automation role to SSM", async () => {
    const start = (document: string) =>
      iamDecision({
        principal: schedulerSession,
        action: "ssm:StartAutomationExecution",
        resource: `${ssm}:automation-definition/${document}:$LATEST`,
        identityPolicies: [scheduler],
      });
    expect(await start("Elevate-ExpireGrant")).toBe("Allowed");
    for (const other of ["Elevate-Grant", "Elevate-Revoke", "Elevate-ClearCutoff", "AWS-RunShellScript"]) {
      expect(await start(other), other).toBe("ImplicitlyDenied");
    }
    const pass = (resource: string, service: string) =>
      iamDecision({
        principal: schedulerSession,
        action: "iam:PassRole",
        resource,
        context: { "iam:PassedToService": service },
        identityPolicies: [scheduler],
      });
    expect(await pass(automationRoleArn, "ssm.amazonaws.com")).toBe("Allowed");
    expect(await pass(automationRoleArn, "lambda.amazonaws.com")).toBe("ImplicitlyDenied");
    expect(await pass(schedulerRoleArn, "ssm.amazonaws.com")).toBe("ImplicitlyDenied");
    expect(
      await iamDecision({
        principal: schedulerSession,
        action: "iam:PutUserPolicy",
        resource: `arn:aws:iam::${ACCOUNT}:user/elevate/alice`,
        identityPolicies: [scheduler],
      }),
    ).toBe("ImplicitlyDenied");
  });

  it("neither the grant nor the revoke role may start Elevate-ExpireGrant", async () => {
    for (const [role, policy] of [
      ["elevate-grant", grant],
      ["elevate-revoke", revoke],
    ] as const) {
      expect(
        await iamDecision({
          principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/run-1`,
          action: "ssm:StartAutomationExecution",
          resource: `${ssm}:automation-definition/Elevate-ExpireGrant:$LATEST`,
          identityPolicies: [policy],
        }),
        role,
      ).toBe("ImplicitlyDenied");
    }
  });

  it("only EventBridge Scheduler, for this account's Elevate group, can assume the scheduler role", () => {
    const trust = props(p, "SchedulerRole").AssumeRolePolicyDocument;
    const assume = (principal: string, context: Record<string, string>) =>
      runUnsafeSimulation(
        {
          request: {
            principal,
            action: "sts:AssumeRole",
            resource: { resource: schedulerRoleArn, accountId: ACCOUNT },
            contextVariables: context,
          },
          identityPolicies: [],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          resourcePolicy: trustPolicy(trust),
        },
        {},
      );
    const group = `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/elevate`;
    expect(assume("scheduler.amazonaws.com", { "aws:SourceAccount": ACCOUNT, "aws:SourceArn": group })).toBe("Allowed");
    expect(
      assume("scheduler.amazonaws.com", {
        "aws:SourceAccount": ACCOUNT,
        "aws:SourceArn": `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/default`,
      }),
    ).not.toBe("Allowed");
    expect(
      assume("scheduler.amazonaws.com", {
        "aws:SourceAccount": "210987654321",
        "aws:SourceArn": `arn:aws:scheduler:${REGION}:210987654321:schedule-group/elevate`,
      }),
    ).not.toBe("Allowed");
    expect(assume("ssm.amazonaws.com", { "aws:SourceAccount": ACCOUNT, "aws:SourceArn": group })).not.toBe("Allowed");
  });
});

describe("multi-account administration role (issue 15, many accounts)", () => {
  const p = plan({ CreateAutomationAdministrationRole: "true", MemberExecutionRoleName: "elevate-member-cutoff" });
  const arn = `arn:aws:iam::${ACCOUNT}:role/AWS-SystemsManager-AutomationAdministrationRole`;

  it("is created on request under the name SSM's multi-account execution assumes", () => {
    expect(props(p, "AutomationAdministrationRole").RoleName).toBe("AWS-SystemsManager-AutomationAdministrationRole");
    expect(p.outputs.AutomationAdministrationRoleArn).toBe(arn);
  });

  it("is trusted by SSM Automation of this account only", async () => {
    const trust = props(p, "AutomationAdministrationRole").AssumeRolePolicyDocument;
    const ask = (sourceAccount: string, sourceArn: string) =>
      runUnsafeSimulation(
        {
          request: {
            principal: "ssm.amazonaws.com",
            action: "sts:AssumeRole",
            resource: { resource: arn, accountId: ACCOUNT },
            contextVariables: { "aws:SourceAccount": sourceAccount, "aws:SourceArn": sourceArn },
          },
          identityPolicies: [],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          resourcePolicy: createValidatedPolicy(trust, validateTrustPolicy, { name: "trust" }),
        },
        {},
      );
    expect(ask(ACCOUNT, `arn:aws:ssm:${REGION}:${ACCOUNT}:automation-execution/abc`)).toBe("Allowed");
    expect(ask("999999999999", `arn:aws:ssm:${REGION}:999999999999:automation-execution/abc`)).toBe("ImplicitlyDenied");
  });

  it("may assume only the member stacks' execution role", async () => {
    const identity = (
      (props(p, "AutomationAdministrationRole").Policies as { PolicyDocument: object }[])[0] as {
        PolicyDocument: object;
      }
    ).PolicyDocument;
    const session = `arn:aws:sts::${ACCOUNT}:assumed-role/AWS-SystemsManager-AutomationAdministrationRole/exec`;
    // Each member role trusts the administration role; the identity policy is what narrows it here.
    const memberTrust = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: arn }, Action: "sts:AssumeRole" }],
    };
    const ask = (resource: string) =>
      iamDecision({
        principal: session,
        action: "sts:AssumeRole",
        resource,
        identityPolicies: [identity],
        resourcePolicy: memberTrust,
      });
    expect(await ask("arn:aws:iam::222222222222:role/elevate-member-cutoff")).toBe("Allowed");
    expect(await ask("arn:aws:iam::222222222222:role/OrganizationAccountAccessRole")).toBe("ImplicitlyDenied");
    expect(await ask("arn:aws:iam::222222222222:role/elevated/EC2_FullAccess_Role")).toBe("ImplicitlyDenied");
  });

  it("lets the automation role start only the member runbooks across accounts", async () => {
    const automation = inlinePolicy(p, "AutomationRole");
    const session = `arn:aws:sts::${ACCOUNT}:assumed-role/elevate-automation/exec`;
    const ask = (resource: string) =>
      iamDecision({
        principal: session,
        action: "ssm:StartAutomationExecution",
        resource,
        identityPolicies: [automation],
      });
    for (const doc of ["Elevate-MemberCutoff", "Elevate-MemberClearCutoff"]) {
      expect(await ask(`arn:aws:ssm:${REGION}:${ACCOUNT}:automation-definition/${doc}:$DEFAULT`), doc).toBe("Allowed");
    }
    for (const doc of ["Elevate-Grant", "Elevate-Revoke", "AWS-RunShellScript"]) {
      expect(await ask(`arn:aws:ssm:${REGION}:${ACCOUNT}:automation-definition/${doc}:$DEFAULT`), doc).toBe(
        "ImplicitlyDenied",
      );
    }
  });
});

describe("Identity Center permission sets (issue 15)", () => {
  const INSTANCE = "arn:aws:sso:::instance/ssoins-0123456789abcdef";
  const STORE = "d-0123456789";
  const PS = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef";
  const OTHER_INSTANCE_PS = "arn:aws:sso:::permissionSet/ssoins-fedcba9876543210/ps-0123456789abcdef";
  const MEMBER = "210987654321";
  const configured = plan({ IdentityCenterInstanceArn: INSTANCE, IdentityStoreId: STORE });
  const automation = inlinePolicy(configured, "AutomationRole");
  const grant = inlinePolicy(configured, "GrantRole");
  const revoke = inlinePolicy(configured, "RevokeRole");
  const scheduler = inlinePolicy(configured, "SchedulerRole");
  const ssm = `arn:aws:ssm:${REGION}:${ACCOUNT}`;
  const session = (role: string) => `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/run-1`;
  /** The three resources IAM authorizes an assignment call on (Service Authorization Reference). */
  const assignmentResources = (ps: string, account = MEMBER) => [INSTANCE, ps, `arn:aws:sso:::account/${account}`];
  async function allowedOnAll(role: string, policy: object, action: string, resources: string[]): Promise<boolean> {
    for (const resource of resources) {
      const d = await iamDecision({
        principal: session(role),
        action,
        resource,
        resourceAccount: ACCOUNT,
        identityPolicies: [policy],
      });
      if (d !== "Allowed") return false;
    }
    return true;
  }

  it("without an instance, no statement names sso or identitystore and the runbooks still exist (refusing everything)", () => {
    const p = plan();
    for (const role of ["AutomationRole", "GrantRole", "RevokeRole"]) {
      const text = JSON.stringify(inlinePolicy(p, role));
      expect(text, role).not.toMatch(/"sso:|"identitystore:/);
    }
    expect(p.resources.map((r) => r.logicalId)).toEqual(
      expect.arrayContaining(["GrantPermissionSetDocument", "RevokePermissionSetDocument"]),
    );
    expect(p.resources.map((r) => r.logicalId)).not.toContain("ExamplePermissionSet");
  });

  it("the automation role may create and delete assignments of the stack's instance only", async () => {
    for (const action of ["sso:CreateAccountAssignment", "sso:DeleteAccountAssignment", "sso:ListAccountAssignments"]) {
      expect(await allowedOnAll("elevate-automation", automation, action, assignmentResources(PS)), action).toBe(true);
      expect(
        await allowedOnAll("elevate-automation", automation, action, [
          "arn:aws:sso:::instance/ssoins-fedcba9876543210",
          OTHER_INSTANCE_PS,
          `arn:aws:sso:::account/${MEMBER}`,
        ]),
        action,
      ).toBe(false);
    }
    expect(
      await allowedOnAll("elevate-automation", automation, "sso:DescribeAccountAssignmentCreationStatus", [INSTANCE]),
    ).toBe(true);
    expect(
      await allowedOnAll("elevate-automation", automation, "identitystore:GetUserId", [
        `arn:aws:identitystore::${ACCOUNT}:identitystore/${STORE}`,
        "arn:aws:identitystore:::user/0123abcd-0000-0000-0000-000000000000",
      ]),
    ).toBe(true);
    // Nothing that changes permission sets themselves (their policies, their session duration).
    for (const action of [
      "sso:PutInlinePolicyToPermissionSet",
      "sso:UpdatePermissionSet",
      "sso:ProvisionPermissionSet",
      "sso:CreatePermissionSet",
    ]) {
      expect(await allowedOnAll("elevate-automation", automation, action, [INSTANCE, PS]), action).toBe(false);
    }
  });

  it("neither the grant nor the revoke role may change assignments themselves; the revoke role may read them", async () => {
    for (const [role, policy] of [
      ["elevate-grant", grant],
      ["elevate-revoke", revoke],
    ] as const) {
      for (const action of ["sso:CreateAccountAssignment", "sso:DeleteAccountAssignment"]) {
        expect(await allowedOnAll(role, policy, action, assignmentResources(PS)), `${role} ${action}`).toBe(false);
      }
    }
    expect(await allowedOnAll("elevate-revoke", revoke, "sso:ListAccountAssignments", assignmentResources(PS))).toBe(
      true,
    );
    expect(await allowedOnAll("elevate-grant", grant, "sso:ListAccountAssignments", assignmentResources(PS))).toBe(
      false,
    );
  });

  it("the revoke role starts Elevate-RevokePermissionSet, the grant role Elevate-GrantPermissionSet, the scheduler role only the revoke", async () => {
    const start = (role: string, policy: object, doc: string) =>
      iamDecision({
        principal: session(role),
        action: "ssm:StartAutomationExecution",
        resource: `${ssm}:automation-definition/${doc}:$LATEST`,
        identityPolicies: [policy],
      });
    expect(await start("elevate-revoke", revoke, "Elevate-RevokePermissionSet")).toBe("Allowed");
    expect(await start("elevate-revoke", revoke, "Elevate-GrantPermissionSet")).toBe("ImplicitlyDenied");
    expect(await start("elevate-grant", grant, "Elevate-GrantPermissionSet")).toBe("Allowed");
    expect(await start("elevate-grant", grant, "Elevate-RevokePermissionSet")).toBe("ImplicitlyDenied");
    expect(await start("elevate-scheduler", scheduler, "Elevate-RevokePermissionSet")).toBe("Allowed");
    expect(await start("elevate-scheduler", scheduler, "Elevate-GrantPermissionSet")).toBe("ImplicitlyDenied");
  });

  it("the automation role may check membership of the eligible group only, and only when one is configured", async () => {
    const GROUP = "5e1c4a3b-7f2d-4c6e-8a9b-0c1d2e3f4a5b";
    const withGroup = inlinePolicy(
      plan({ IdentityCenterInstanceArn: INSTANCE, IdentityStoreId: STORE, IdentityCenterEligibleGroupId: GROUP }),
      "AutomationRole",
    );
    const check = (group: string, policy: object) =>
      allowedOnAll("elevate-automation", policy, "identitystore:IsMemberInGroups", [
        `arn:aws:identitystore::${ACCOUNT}:identitystore/${STORE}`,
        `arn:aws:identitystore:::group/${group}`,
        "arn:aws:identitystore:::user/0123abcd-0000-0000-0000-000000000000",
      ]);
    expect(await check(GROUP, withGroup)).toBe(true);
    expect(await check("0123abcd-0000-0000-0000-000000000000", withGroup)).toBe(false);
    // No group: no membership call at all (the runbook refuses every grant in checkCeiling).
    expect(JSON.stringify(automation)).not.toMatch(/IsMemberInGroups/);
    // Nothing that changes groups or memberships.
    for (const action of ["identitystore:CreateGroupMembership", "identitystore:DeleteGroupMembership"]) {
      expect(await allowedOnAll("elevate-automation", withGroup, action, ["*"]), action).toBe(false);
    }
    expect(() => plan({ IdentityCenterEligibleGroupId: GROUP })).toThrow(
      /IdentityCenterEligibleGroupId is a group of IdentityStoreId/,
    );
    expect(() =>
      plan({ IdentityCenterInstanceArn: INSTANCE, IdentityStoreId: STORE, IdentityCenterEligibleGroupId: "group" }),
    ).toThrow(/IdentityCenterEligibleGroupId/);
  });

  it("the instance and the identity store go together; the example permission set needs the instance", () => {
    expect(() => plan({ IdentityCenterInstanceArn: INSTANCE })).toThrow(/IdentityStoreId go together/);
    expect(() => plan({ IdentityStoreId: STORE })).toThrow(/IdentityStoreId go together/);
    expect(() => plan({ CreateExamplePermissionSet: "true" })).toThrow(/needs IdentityCenterInstanceArn/);
    expect(() => plan({ IdentityCenterInstanceArn: "arn:aws:sso:::instance/ssoins-0123" })).toThrow(
      /IdentityCenterInstanceArn/,
    );
  });

  it("the example permission set is PT1H, read-only, in the stack's instance, only when asked", () => {
    // The sandbox deployer does not create AWS::SSO::PermissionSet (cfn-lint checks the
    // resource); the template's own text is what is pinned here.
    const t = parseTemplate(TEMPLATE);
    expect(t.Resources.ExamplePermissionSet).toEqual({
      Type: "AWS::SSO::PermissionSet",
      Condition: "ShouldCreateExamplePermissionSet",
      Properties: {
        InstanceArn: { Ref: "IdentityCenterInstanceArn" },
        Name: "Elevate-ReadOnly",
        Description: "Example permission set granted through Elevate.",
        SessionDuration: "PT1H",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
        ManagedPolicies: [{ "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess" }],
      },
    });
    expect(t.Conditions?.ShouldCreateExamplePermissionSet).toEqual({
      "Fn::And": [
        { Condition: "HasIdentityCenter" },
        { "Fn::Equals": [{ Ref: "CreateExamplePermissionSet" }, "true"] },
      ],
    });
    expect(configured.resources.map((r) => r.logicalId)).not.toContain("ExamplePermissionSet");
  });
});
