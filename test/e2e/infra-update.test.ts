/**
 * Stack updates (issue: runbook updates must not break the stack): deploy
 * infra/template.yaml, change a runbook, update the stack as CloudFormation
 * would, and grant through the action bundle with the new runbook version.
 *
 * The documents use UpdateMethod NewVersion, so a changed runbook is a new
 * document version; the action starts every runbook with DocumentVersion
 * $LATEST, so it runs that version even when CloudFormation does not make it
 * the default (which has been reported). The old behaviour (no UpdateMethod,
 * i.e. Replace) fails the update of a custom-named document.
 */
import { readFileSync } from "node:fs";
import { DescribeDocumentCommand, GetDocumentCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syncTemplate } from "../../infra/sync-runbooks.mjs";
import { startAwsSandbox } from "../../sandbox/aws/index.js";
import { deployTemplate } from "../../sandbox/cfn/deploy.js";
import { updateStack } from "../../sandbox/cfn/update.js";
import { type ElevateWorld, requestYaml, TEMPLATE_PATH } from "../../sandbox/world.js";
import { grantPolicyName } from "../../src/domain/grant-policy.js";
import { E2E_TIMEOUT_MS, grantExecutions, requestFile, startWorld } from "./grant-support.js";

const GRANT_RUNBOOK = "infra/runbooks/elevate-grant.yaml";
const TEMPLATE = readFileSync(TEMPLATE_PATH, "utf8");

/**
 * infra/template.yaml with infra/runbooks/elevate-grant.yaml changed: a new
 * description (any change to the content is a change of the document).
 */
function templateWithGrantRunbookChanged(marker: string, template = TEMPLATE): string {
  const { text, seen } = syncTemplate(template, (path) => {
    const runbook = readFileSync(path, "utf8");
    if (path !== GRANT_RUNBOOK) return runbook;
    const changed = runbook.replace(/^description: (.*)$/m, (_, text: string) => `description: ${text} (${marker})`);
    expect(changed).not.toBe(runbook);
    return changed;
  });
  expect(seen).toContain(GRANT_RUNBOOK);
  return text;
}

function ssmOf(world: ElevateWorld): SSMClient {
  return new SSMClient({
    region: world.aws.region,
    endpoint: world.aws.endpoint,
    credentials: world.aws.rootCredentials,
  });
}

describe("updating the stack with a changed runbook", { timeout: E2E_TIMEOUT_MS }, () => {
  let world: ElevateWorld;
  beforeAll(async () => {
    world = await startWorld();
  }, E2E_TIMEOUT_MS);
  afterAll(async () => {
    await world?.close();
  });

  async function grant(id: string, requester: string, approver: string) {
    const pr = world.scenario.openRequestPr({
      author: requester,
      files: { [requestFile(id)]: requestYaml({ requester }) },
    });
    pr.approve(approver);
    const merged = pr.merge("merge");
    const run = await world.runAction("grant", merged.pushEvent);
    expect(run.exitCode, run.stdout).toBe(0);
    const executions = grantExecutions(world, id);
    expect(executions).toHaveLength(1);
    return executions[0]!;
  }

  it("grants with version 1 before the update", async () => {
    const execution = await grant("before-update-1", "alice", "bob");
    expect(execution.documentVersion).toBe("1");
    expect(execution.status).toBe("Success");
  });

  it("adds a document version (UpdateDocument) and makes it the default, changing nothing else", async () => {
    const result = await world.updateStack({ templateText: templateWithGrantRunbookChanged("v2") });
    const changed = result.changes.filter((c) => c.action !== "none");
    expect(changed).toEqual([
      { logicalId: "GrantDocument", type: "AWS::SSM::Document", action: "update", changed: ["Content"] },
    ]);
    const described = await ssmOf(world).send(new DescribeDocumentCommand({ Name: world.outputs.GrantDocumentName }));
    expect(described.Document).toMatchObject({ LatestVersion: "2", DefaultVersion: "2" });
    const v2 = await ssmOf(world).send(
      new GetDocumentCommand({ Name: world.outputs.GrantDocumentName, DocumentVersion: "2" }),
    );
    expect(v2.Content).toContain("(v2)");
  });

  it("grants with the new version after the update", async () => {
    const execution = await grant("after-update-1", "bob", "carol");
    expect(execution.documentVersion).toBe("2");
    expect(execution.document.description).toMatch(/\(v2\)$/);
    expect(execution.status).toBe("Success");
    expect(world.grantPolicies("bob")).toEqual([grantPolicyName("after-update-1")]);
  });

  it("runs the newest version even when the update leaves the default version behind", async () => {
    // cloudformation-coverage-roadmap#2539: NewVersion reported UPDATE_COMPLETE without promoting.
    await world.updateStack({ templateText: templateWithGrantRunbookChanged("v3"), promoteDefaultVersion: false });
    const described = await ssmOf(world).send(new DescribeDocumentCommand({ Name: world.outputs.GrantDocumentName }));
    expect(described.Document).toMatchObject({ LatestVersion: "3", DefaultVersion: "2" });
    const execution = await grant("after-update-2", "carol", "bob");
    // A start without DocumentVersion would have run the default, version 2.
    expect(execution.documentVersion).toBe("3");
    expect(execution.document.description).toMatch(/\(v3\)$/);
    expect(execution.status).toBe("Success");
  });

  it("an update that changes nothing calls nothing", async () => {
    const describedBefore = await ssmOf(world).send(
      new DescribeDocumentCommand({ Name: world.outputs.GrantDocumentName }),
    );
    const result = await world.updateStack({ templateText: templateWithGrantRunbookChanged("v3") });
    expect(result.changes.every((c) => c.action === "none")).toBe(true);
    const describedAfter = await ssmOf(world).send(
      new DescribeDocumentCommand({ Name: world.outputs.GrantDocumentName }),
    );
    expect(describedAfter.Document?.LatestVersion).toBe(describedBefore.Document?.LatestVersion);
  });
});

