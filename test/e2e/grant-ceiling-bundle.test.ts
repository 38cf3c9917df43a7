/**
 * The action refuses, through the committed bundle, a grant the AWS stack's
 * ceiling would refuse (a config role outside GrantableRoles, a window longer
 * than the stack allows for the role), with a message naming the stack
 * parameter to update, and starts no runbook. Grants inside the ceiling go on.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workflowDispatchEvent } from "../../sandbox/harness/events.js";
import { type ElevateWorld, requestYaml } from "../../sandbox/world.js";
import {
  E2E_TIMEOUT_MS,
  errors,
  expectRefused,
  grantExecutions,
  outputList,
  requestFile,
  startWorld,
} from "./grant-support.js";

const ACCOUNT = "123456789012";
const EXAMPLE_ROLE = `arn:aws:iam::${ACCOUNT}:role/elevated/EC2_FullAccess_Role`;
const OUTSIDE_ROLE = `arn:aws:iam::${ACCOUNT}:role/admin/ProdAdmin`;

let world: ElevateWorld;

beforeAll(async () => {
  world = await startWorld({
    codeowners: "/requests/ @bob @carol\n/.github/ @carol\n",
    // The config allows 4h and a role the platform team never put in the stack;
    // the stack allows only the example role, for at most 1h.
    defaults: "  maxDuration: 4h\n  approvals: 1\n  requireTicket: false",
    extraRoles: [
      "  prod-admin:",
      `    arn: ${OUTSIDE_ROLE}`,
      "  ec2-long:",
      `    arn: ${EXAMPLE_ROLE}`,
      "    maxDuration: 4h",
      "  prod-breakglass:",
      `    arn: ${OUTSIDE_ROLE}`,
      "    breakGlass:",
      "      maxDuration: 1h",
      "      requesters: [bob]",
    ].join("\n"),
    stackParameters: { GrantableRoles: `${EXAMPLE_ROLE}=1h` },
  });
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await world?.close();
});

async function mergeAndGrant(id: string, role: string, duration: string) {
  const file = requestFile(id, role);
  const pr = world.scenario.openRequestPr({
    author: "alice",
    files: { [file]: requestYaml({ requester: "alice", role, duration }) },
  });
  pr.approve("bob");
  const merged = pr.merge("merge");
  return world.runAction("grant", merged.pushEvent);
}

describe("the action refuses what the stack's ceiling would refuse", { timeout: E2E_TIMEOUT_MS }, () => {
  it("a config role outside GrantableRoles: refused before any runbook, naming the stack parameter", async () => {
    const run = await mergeAndGrant("outside-catalog-1", "prod-admin", "30m");
    expectRefused(world, run, {
      requestId: "outside-catalog-1",
      iamUser: "alice.smith",
      message: new RegExp(
        `role prod-admin \\(${OUTSIDE_ROLE}\\) is not in the AWS stack's grant catalog.*add "${OUTSIDE_ROLE}=30m" to the stack parameter GrantableRoles`,
      ),
    });
    expect(outputList(run, "refused")).toEqual(["outside-catalog-1"]);
    expect(run.outputs.summary).toMatch(/GrantableRoles/);
    // Nothing was started at all: no Elevate-Grant execution of any request.
    expect([...world.aws.state.executions.values()].filter((e) => e.documentName === "Elevate-Grant")).toEqual([]);
  });

  it("a window longer than the stack allows for the role: refused, naming GrantableRoles and the config key", async () => {
    const run = await mergeAndGrant("too-long-1", "ec2-long", "2h");
    expectRefused(world, run, {
      requestId: "too-long-1",
      iamUser: "alice.smith",
      message:
        /is 2h long, but the stack parameter GrantableRoles allows at most 1h for .*EC2_FullAccess_Role.*"arn:aws:iam::123456789012:role\/elevated\/EC2_FullAccess_Role=2h".*roles\.ec2-long\.maxDuration/,
    });
  });

  it("a grant inside the ceiling is granted as before, with the same one GetDocument read", async () => {
    const before = world.aws.calls("GetDocument").length;
    const run = await mergeAndGrant("inside-1", "ec2-long", "1h");
    expect(run.exitCode, run.stdout).toBe(0);
    expect(errors(run)).toEqual([]);
    expect(outputList(run, "granted")).toEqual(["inside-1"]);
    expect(world.grantPolicies("alice.smith")).toContain("elevate-inside-1");
    expect(grantExecutions(world, "inside-1")).toHaveLength(1);
    const reads = world.aws.calls("GetDocument").slice(before);
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({
      outcome: "ok",
      principal: expect.stringContaining("assumed-role/elevate-grant/"),
    });
  });
});

describe("the runbook stays the authority when the action cannot read the ceiling", { timeout: E2E_TIMEOUT_MS }, () => {
  it("warns, starts the runbook, and AWS refuses the role outside the catalog", async () => {
    world.aws.knobs.failNext("GetDocument", "AccessDeniedException");
    const run = await mergeAndGrant("unread-1", "prod-admin", "30m");
    expect(run.exitCode).not.toBe(0);
    const text = errors(run)
      .map((a) => a.message)
      .join("\n");
    expect(text).toMatch(/unread-1: automation .* ended Failed: .*not in the stack's GrantableRoles/);
    expect(world.grantPolicies("alice.smith")).not.toContain("elevate-unread-1");
  });
});

describe("break-glass is held to the same ceiling", { timeout: E2E_TIMEOUT_MS }, () => {
  it("refuses a break-glass role the stack does not list, naming GrantableRoles, and starts nothing", async () => {
    const before = [...world.aws.state.executions.values()].length;
    const event = workflowDispatchEvent({
      repository: world.scenario.webhookRepository(),
      sender: "bob",
      sha: world.scenario.mainSha(),
      workflowPath: ".github/workflows/elevate-breakglass.yml",
      inputs: { role: "prod-breakglass", duration: "30m", reason: "Payments API is down, restart the fleet (INC-77)" },
    });
    const run = await world.runAction("grant", event, {
      oidc: { workflowPath: ".github/workflows/elevate-breakglass.yml" },
    });
    expect(run.exitCode).not.toBe(0);
    expect(
      errors(run)
        .map((a) => a.message)
        .join("\n"),
    ).toMatch(
      /role prod-breakglass \(arn:aws:iam::123456789012:role\/admin\/ProdAdmin\) is not in the AWS stack's grant catalog.*GrantableRoles/,
    );
    expect([...world.aws.state.executions.values()]).toHaveLength(before);
    expect(world.grantPolicies("bob")).toEqual([]);
  });
});
