/**
 * End to end in-process on the AWS sandbox: the deployed template and runbooks, the
 * real SDK over HTTP, the revoker's own inventory, plan and runbook calls. Covers
 * expiry with cut-off, overlapping grants (AWS TEAM #279) and a dropped scheduled run.
 * The same through the action bundle, git and GitHub: test/e2e/revoke-bundle-*.test.ts.
 */
import type { IAMClient } from "@aws-sdk/client-iam";
import { GetAutomationExecutionCommand, type SSMClient, StartAutomationExecutionCommand } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwsSandbox } from "../../sandbox/aws/index.js";
import type { DeployResult } from "../../sandbox/cfn/deploy.js";
import { cutoffPolicyName, formatIamTime } from "../../src/domain/grant-policy.js";
import { type KnownRequest, planRevocations } from "../../src/domain/revoke-plan.js";
import { readInventory } from "../../src/modes/inventory.js";
import { revokeParameters, revokeTokenParts, runRunbook } from "../../src/modes/revoke.js";
import { type StackSandbox, startStackSandbox } from "./stack-sandbox-support.js";

const START = new Date("2026-11-30T08:00:00Z");
let stack: StackSandbox;
let sandbox: AwsSandbox;
let deployed: DeployResult;
let iam: IAMClient;
let ssm: SSMClient;

const grant: StackSandbox["grant"] = (...args) => stack.grant(...args);

const configFor = () => stack.config({ alice: "alice.smith" });

/** One revoker pass as revoke mode makes it (no git: every grant is known as its merged request). */
async function revokePass(known: Map<string, KnownRequest>) {
  const now = sandbox.clock.now();
  const { inventory } = await readInventory(iam, sandbox.defaultAccountId, now);
  const plan = planRevocations({ inventory, now, earlyRevokeIds: [], knownRequests: known, driftMode: "revoke" });
  const config = configFor();
  for (const r of plan.revoke) {
    const parameters = revokeParameters(config, r);
    const result = await runRunbook(
      ssm,
      { documentName: "Elevate-Revoke", parameters, tokenParts: revokeTokenParts(r, parameters), timeoutMs: 20_000 },
      () => now.getTime(),
    );
    expect(result.message).toMatch(/succeeded/);
  }
  return plan;
}

const knownAs: StackSandbox["known"] = (...entries) => stack.known(...entries);

