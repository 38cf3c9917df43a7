/**
 * What the sandbox's mini CloudFormation decides for a stack update
 * (sandbox/cfn/update.ts planUpdate), before it calls any service: in-place
 * updates, creations and deletions when Conditions change, and the failure
 * CloudFormation reports when a custom-named resource would be replaced.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type DeploymentPlan, planDeployment } from "../../sandbox/cfn/deploy.js";
import { planUpdate } from "../../sandbox/cfn/update.js";

const TEMPLATE = readFileSync("infra/template.yaml", "utf8");
const BASE = { GitHubOwner: "acme", GitHubRepo: "elevate", GitHubRepoId: "98765" };

function plan(template: string, parameters: Record<string, string> = {}, previous?: DeploymentPlan): DeploymentPlan {
  return planDeployment({
    template,
    parameters: { ...BASE, ...parameters },
    accountId: "123456789012",
    region: "ap-northeast-1",
    ...(previous ? { existing: Object.fromEntries(previous.resources.map((r) => [r.logicalId, r.identity])) } : {}),
  });
}

function actions(changes: ReturnType<typeof planUpdate>) {
  return changes.filter((c) => c.action !== "none").map((c) => [c.logicalId, c.action, c.changed.join(",")]);
}

function replaceOnce(text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to);
  expect(out, `template contains ${String(from)}`).not.toBe(text);
  return out;
}

describe("planUpdate", () => {
  it("the same template and parameters change nothing", () => {
    const before = plan(TEMPLATE);
    expect(actions(planUpdate(before, plan(TEMPLATE, {}, before)))).toEqual([]);
  });

  it("updates a role's MaxSessionDuration in place", () => {
    const before = plan(TEMPLATE);
    const changed = replaceOnce(
      TEMPLATE,
      /(RoleName: elevate-revoke\n(?: {6}.*\n)*? {6}MaxSessionDuration: )\d+/,
      "$19000",
    );
    expect(actions(planUpdate(before, plan(changed, {}, before)))).toEqual([
      ["RevokeRole", "update", "MaxSessionDuration"],
    ]);
  });

  it("creates and deletes resources whose Condition changes, and updates the policies that name them", () => {
    const before = plan(TEMPLATE, { CreateNotificationTopic: "true" });
    const after = plan(TEMPLATE, { CreateNotificationTopic: "false" }, before);
    expect(actions(planUpdate(before, after))).toEqual([
      ["GrantRole", "update", "Policies"],
      ["RevokeRole", "update", "Policies"],
      ["NotificationTopic", "delete", ""],
    ]);
    expect(actions(planUpdate(after, plan(TEMPLATE, { CreateNotificationTopic: "true" }, after)))).toEqual([
      ["NotificationTopic", "create", ""],
      ["GrantRole", "update", "Policies"],
      ["RevokeRole", "update", "Policies"],
    ]);
  });

  it("fails as CloudFormation does when a custom-named resource needs replacing", () => {
    const before = plan(TEMPLATE);
    // Path is create-only on AWS::IAM::Role; the example role keeps its RoleName.
    const movedRole = replaceOnce(TEMPLATE, "      Path: /elevated/\n", "      Path: /elevated/v2/\n");
    expect(() => planUpdate(before, plan(movedRole, {}, before))).toThrow(
      "Resources.ElevatedEc2Role: CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename 'EC2_FullAccess_Role' and update the stack again. (Path changed)",
    );
  });

  it("versions a document under NewVersion and replaces it (so fails) under Replace", () => {
    const changedRunbook = (text: string) =>
      replaceOnce(
        text,
        /(# BEGIN runbook infra\/runbooks\/elevate-revoke.yaml\n(?:.*\n)*? {8}description: .*)/,
        "$1 v2",
      );
    const before = plan(TEMPLATE);
    expect(actions(planUpdate(before, plan(changedRunbook(TEMPLATE), {}, before)))).toEqual([
      ["RevokeDocument", "update", "Content"],
    ]);

    const replaceMethod = replaceOnce(
      TEMPLATE,
      /(\n {6}Name: Elevate-Revoke\n {6}DocumentType: Automation\n) {6}UpdateMethod: NewVersion\n/,
      "$1      UpdateMethod: Replace\n",
    );
    const old = plan(replaceMethod);
    expect(() => planUpdate(old, plan(changedRunbook(replaceMethod), {}, old))).toThrow(
      "Rename 'Elevate-Revoke' and update the stack again. (Content changed)",
    );
    // UpdateMethod alone replaces nothing.
    expect(actions(planUpdate(old, plan(TEMPLATE, {}, old)))).toEqual([["RevokeDocument", "update", "UpdateMethod"]]);
  });

  it("names what it does not model instead of skipping it", () => {
    const before = plan(TEMPLATE);
    const thumbprint = replaceOnce(
      TEMPLATE,
      "6938fd4d98bab03faadb97b34396831e3780aea1",
      "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
    );
    expect(() => planUpdate(before, plan(thumbprint, {}, before))).toThrow(
      "Resources.GitHubOidcProvider: updating ThumbprintList of AWS::IAM::OIDCProvider is not modelled by the sandbox deployer",
    );
  });
});
