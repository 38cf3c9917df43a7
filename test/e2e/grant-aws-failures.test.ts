/**
 * Grant mode against AWS refusing or failing, through the action bundle:
 * OIDC tokens the grant role's trust policy must not accept (another branch,
 * another workflow, a pull request), and a grant runbook that fails on IAM's
 * 2,048-character inline budget (docs/threat-model.md invariants 2 and 5: only Success is
 * success, never a partial grant).
 */
import { IAMClient, PutUserPolicyCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MergeOutcome } from "../../sandbox/git/scenario.js";
import { type ElevateWorld, requestYaml } from "../../sandbox/world.js";
import { grantPolicyName } from "../../src/domain/grant-policy.js";
import {
  E2E_TIMEOUT_MS,
  errors,
  evidenceOn,
  expectRefused,
  grantExecutions,
  outputList,
  requestFile,
  startWorld,
  WORLD_START,
} from "./grant-support.js";

let world: ElevateWorld;

beforeAll(async () => {
  world = await startWorld();
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await world?.close();
});

function approvedMerge(id: string, requester: string, approver: string): MergeOutcome {
  const pr = world.scenario.openRequestPr({
    author: requester,
    files: { [requestFile(id)]: requestYaml({ requester }) },
  });
  pr.approve(approver);
  return pr.merge("merge");
}

describe("the grant role trusts only this repository's grant workflow on main", { timeout: E2E_TIMEOUT_MS }, () => {
  const id = "oidc-1";
  let merged: MergeOutcome;
  beforeAll(() => {
    merged = approvedMerge(id, "alice", "bob");
  });

  it.each([
    ["another branch", { ref: "refs/heads/feature" }],
    ["another workflow", { workflowPath: ".github/workflows/elevate-revoke.yml" }],
    ["a pull_request run", { eventName: "pull_request", ref: "refs/pull/1/merge" }],
  ])("refuses a token from %s", async (_, oidc) => {
    const denialsBefore = world.aws.calls("AssumeRoleWithWebIdentity").filter((c) => c.outcome !== "ok").length;
    const run = await world.runAction("grant", merged.pushEvent, { oidc });
    expectRefused(world, run, {
      requestId: id,
      iamUser: "alice.smith",
      message: /could not assume the grant role .*elevate-grant.* with this job's OIDC token \(AccessDenied/,
    });
    // STS itself refused (the trust policy), not something before it.
    expect(world.aws.calls("AssumeRoleWithWebIdentity").filter((c) => c.outcome !== "ok").length).toBe(
      denialsBefore + 1,
    );
    expect(outputList(run, "refused")).toEqual([id]);
  });

  it("grants the same push from the grant workflow on main", async () => {
    const run = await world.runAction("grant", merged.pushEvent);
    expect(run.exitCode, run.stdout).toBe(0);
    expect(world.grantPolicies("alice.smith")).toEqual([grantPolicyName(id)]);
  });
});

describe("a grant runbook that fails attaches nothing and says why", { timeout: E2E_TIMEOUT_MS }, () => {
  it("reports the 2,048-character budget when PutUserPolicy fails with LimitExceeded, and a later re-run retries", async () => {
    const id = "budget-injected-1";
    const merged = approvedMerge(id, "bob", "carol");
    // Nine times: the step has maxAttempts 3 (infra/runbooks/elevate-grant.yaml), and each
    // attempt's executeAwsApi client makes up to three calls.
    world.aws.knobs.failNext("PutUserPolicy", "LimitExceeded", 9);
    const run = await world.runAction("grant", merged.pushEvent);
    expect(run.exitCode).not.toBe(0);
    const message = errors(run)
      .map((a) => a.message)
      .join("\n");
    expect(message).toMatch(/ended Failed/);
    expect(message).toMatch(/2,048-character budget/);
    expect(world.grantPolicies("bob")).toEqual([]);
    const [failed] = grantExecutions(world, id);
    expect(failed?.status).toBe("Failed");
    expect(outputList(run, "refused")).toEqual([id]);
    expect(outputList(run, "execution-ids")).toEqual([failed!.id]);
    expect(evidenceOn(world, merged.after).map((e) => e.event)).toEqual(["refused"]);

    // Once the cause is gone, re-running the workflow (minutes later) grants
    // the same window: the earlier execution failed, so a new one is started.
    world.aws.clock.set(new Date(WORLD_START.getTime() + 5 * 60_000));
    try {
      const rerun = await world.runAction("grant", merged.pushEvent);
      expect(rerun.exitCode, rerun.stdout).toBe(0);
      expect(outputList(rerun, "granted")).toEqual([id]);
    } finally {
      world.aws.clock.set(WORLD_START);
    }
    expect(grantExecutions(world, id).map((e) => e.status)).toEqual(["Failed", "Success"]);
    expect(world.aws.state.user("bob")?.inlinePolicies.get(grantPolicyName(id))).toContain(
      '"aws:CurrentTime":"2026-11-30T09:00:00Z"',
    );
  });

  it("refuses, attaching nothing, when the user's inline policies leave no room", async () => {
    const id = "budget-full-1";
    // Another inline policy that leaves less room than a grant needs.
    const iam = new IAMClient({
      region: world.aws.region,
      endpoint: world.aws.endpoint,
      credentials: world.aws.rootCredentials,
    });
    const filler = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Deny", Action: "s3:DeleteBucket", Resource: `arn:aws:s3:::${"x".repeat(1700)}` }],
    };
    await iam.send(
      new PutUserPolicyCommand({ UserName: "dave", PolicyName: "team-filler", PolicyDocument: JSON.stringify(filler) }),
    );
    const merged = approvedMerge(id, "dave", "bob");
    const run = await world.runAction("grant", merged.pushEvent);
    expect(run.exitCode).not.toBe(0);
    expect(
      errors(run)
        .map((a) => a.message)
        .join("\n"),
    ).toMatch(/dave's inline policies would exceed IAM's 2,048-character budget, so nothing was attached/);
    expect(Object.keys(world.aws.state.userPolicies("dave"))).toEqual(["team-filler"]);
    expect(grantExecutions(world, id).map((e) => e.status)).toEqual(["Failed"]);
    expect(evidenceOn(world, merged.after)[0]).toMatchObject({ event: "refused", requestId: id });
  });
});
