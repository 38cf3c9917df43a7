/**
 * An existing stack takes issue 15's many-accounts additions as an update, without
 * replacing anything: the stack is deployed from infra/template.yaml as it was just
 * before (a verbatim copy in fixtures/), then updated to today's template with the
 * administration role asked for. New resources are created, the changed runbooks
 * become new document versions, nothing is replaced or deleted.
 */
import { readFileSync } from "node:fs";
import { DescribeDocumentCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsSandbox, startAwsSandbox } from "../../sandbox/aws/index.js";
import { type DeployResult, deployTemplate } from "../../sandbox/cfn/deploy.js";
import { type UpdateResult, updateStack } from "../../sandbox/cfn/update.js";
import { EC2_FULL_ACCESS, TEMPLATE_PATH } from "../../sandbox/world.js";

const BEFORE = readFileSync(new URL("./fixtures/template-before-many-accounts.yaml", import.meta.url), "utf8");
const PARAMETERS = { GitHubOwner: "acme", GitHubRepo: "elevate", GitHubRepoId: "98765" };

let aws: AwsSandbox;
let stack: DeployResult;
let updated: UpdateResult;

function options() {
  return {
    templatePath: TEMPLATE_PATH,
    accountId: aws.defaultAccountId,
    region: aws.region,
    credentials: aws.rootCredentials,
    endpoints: { iam: aws.endpoint, ssm: aws.endpoint, sns: aws.endpoint, scheduler: aws.endpoint },
    inlineManagedPolicies: { "arn:aws:iam::aws:policy/AmazonEC2FullAccess": EC2_FULL_ACCESS },
  };
}

beforeAll(async () => {
  aws = await startAwsSandbox({ clockMode: "frozen", now: new Date("2026-11-30T08:00:00Z") });
  stack = await deployTemplate({ ...options(), templateText: BEFORE, parameters: PARAMETERS });
  updated = await updateStack({
    ...options(),
    stack,
    parameters: { ...PARAMETERS, CreateAutomationAdministrationRole: "true" },
  });
}, 120_000);

afterAll(async () => {
  await aws?.close();
});

describe("updating a stack from before member accounts", () => {
  it("creates the new resources and replaces or deletes nothing", () => {
    const by = (action: string) =>
      updated.changes
        .filter((c) => c.action === action)
        .map((c) => c.logicalId)
        .sort();
    expect(by("delete")).toEqual([]);
    // (Resources other work added since, e.g. the Identity Center runbooks, are created too.)
    expect(by("create")).toEqual(
      expect.arrayContaining(["AutomationAdministrationRole", "MemberClearCutoffDocument", "MemberCutoffDocument"]),
    );
    // Changed in place: the two runbooks that gained a member path, and the automation role's policy.
    expect(by("update")).toEqual(expect.arrayContaining(["AutomationRole", "ExpireGrantDocument", "RevokeDocument"]));
    // Same physical ids as before for everything that existed.
    for (const [logicalId, id] of Object.entries(stack.physicalIds)) {
      expect(updated.physicalIds[logicalId], logicalId).toBe(id);
    }
  });

  it("turns the changed runbooks into new versions of the same documents", async () => {
    const ssm = new SSMClient({ region: aws.region, endpoint: aws.endpoint, credentials: aws.rootCredentials });
    for (const name of ["Elevate-Revoke", "Elevate-ExpireGrant"]) {
      const doc = await ssm.send(new DescribeDocumentCommand({ Name: name }));
      expect(doc.Document?.LatestVersion, name).toBe("2");
    }
    const member = await ssm.send(new DescribeDocumentCommand({ Name: "Elevate-MemberCutoff" }));
    expect(member.Document?.LatestVersion).toBe("1");
    ssm.destroy();
    expect(aws.state.role("AWS-SystemsManager-AutomationAdministrationRole")).toBeDefined();
  });
});