describe("the old UpdateMethod (Replace, the default) fails the update", { timeout: E2E_TIMEOUT_MS }, () => {
  it("refuses to replace the custom-named Elevate-Grant and leaves the document as it was", async () => {
    const withoutNewVersion = TEMPLATE.replace(
      /(\n {6}Name: Elevate-Grant\n {6}DocumentType: Automation\n) {6}UpdateMethod: NewVersion\n/,
      "$1",
    );
    expect(withoutNewVersion).not.toBe(TEMPLATE);
    const sandbox = await startAwsSandbox({ now: new Date("2026-11-30T08:00:00Z"), clockMode: "frozen" });
    try {
      const common = {
        templatePath: TEMPLATE_PATH,
        parameters: { GitHubOwner: "acme", GitHubRepo: "elevate", GitHubRepoId: "98765" },
        accountId: sandbox.defaultAccountId,
        region: sandbox.region,
        credentials: sandbox.rootCredentials,
        endpoints: { iam: sandbox.endpoint, ssm: sandbox.endpoint, sns: sandbox.endpoint },
        inlineManagedPolicies: {
          "arn:aws:iam::aws:policy/AmazonEC2FullAccess": { Version: "2012-10-17", Statement: [] },
        },
      };
      const stack = await deployTemplate({ ...common, templateText: withoutNewVersion });
      await expect(
        updateStack({ ...common, stack, templateText: templateWithGrantRunbookChanged("v2", withoutNewVersion) }),
      ).rejects.toThrow(
        "Resources.GrantDocument: CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename 'Elevate-Grant' and update the stack again. (Content changed)",
      );
      const ssm = new SSMClient({
        region: sandbox.region,
        endpoint: sandbox.endpoint,
        credentials: sandbox.rootCredentials,
      });
      const described = await ssm.send(new DescribeDocumentCommand({ Name: "Elevate-Grant" }));
      expect(described.Document).toMatchObject({ LatestVersion: "1", DefaultVersion: "1" });

      // The way out for a stack deployed before UpdateMethod: first an update that
      // only adds UpdateMethod NewVersion (UpdateMethod is not a replacing property:
      // nothing is called), then the changed runbook is a new version.
      const adopted = await updateStack({ ...common, stack, templateText: TEMPLATE });
      expect(adopted.changes.filter((c) => c.action !== "none")).toEqual(
        ["GrantDocument"].map((logicalId) => ({
          logicalId,
          type: "AWS::SSM::Document",
          action: "update",
          changed: ["UpdateMethod"],
        })),
      );
      expect((await ssm.send(new DescribeDocumentCommand({ Name: "Elevate-Grant" }))).Document?.LatestVersion).toBe(
        "1",
      );
      await updateStack({ ...common, stack: adopted, templateText: templateWithGrantRunbookChanged("v2") });
      const after = await ssm.send(new DescribeDocumentCommand({ Name: "Elevate-Grant" }));
      expect(after.Document).toMatchObject({ LatestVersion: "2", DefaultVersion: "2" });
    } finally {
      await sandbox.close();
    }
  });
});
