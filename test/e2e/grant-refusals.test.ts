/**
 * Grant mode refuses, through the action bundle, everything docs/threat-model.md
 * invariant 1 rules out (and the request-file rules around it), and keeps
 * hostile request values away from SSM and IAM (invariant 5). Each refusal:
 * the job fails, an error annotation says why, and IAM and SSM are untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ElevateWorld, requestYaml } from "../../sandbox/world.js";
import { grantPolicyName, grantPolicyText } from "../../src/domain/grant-policy.js";
import {
  E2E_TIMEOUT_MS,
  errors,
  expectRefused,
  grantExecutions,
  outputList,
  requestFile,
  startWorld,
} from "./grant-support.js";

/** The deployed example role (the sandbox's default account); checked in beforeAll. */
const ROLE_ARN = "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role";

const CODEOWNERS = [
  "/requests/ @carol",
  "/requests/ec2-admin/ @bob @carol",
  "/requests/db-admin/ @bob @carol @dave",
  "/requests/team-admin/ @acme/approvers",
  "/.github/ @carol",
  "",
].join("\n");

let world: ElevateWorld;

beforeAll(async () => {
  world = await startWorld({
    codeowners: CODEOWNERS,
    extraRoles: [
      "  db-admin:",
      `    arn: ${ROLE_ARN}`,
      "    approvals: 2",
      "  team-admin:",
      `    arn: ${ROLE_ARN}`,
    ].join("\n"),
  });
  expect(world.roleArn).toBe(ROLE_ARN);
  world.github.addTeam("acme", "approvers", ["dave"]);
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await world?.close();
});

/** Opens a one-file request PR, applies `review`, merges it and runs the grant. */
async function mergeAndGrant(input: {
  id: string;
  author: string;
  role?: string;
  review: (pr: ReturnType<ElevateWorld["scenario"]["openRequestPr"]>) => void;
  extraFiles?: Record<string, string>;
}) {
  const file = requestFile(input.id, input.role);
  const pr = world.scenario.openRequestPr({
    author: input.author,
    files: {
      [file]: requestYaml({ requester: input.author, ...(input.role ? { role: input.role } : {}) }),
      ...input.extraFiles,
    },
  });
  input.review(pr);
  const merged = pr.merge("merge");
  const run = await world.runAction("grant", merged.pushEvent);
  return { pr, merged, run, file };
}

