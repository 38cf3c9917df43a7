/**
 * Check mode end to end through the action bundle, on pull_request events:
 * one sticky plan comment, located annotations for invalid requests, a fork's
 * read-only token degrading to the job summary, and changes that can never
 * grant (mixed paths, edits of an existing request) flagged before merge.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ElevateWorld, requestYaml } from "../../sandbox/world.js";
import { PLAN_COMMENT_MARKER } from "../../src/modes/check.js";
import { E2E_TIMEOUT_MS, errors, outputList, requestFile, startWorld } from "./grant-support.js";

let world: ElevateWorld;

beforeAll(async () => {
  world = await startWorld();
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await world?.close();
});

describe("check mode on request PRs", { timeout: E2E_TIMEOUT_MS }, () => {
  it("posts the plan once and updates that comment in place", async () => {
    const id = "check-plan-1";
    const pr = world.scenario.openRequestPr({
      author: "alice",
      files: { [requestFile(id)]: requestYaml({ requester: "alice", duration: "90m" }) },
    });
    const first = await world.runAction("check", pr.pullRequestEvent("opened"));
    expect(first.exitCode, first.stdout).toBe(0);
    expect(outputList(first, "request-ids")).toEqual([id]);
    const [comment] = world.github.comments(world.repository, pr.number);
    expect(comment?.body.startsWith(PLAN_COMMENT_MARKER)).toBe(true);
    expect(comment?.body).toContain(`| \`${id}\` | @alice | \`alice.smith\` | \`${world.roleArn}\` |`);
    expect(comment?.body).toContain("1h 30m from merge");
    expect(comment?.body).toMatch(/0 of 1/);
    // Escaped like every cell: the owners are named, not pinged by the bot.
    expect(comment?.body).toContain("\\@\u200bbob \\@\u200bcarol");

    // A new commit and an approval on it: the same comment now shows the approval.
    pr.push({ [requestFile(id)]: requestYaml({ requester: "alice", duration: "1h" }) });
    pr.approve("bob");
    const second = await world.runAction("check", pr.pullRequestEvent("synchronize"));
    expect(second.exitCode, second.stdout).toBe(0);
    const comments = world.github.comments(world.repository, pr.number);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.id).toBe(comment!.id);
    expect(comments[0]!.body).toContain("1h from merge");
    expect(comments[0]!.body).toContain("1 of 1: \\@\u200bbob");
    expect(second.summary).toContain("1 of 1: \\@\u200bbob");
  });

  it("annotates an invalid request at file:line:col and fails", async () => {
    const file = requestFile("check-invalid-1");
    const text = [
      "requester: alice",
      "role: ec2-admin",
      "duration: 9h",
      "reason: Resize the web ASG",
      "colour: red",
      "",
    ];
    const pr = world.scenario.openRequestPr({ author: "alice", files: { [file]: text.join("\n") } });
    const run = await world.runAction("check", pr.pullRequestEvent());
    expect(run.exitCode).not.toBe(0);
    const located = errors(run).filter((a) => a.file === file);
    // duration on line 3 (over the role's 2h), the unknown key on line 5.
    expect(located.find((a) => /duration|2h/.test(a.message))).toMatchObject({ line: 3, col: expect.any(Number) });
    expect(located.find((a) => /unknown key/.test(a.message))).toMatchObject({ line: 5, col: 1 });
    const body = world.github.comments(world.repository, pr.number)[0]?.body ?? "";
    // File names are escaped text, not code spans (a backtick in a name must not end one).
    expect(body).toContain(`- :x: ${file}:3:`);
    expect(body).toContain(`- :x: ${file}:5:1: `);
  });

  it("degrades to the job summary on a fork's read-only token, passing for a valid request", async () => {
    const id = "check-fork-1";
    const pr = world.scenario.openRequestPr({
      author: "carol",
      files: { [requestFile(id)]: requestYaml({ requester: "carol" }) },
    });
    const forkToken = world.github.registerToken({
      permissions: { contents: "read", pullRequests: "read", issues: "read", metadata: "read" },
      readOnly: true,
      label: "fork GITHUB_TOKEN",
    });
    const run = await world.runAction("check", pr.pullRequestEvent(), { inputs: { "github-token": forkToken } });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(world.github.comments(world.repository, pr.number)).toEqual([]);
    expect(run.summary).toContain(`\`${id}\``);
    expect(run.annotations.find((a) => a.level === "warning")?.message).toMatch(
      /could not comment on PR #\d+ \(HTTP 403.*the plan is in the job summary/,
    );
  });

  it("flags a request PR that also changes files outside requests/", async () => {
    const file = requestFile("check-mixed-1");
    const pr = world.scenario.openRequestPr({
      author: "alice",
      files: { [file]: requestYaml({ requester: "alice" }), "scripts/deploy.sh": "echo hi\n" },
    });
    const run = await world.runAction("check", pr.pullRequestEvent());
    expect(run.exitCode).not.toBe(0);
    expect(errors(run).find((a) => a.file === file)?.message).toMatch(
      /also changes files outside requests\/ \(scripts\/deploy\.sh\).*nothing will be granted/,
    );
  });

  it("reports a request file nested too deep under requests/, as validate does", async () => {
    const file = "requests/ec2-admin/nested/check-nested-1.yaml";
    const pr = world.scenario.openRequestPr({
      author: "alice",
      files: { [file]: requestYaml({ requester: "alice" }) },
    });
    const run = await world.runAction("check", pr.pullRequestEvent());
    expect(run.exitCode).not.toBe(0);
    expect(errors(run).find((a) => a.file === file)).toMatchObject({ line: 1, col: 1 });
  });

  it("flags an edit of an existing request", async () => {
    const file = requestFile("check-existing-1");
    world.scenario.pushDirect({ [file]: requestYaml({ requester: "alice" }) }, { author: "carol" });
    const pr = world.scenario.openRequestPr({
      author: "alice",
      files: { [file]: requestYaml({ requester: "alice", duration: "2h" }) },
    });
    const run = await world.runAction("check", pr.pullRequestEvent());
    expect(run.exitCode).not.toBe(0);
    expect(errors(run).find((a) => a.file === file)).toMatchObject({
      line: 1,
      col: 1,
      message: expect.stringMatching(/edits an existing request: edits grant nothing/),
    });
  });
});
