/**
 * infra/member-template.yaml (what runs in each member account) resolved by the
 * sandbox's mini CloudFormation, its trust and permissions evaluated with
 * @cloud-copilot/iam-simulate.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type DeploymentPlan, planDeployment } from "../../sandbox/cfn/deploy.js";
import { TemplateError } from "../../sandbox/cfn/template.js";
import { iamDecision } from "../support/iam-simulate.js";

const TEMPLATE = readFileSync("infra/member-template.yaml", "utf8");
const HUB = "111111111111";
const MEMBER = "222222222222";
const ADMIN = `arn:aws:iam::${HUB}:role/AWS-SystemsManager-AutomationAdministrationRole`;

function plan(parameters: Record<string, string> = {}, accountId = MEMBER): DeploymentPlan {
  return planDeployment({
    template: TEMPLATE,
    parameters: { HubAccountId: HUB, ...parameters },
    accountId,
    region: "ap-northeast-1",
  });
}

function props(p: DeploymentPlan, logicalId: string): Record<string, unknown> {
  const resource = p.resources.find((r) => r.logicalId === logicalId);
  if (!resource) throw new Error(`${logicalId} not planned`);
  return resource.properties;
}

describe("member template", () => {
  it("creates only the execution role by default, named as the hub expects", () => {
    const p = plan();
    expect(p.resources.map((r) => r.logicalId)).toEqual(["ExecutionRole"]);
    expect(props(p, "ExecutionRole").RoleName).toBe("elevate-member-cutoff");
    expect(p.outputs).toEqual({ ExecutionRoleArn: `arn:aws:iam::${MEMBER}:role/elevate-member-cutoff` });
    expect(plan({ ExecutionRoleName: "custom" }).outputs.ExecutionRoleArn).toBe(`arn:aws:iam::${MEMBER}:role/custom`);
  });

  it("refuses to be deployed into the hub itself and a path of every role", () => {
    expect(() => plan({}, HUB)).toThrow(TemplateError);
    expect(() => plan({ PrivilegedRolePath: "/" })).toThrow(TemplateError);
  });

  const trust = () => props(plan(), "ExecutionRole").AssumeRolePolicyDocument as object;
  const identity = () =>
    ((props(plan(), "ExecutionRole").Policies as { PolicyDocument: object }[])[0] as { PolicyDocument: object })
      .PolicyDocument;

  it("is assumable only by the hub's automation administration role", async () => {
    const role = `arn:aws:iam::${MEMBER}:role/elevate-member-cutoff`;
    const ask = (principal: string) =>
      iamDecision({
        principal,
        action: "sts:AssumeRole",
        resource: role,
        resourcePolicy: trust(),
        identityPolicies: [
          { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: "*" }] },
        ],
      });
    expect(await ask(ADMIN)).toBe("Allowed");
    for (const other of [
      `arn:aws:iam::${HUB}:role/elevate-automation`,
      `arn:aws:iam::${HUB}:user/elevate/alice.smith`,
      `arn:aws:iam::333333333333:role/AWS-SystemsManager-AutomationAdministrationRole`,
      `arn:aws:iam::${MEMBER}:role/AWS-SystemsManager-AutomationAdministrationRole`,
    ]) {
      expect(await ask(other), other).toBe("ImplicitlyDenied");
    }
    expect(JSON.stringify(trust())).not.toContain("ssm.amazonaws.com");
  });

  it("may read and write role policies of privileged roles under the path, and nothing else", async () => {
    const session = `arn:aws:sts::${MEMBER}:assumed-role/elevate-member-cutoff/exec-1`;
    const ask = (action: string, resource: string) =>
      iamDecision({ principal: session, action, resource, identityPolicies: [identity()] });
    const privileged = `arn:aws:iam::${MEMBER}:role/elevated/EC2_FullAccess_Role`;
    for (const action of [
      "iam:PutRolePolicy",
      "iam:DeleteRolePolicy",
      "iam:GetRolePolicy",
      "iam:ListRolePolicies",
      "iam:GetRole",
    ]) {
      expect(await ask(action, privileged), action).toBe("Allowed");
      expect(await ask(action, `arn:aws:iam::${MEMBER}:role/elevate-member-cutoff`), action).toBe("ImplicitlyDenied");
      expect(await ask(action, `arn:aws:iam::${MEMBER}:role/OrganizationAccountAccessRole`), action).toBe(
        "ImplicitlyDenied",
      );
    }
    for (const [action, resource] of [
      ["iam:UpdateAssumeRolePolicy", privileged],
      ["iam:AttachRolePolicy", privileged],
      ["iam:PutUserPolicy", `arn:aws:iam::${MEMBER}:user/elevated/bob`],
      ["sts:AssumeRole", privileged],
    ] as const) {
      expect(await ask(action, resource), action).toBe("ImplicitlyDenied");
    }
  });

  it("creates the example role on request: hub users only, session name = user name", async () => {
    const p = plan({ CreateExampleRole: "true" });
    const arn = `arn:aws:iam::${MEMBER}:role/elevated/EC2_FullAccess_Role`;
    expect(p.outputs.ExampleRoleArn).toBe(arn);
    const roleTrust = props(p, "ElevatedEc2Role").AssumeRolePolicyDocument as object;
    const allowAll = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: "*" }],
    };
    const ask = (principal: string, user: string, session: string) =>
      iamDecision({
        principal,
        action: "sts:AssumeRole",
        resource: arn,
        resourcePolicy: roleTrust,
        identityPolicies: [allowAll],
        context: { "aws:username": user, "sts:RoleSessionName": session },
      });
    expect(await ask(`arn:aws:iam::${HUB}:user/elevate/alice`, "alice", "alice")).toBe("Allowed");
    expect(await ask(`arn:aws:iam::${HUB}:user/elevate/alice`, "alice", "bob")).toBe("ImplicitlyDenied");
    expect(await ask(`arn:aws:iam::${MEMBER}:user/alice`, "alice", "alice")).toBe("ImplicitlyDenied");
  });
});
