/**
 * Approver-set windows and notification failures, end to end through the
 * committed bundle (issue "Approval variants", items 1 and 2):
 * - a counted approval with `elevate: duration 30m` shortens the window, and the
 *   grant comment says who capped it;
 * - a cap longer than the request is ignored and reported;
 * - a cap from a review that does not count (not a code owner) is ignored;
 * - a malformed cap line from a counted approval refuses the grant;
 * - a failed SNS publish after a grant is a warning: the grant stands.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ActionRun } from "../../sandbox/harness/run-action.js";
import { ElevateWorld, requestYaml } from "../../sandbox/world.js";
import { parseGrantPolicy } from "../../src/domain/grant-policy.js";

const START = new Date("2026-11-30T08:00:00Z");
let world: ElevateWorld;

const list = (run: ActionRun, name: string): string[] => JSON.parse(run.outputs[name] ?? "[]");

beforeAll(async () => {
  world = await ElevateWorld.start({
    start: START,
    clockMode: "frozen",
    ...(process.env.ELEVATE_TEST_BUNDLE ? { bundlePath: process.env.ELEVATE_TEST_BUNDLE } : {}),
  });
}, 120_000);

afterAll(async () => {
  await world?.close();
});

/** A merged request with the given reviews (reviewer, body), as bob/carol/dave. */
async function grantWithReviews(id: string, requester: string, reviews: [string, string][]) {
  const pr = world.scenario.openRequestPr({
    author: requester,
    files: { [`requests/ec2-admin/${id}.yaml`]: requestYaml({ requester, duration: "1h" }) },
  });
  for (const [reviewer, body] of reviews) pr.approve(reviewer, { body });
  const merged = pr.merge("merge");
  const run = await world.runAction("grant", merged.pushEvent);
  const comment = world.github.comments(world.repository, pr.number).at(-1)?.body ?? "";
  return { run, comment, merged };
}

function windowOf(iamUser: string, id: string) {
  return parseGrantPolicy(JSON.stringify(world.aws.state.userPolicies(iamUser)[`elevate-${id}`]));
}

describe("approver-set window", () => {
  it("a counted approval's cap shortens the window and the comment names who capped it", async () => {
    const { run, comment } = await grantWithReviews("cap-short", "alice", [
      ["bob", "Looks right.\nelevate: duration 30m"],
    ]);
    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, "granted")).toEqual(["cap-short"]);
    const window = windowOf("alice.smith", "cap-short");
    expect(window?.notBefore.toISOString()).toBe("2026-11-30T08:00:00.000Z");
    expect(window?.notAfter.toISOString()).toBe("2026-11-30T08:30:00.000Z");
    expect(comment).toMatch(/capped by @bob/);
  });

  it("a cap longer than the request is ignored and reported; the request's window stands", async () => {
    const { run, comment } = await grantWithReviews("cap-long", "dave", [["bob", "elevate: duration 3h"]]);
    expect(run.exitCode, run.stdout).toBe(0);
    expect(windowOf("dave", "cap-long")?.notAfter.toISOString()).toBe("2026-11-30T09:00:00.000Z");
    expect(comment).toMatch(/Cap ignored/);
  });

  it("a cap from a review that does not count (not a code owner) is ignored", async () => {
    // carol owns ec2-admin too, so use a non-owner: dave approves with a cap, bob approves plainly.
    const { run } = await grantWithReviews("cap-nonowner", "carol", [
      ["dave", "elevate: duration 15m"],
      ["bob", "ok"],
    ]);
    expect(run.exitCode, run.stdout).toBe(0);
    expect(windowOf("carol", "cap-nonowner")?.notAfter.toISOString()).toBe("2026-11-30T09:00:00.000Z");
  });

  it("a malformed cap line from a counted approval refuses the grant (nothing attached)", async () => {
    const { run } = await grantWithReviews("cap-bad", "bob", [["carol", "elevate: duration 1.5h"]]);
    expect(run.exitCode).not.toBe(0);
    expect(list(run, "refused")).toEqual(["cap-bad"]);
    expect(world.grantPolicies("bob")).not.toContain("elevate-cap-bad");
    expect(run.annotations.some((a) => a.level === "error" && /cap/.test(a.message))).toBe(true);
  });
});

describe("notifications", () => {
  it("a failed publish after a grant is a warning; the grant stands", async () => {
    world.aws.knobs.failNext("Publish", "InternalError", 10);
    try {
      const { run } = await grantWithReviews("notify-fails", "alice", [["carol", "approved"]]);
      expect(run.exitCode, run.stdout).toBe(0);
      expect(list(run, "granted")).toEqual(["notify-fails"]);
      expect(world.grantPolicies("alice.smith")).toContain("elevate-notify-fails");
      expect(run.annotations.some((a) => a.level === "warning" && /publish|notif/i.test(a.message))).toBe(true);
    } finally {
      world.aws.knobs.reset();
    }
  });
});