describe("invariant 1: only approved, added request files grant", { timeout: E2E_TIMEOUT_MS }, () => {
  it("refuses the author's own approval", async () => {
    const { run, pr } = await mergeAndGrant({
      id: "self-approved-1",
      author: "carol",
      review: (p) => p.approve("carol"),
    });
    expectRefused(world, run, {
      requestId: "self-approved-1",
      iamUser: "carol",
      message: /0 of 1 required approval.*@carol: the pull request author cannot approve their own request/,
    });
    expect(outputList(run, "refused")).toEqual(["self-approved-1"]);
    expect(world.github.comments(world.repository, pr.number).at(-1)?.body).toContain("**self-approved-1**: refused");
  });

  it("refuses an approval made before the author pushed another commit", async () => {
    const { run } = await mergeAndGrant({
      id: "stale-approval-1",
      author: "alice",
      review: (p) => {
        p.approve("bob");
        p.push({ [requestFile("stale-approval-1")]: requestYaml({ requester: "alice", duration: "2h" }) });
      },
    });
    expectRefused(world, run, {
      requestId: "stale-approval-1",
      iamUser: "alice.smith",
      message: /@bob: stale approval on commit [0-9a-f]{40}, not the head commit/,
    });
  });

  it("refuses too few approvals for a role that needs two", async () => {
    const { run } = await mergeAndGrant({
      id: "one-of-two-1",
      author: "alice",
      role: "db-admin",
      review: (p) => p.approve("bob"),
    });
    expectRefused(world, run, {
      requestId: "one-of-two-1",
      iamUser: "alice.smith",
      message: /1 of 2 required approval\(s\) from code owners \(@bob, @carol, @dave\)/,
    });
  });

  it("refuses an approval by someone who is not a code owner of the file", async () => {
    const { run } = await mergeAndGrant({ id: "non-owner-1", author: "alice", review: (p) => p.approve("dave") });
    expectRefused(world, run, {
      requestId: "non-owner-1",
      iamUser: "alice.smith",
      message: /@dave: not a code owner of the request file/,
    });
  });

  it("refuses when the approver's latest review requests changes", async () => {
    const { run } = await mergeAndGrant({
      id: "changes-requested-1",
      author: "alice",
      review: (p) => {
        p.approve("bob");
        p.review("bob", "CHANGES_REQUESTED", { body: "Too long" });
      },
    });
    expectRefused(world, run, {
      requestId: "changes-requested-1",
      iamUser: "alice.smith",
      message: /@bob: latest review is CHANGES_REQUESTED/,
    });
  });

  it("refuses a request pushed straight to main (no PR)", async () => {
    const event = world.scenario.pushDirect(
      { [requestFile("direct-push-1")]: requestYaml({ requester: "alice" }) },
      { author: "alice" },
    );
    const run = await world.runAction("grant", event);
    expectRefused(world, run, {
      requestId: "direct-push-1",
      iamUser: "alice.smith",
      message: /is not the merge of a pull request into main \(a direct push\?\)/,
    });
  });

  it("refuses a PR that also changes a file outside requests/", async () => {
    const { run } = await mergeAndGrant({
      id: "mixed-paths-1",
      author: "alice",
      review: (p) => p.approve("bob"),
      extraFiles: { "docs/notes.md": "unrelated\n" },
    });
    expectRefused(world, run, {
      requestId: "mixed-paths-1",
      iamUser: "alice.smith",
      message: /also changes files outside requests\/ \(docs\/notes\.md\)/,
    });
  });

  it("refuses an edit of an existing request", async () => {
    const base = requestFile("edit-base-1");
    const first = world.scenario.openRequestPr({
      author: "alice",
      files: { [base]: requestYaml({ requester: "alice" }) },
    });
    first.approve("bob");
    first.merge("merge");

    const edit = world.scenario.openRequestPr({
      author: "alice",
      files: { [base]: requestYaml({ requester: "alice", duration: "2h" }) },
    });
    edit.approve("bob");
    const edited = await world.runAction("grant", edit.merge("merge").pushEvent);
    expectRefused(world, edited, {
      requestId: "edit-base-1",
      iamUser: "alice.smith",
      message: /requests\/ec2-admin\/edit-base-1\.yaml is an existing request that was edited: edits grant nothing/,
    });
    expect(errors(edited).find((a) => /was edited/.test(a.message))?.file).toBe(base);
    expect(world.github.comments(world.repository, edit.number).at(-1)?.body).toContain("**edit-base-1**: refused");
  });

  it("refuses a rename of an existing request", async () => {
    const renamedFile = requestFile("renamed-1");
    const rename = world.scenario.openRequestPr({
      author: "alice",
      renames: { [requestFile("edit-base-1")]: renamedFile },
    });
    rename.approve("bob");
    const renamed = await world.runAction("grant", rename.merge("squash").pushEvent);
    expectRefused(world, renamed, {
      requestId: "renamed-1",
      iamUser: "alice.smith",
      message: /renamed from requests\/ec2-admin\/edit-base-1\.yaml: a rename grants nothing/,
    });
    expect(outputList(renamed, "refused")).toEqual(["renamed-1"]);
  });

  it("fails closed on a team owner the job token cannot read, and grants with a members-token", async () => {
    const id = "team-owned-1";
    const { run, merged } = await mergeAndGrant({
      id,
      author: "alice",
      role: "team-admin",
      review: (p) => p.approve("dave"),
    });
    expectRefused(world, run, {
      requestId: id,
      iamUser: "alice.smith",
      message: /cannot read the membership of code-owner team @acme\/approvers.*'members-token' input/,
    });

    const membersToken = world.github.registerToken({
      permissions: { members: "read", metadata: "read" },
      label: "members-token",
    });
    const again = await world.runAction("grant", merged.pushEvent, { inputs: { "members-token": membersToken } });
    expect(again.exitCode, again.stdout).toBe(0);
    expect(outputList(again, "granted")).toEqual([id]);
    expect(world.grantPolicies("alice.smith")).toContain(grantPolicyName(id));
    expect(await world.tryAssume("alice.smith")).toMatchObject({ ok: true });
    // The token was masked in the log.
    expect(again.masks).toContain(membersToken);
  });

  it("refuses a second request file with an id already used under requests/", async () => {
    const before = world.aws.state.user("alice.smith")?.inlinePolicies.get(grantPolicyName("team-owned-1"));
    expect(before).toBeDefined();
    const { run } = await mergeAndGrant({ id: "team-owned-1", author: "alice", review: (p) => p.approve("bob") });
    expect(run.exitCode).not.toBe(0);
    expect(
      errors(run)
        .map((a) => a.message)
        .join("\n"),
    ).toMatch(/request id team-owned-1 is already used by requests\/team-admin\/team-owned-1\.yaml/);
    // The existing grant is untouched and no second execution ran for the id.
    expect(world.aws.state.user("alice.smith")?.inlinePolicies.get(grantPolicyName("team-owned-1"))).toBe(before);
    expect(grantExecutions(world, "team-owned-1")).toHaveLength(1);
  });
});