beforeAll(async () => {
  stack = await startStackSandbox(START);
  ({ sandbox, deployed, iam, ssm } = stack);
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

describe("revoker on the sandbox", () => {
  it("expiry: removes the expired grant, cuts off its sessions, keeps the overlapping and the other user's grants", async () => {
    await grant("alice-first", "alice.smith", "2026-11-30T08:00:00Z", "2026-11-30T09:00:00Z");
    await grant("alice-second", "alice.smith", "2026-11-30T08:30:00Z", "2026-11-30T11:00:00Z");
    await grant("bob-work", "bob", "2026-11-30T08:00:00Z", "2026-11-30T09:00:00Z");
    const known = knownAs(
      ["alice-first", "alice.smith", "2026-11-30T08:00:00Z", "2026-11-30T09:00:00Z"],
      ["alice-second", "alice.smith", "2026-11-30T08:30:00Z", "2026-11-30T11:00:00Z"],
      ["bob-work", "bob", "2026-11-30T08:00:00Z", "2026-11-30T09:00:00Z"],
    );
    sandbox.clock.set(new Date("2026-11-30T09:10:00Z"));
    const plan = await revokePass(known);
    expect(plan.revoke.map((r) => [r.requestId, r.cutOff])).toEqual([
      ["alice-first", false], // alice-second still covers the role: her sessions stay (no TEAM #279)
      ["bob-work", true],
    ]);
    expect(Object.keys(sandbox.state.userPolicies("alice.smith"))).toEqual(["elevate-alice-second"]);
    expect(Object.keys(sandbox.state.userPolicies("bob"))).toEqual([]);
    const cutoffs = sandbox.state.rolePolicies("EC2_FullAccess_Role");
    expect(Object.keys(cutoffs).filter((n) => n.startsWith("elevate-"))).toEqual([cutoffPolicyName("bob")]);
    expect(JSON.stringify(cutoffs[cutoffPolicyName("bob")])).toContain(formatIamTime(new Date("2026-11-30T09:00:01Z")));
  });

  it("a re-run finds nothing left to do; a dropped run only delays the cleanup of a policy that already denies", async () => {
    sandbox.clock.set(new Date("2026-11-30T09:20:00Z"));
    const again = await revokePass(
      knownAs(["alice-second", "alice.smith", "2026-11-30T08:30:00Z", "2026-11-30T11:00:00Z"]),
    );
    expect(again.revoke).toEqual([]);
    // Runs between 11:00 and 13:00 were dropped; the next one still removes alice-second.
    sandbox.clock.set(new Date("2026-11-30T13:00:00Z"));
    const late = await revokePass(
      knownAs(["alice-second", "alice.smith", "2026-11-30T08:30:00Z", "2026-11-30T11:00:00Z"]),
    );
    expect(late.revoke.map((r) => [r.requestId, r.reason, r.cutOff])).toEqual([["alice-second", "expired", true]]);
    expect(Object.keys(sandbox.state.userPolicies("alice.smith"))).toEqual([]);
    const executions = await ssm.send(
      new GetAutomationExecutionCommand({
        AutomationExecutionId: [...sandbox.state.executions.keys()].at(-1) as string,
      }),
    );
    expect(executions.AutomationExecution?.DocumentName).toBe("Elevate-Revoke");
  });

  it("an id that is a prefix of another grant's id: the revoke finds only its own policy (exact membership)", async () => {
    sandbox.clock.set(new Date("2026-11-30T14:00:00Z"));
    await grant("abc-2", "bob", "2026-11-30T14:00:00Z", "2026-11-30T16:00:00Z");
    const revokeAbc = async () => {
      const started = await ssm.send(
        new StartAutomationExecutionCommand({
          DocumentName: "Elevate-Revoke",
          DocumentVersion: "$LATEST",
          Parameters: {
            AutomationAssumeRole: [deployed.outputs.AutomationRoleArn as string],
            RequestId: ["abc"],
            UserName: ["bob"],
            RoleName: ["EC2_FullAccess_Role"],
            CutOff: ["false"],
            RevokedAt: ["2026-11-30T14:00:00Z"],
            StampAtRunTime: ["false"],
            StampNotAfter: ["9999-12-31T23:59:59Z"],
            RoleAccountId: ["123456789012"],
            CoveringRequests: ["-"],
          },
        }),
      );
      return sandbox.state.waitForExecution(started.AutomationExecutionId as string);
    };
    // elevate-abc is not there (elevate-abc-2 is): "already revoked" succeeds and deletes nothing.
    const absent = await revokeAbc();
    expect(absent.status).toBe("Success");
    expect(absent.steps.map((s) => s.StepName)).not.toContain("deleteGrantPolicy");
    expect(absent.steps.find((s) => s.StepName === "findGrantPolicy")?.Outputs?.Listed).toEqual(["false"]);
    expect(Object.keys(sandbox.state.userPolicies("bob"))).toEqual(["elevate-abc-2"]);
    // With elevate-abc there too, only elevate-abc goes.
    await grant("abc", "bob", "2026-11-30T14:00:00Z", "2026-11-30T15:00:00Z");
    const present = await revokeAbc();
    expect(present.status).toBe("Success");
    expect(present.steps.map((s) => s.StepName)).toContain("deleteGrantPolicy");
    expect(Object.keys(sandbox.state.userPolicies("bob"))).toEqual(["elevate-abc-2"]);
  });
});