describe("invariant 5: hostile request values never reach SSM or IAM", { timeout: E2E_TIMEOUT_MS }, () => {
  it("refuses each hostile file with a located error, and keeps a hostile reason out of the policy", async () => {
    const hostileReason = `ok "}],"Effect":"Allow","Action":"*","Resource":"*"}]}`;
    const files: Record<string, string> = {
      [requestFile("Bad.Id")]: requestYaml({ requester: "alice" }),
      [requestFile("hostile-arn-1")]: requestYaml({ requester: "alice", role: `"${ROLE_ARN.replace(/[^/]+$/, "*")}"` }),
      [requestFile("hostile-user-1")]: requestYaml({ requester: `'alice"}],"Effect":"Allow'` }),
      [requestFile("hostile-duration-1")]: requestYaml({ requester: "alice", duration: `'1h"}'` }),
      [requestFile("hostile-reason-1")]: requestYaml({ requester: "alice", reason: `'${hostileReason}'` }),
    };
    const pr = world.scenario.openRequestPr({ author: "alice", files });
    pr.approve("bob");
    const run = await world.runAction("grant", pr.merge("merge").pushEvent);
    expect(run.exitCode).not.toBe(0);

    const located = (id: string) => errors(run).filter((a) => a.file === requestFile(id));
    expect(located("Bad.Id")[0]).toMatchObject({ line: expect.any(Number), col: expect.any(Number) });
    expect(located("hostile-arn-1").map((a) => a.line)).toContain(2);
    expect(located("hostile-user-1").map((a) => a.line)).toContain(1);
    expect(located("hostile-duration-1").map((a) => a.line)).toContain(3);
    for (const id of ["Bad.Id", "hostile-arn-1", "hostile-user-1", "hostile-duration-1"]) {
      expect(grantExecutions(world, id), id).toEqual([]);
      expect(world.grantPolicies("alice.smith"), id).not.toContain(`elevate-${id}`);
    }
    expect(outputList(run, "granted")).toEqual(["hostile-reason-1"]);

    // The free-text reason is evidence, never a runbook parameter or policy text.
    const [execution] = grantExecutions(world, "hostile-reason-1");
    expect(Object.keys(execution!.parameters).sort()).toEqual(
      ["AutomationAssumeRole", "NotAfter", "NotBefore", "RequestId", "RoleArn", "UserName"].sort(),
    );
    const policy = world.aws.state.user("alice.smith")?.inlinePolicies.get(grantPolicyName("hostile-reason-1"));
    expect(policy).toBe(
      grantPolicyText({
        requestId: "hostile-reason-1",
        iamUser: "alice.smith",
        roleArn: ROLE_ARN,
        notBefore: new Date("2026-11-30T08:00:00Z"),
        notAfter: new Date("2026-11-30T09:00:00Z"),
      }),
    );
  });

  it("no runbook parameter of any execution in this world holds a quote, brace or space", () => {
    const executions = [...world.aws.state.executions.values()];
    expect(executions.length).toBeGreaterThan(0);
    for (const e of executions) {
      for (const [name, values] of Object.entries(e.parameters)) {
        for (const value of values) expect(value, `${e.id} ${name}`).toMatch(/^[A-Za-z0-9:/._@+=,-]+$/);
      }
    }
  });
});
