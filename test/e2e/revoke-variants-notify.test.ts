/**
 * Notifications from the revoke run and approver-capped windows, through the
 * action bundle (docs/notifications.md):
 *   - "requested": the scheduled run announces each open request PR once, then
 *     marks it with a bot comment; a marker written by a person does not count;
 *   - "drift": a hand-made elevate-* policy, reported, then revoked;
 *   - "expired": a grant whose window an approver capped is kept (its evidence
 *     records the capped window, so it is not drift) and expires at the capped end.
 */
import { PutUserPolicyCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ElevateWorld } from "../../sandbox/world.js";
import { requestYaml } from "../../sandbox/world.js";
import { grantPolicyText } from "../../src/domain/grant-policy.js";
import { REQUESTED_MARKER } from "../../src/modes/revoke.js";
import { at, jsonOutput, revoke, rootIam, scheduledRun, startRevokeWorld } from "./revoke-bundle-support.js";
import { expectDocumented, publishedSince } from "./revoke-variants-support.js";

let world: ElevateWorld;
let davePr: number;
let carolPr: number;

beforeAll(async () => {
  world = await startRevokeWorld({ start: at("2026-11-30T08:00:00Z") });
  // alice asks for 2h; bob approves but caps it to 30m (docs/approver.md).
  const pr = world.scenario.openRequestPr({
    author: "alice",
    files: { "requests/ec2-admin/alice-capped.yaml": requestYaml({ requester: "alice", duration: "2h" }) },
  });
  pr.approve("bob", { body: "Fine, but only for the resize.\nelevate: duration 30m" });
  const grant = await world.runAction("grant", pr.merge("merge").pushEvent);
  expect(grant.exitCode, grant.stdout).toBe(0);
  expect(world.grantPolicies("alice.smith")).toEqual(["elevate-alice-capped"]);

  davePr = world.scenario.openRequestPr({
    author: "dave",
    files: {
      "requests/ec2-admin/dave-db.yaml": requestYaml({ requester: "dave", duration: "1h", ticket: "INC-9" }),
    },
  }).number;
  carolPr = world.scenario.openRequestPr({
    author: "carol",
    files: { "requests/ec2-admin/carol-logs.yaml": requestYaml({ requester: "carol", duration: "30m" }) },
  }).number;
  // carol plants the marker herself: only a bot's marker counts.
  const carolToken = world.github.registerToken({
    kind: "user",
    login: "carol",
    permissions: { issues: "write", pullRequests: "write", metadata: "read" },
  });
  const [owner, repo] = world.repository.split("/");
  const planted = await fetch(`${world.github.url}/repos/${owner}/${repo}/issues/${carolPr}/comments`, {
    method: "POST",
    headers: { authorization: `token ${carolToken}`, "content-type": "application/json" },
    body: JSON.stringify({ body: `${REQUESTED_MARKER}\nnothing to see here` }),
  });
  expect(planted.status).toBe(201);

  // A grant-shaped policy nobody requested, put on dave by hand.
  await rootIam(world).send(
    new PutUserPolicyCommand({
      UserName: "dave",
      PolicyName: "elevate-handmade",
      PolicyDocument: grantPolicyText({
        requestId: "handmade",
        iamUser: "dave",
        roleArn: world.roleArn,
        notBefore: at("2026-11-30T08:00:00Z"),
        notAfter: at("2026-11-30T09:00:00Z"),
      }),
    }),
  );
}, 60_000);

afterAll(async () => {
  await world?.close();
});

function markerComments(pr: number) {
  return world.github.comments(world.repository, pr).filter((c) => c.body.includes(REQUESTED_MARKER));
}

describe("revoke run notifications", () => {
  it("publishes 'requested' for each open request PR and 'drift' for the hand-made policy; keeps the capped grant", async () => {
    world.aws.clock.set(at("2026-11-30T08:10:00Z"));
    const before = world.aws.state.published.length;
    const run = await revoke(world, scheduledRun(world), { drift: "report" });
    // Drift left in place fails the run; the capped grant is not drift.
    expect(run.exitCode, run.stdout).not.toBe(0);
    expect(jsonOutput(run, "drift")).toEqual(["handmade"]);
    expect(world.grantPolicies("alice.smith")).toEqual(["elevate-alice-capped"]);

    const messages = publishedSince(world, before);
    expectDocumented(messages);
    const drift = messages.filter((m) => m.body.event === "drift");
    expect(drift).toHaveLength(1);
    expect(drift[0]?.subject).toBe("Elevate: drift reported on dave: elevate-handmade");
    expect(drift[0]?.body).toMatchObject({
      requestId: "handmade",
      iamUser: "dave",
      policyName: "elevate-handmade",
      drift: { kind: "unknown-request", action: "report" },
      breakGlass: false,
      detail: expect.stringContaining("no request file requests/<role>/handmade.yaml"),
    });

    // One per PR, in the order GitHub lists open PRs (newest first): the order is no contract.
    const requested = messages
      .filter((m) => m.body.event === "requested")
      .sort((a, b) => (a.body.pr as { number: number }).number - (b.body.pr as { number: number }).number);
    expect(requested.map((m) => m.body.pr)).toEqual([
      { number: davePr, url: expect.stringContaining(`/pull/${davePr}`) },
      { number: carolPr, url: expect.stringContaining(`/pull/${carolPr}`) },
    ]);
    expect(requested[0]?.subject).toBe(`Elevate: dave requests ec2-admin (PR #${davePr})`);
    expect(requested[0]?.body).toEqual({
      schema: "elevate.notification/v1",
      event: "requested",
      // AWS's time when the run read it: the world clock runs on in real time from 08:10:00.
      occurredAt: expect.stringMatching(/^2026-11-30T08:1[0-4]:[0-5]\dZ$/),
      repository: world.repository,
      breakGlass: false,
      requestId: "dave-db",
      file: "requests/ec2-admin/dave-db.yaml",
      requester: "dave",
      iamUser: "dave",
      role: "ec2-admin",
      roleArn: world.roleArn,
      reason: "Resize the web ASG during INC-1234",
      ticket: "INC-9",
      pr: { number: davePr, url: expect.any(String) },
      detail: "dave requests ec2-admin for 1h from the merge; 1 code-owner approval(s) required",
      run: { id: run.environment.GITHUB_RUN_ID, attempt: "1", url: expect.any(String) },
    });
    expect(messages).toHaveLength(3);

    // Each PR is marked once, by the bot; carol's own marker is still there beside it.
    expect(markerComments(davePr).map((c) => c.author.login)).toEqual(["github-actions[bot]"]);
    expect(markerComments(carolPr).map((c) => c.author.login)).toEqual(["carol", "github-actions[bot]"]);
  }, 30_000);

  it("the next scheduled run publishes no 'requested' again; drift = revoke removes the policy and says so", async () => {
    world.aws.clock.set(at("2026-11-30T08:20:00Z"));
    const before = world.aws.state.published.length;
    const run = await revoke(world, scheduledRun(world));
    expect(run.exitCode, run.stdout).toBe(0);
    expect(jsonOutput(run, "revoked")).toEqual(["handmade"]);
    expect(world.grantPolicies("dave")).toEqual([]);
    expect(world.grantPolicies("alice.smith")).toEqual(["elevate-alice-capped"]);

    const messages = publishedSince(world, before);
    expectDocumented(messages);
    expect(messages.map((m) => m.body.event)).toEqual(["drift"]);
    expect(messages[0]?.subject).toBe("Elevate: drift revoked on dave: elevate-handmade");
    expect(messages[0]?.body).toMatchObject({
      drift: { kind: "unknown-request", action: "revoke" },
      executionId: expect.any(String),
      window: { notBefore: "2026-11-30T08:00:00Z", notAfter: "2026-11-30T09:00:00Z" },
      detail: expect.stringMatching(/; revoked$/),
    });
    expect(markerComments(davePr)).toHaveLength(1);
    expect(markerComments(carolPr)).toHaveLength(2);
  }, 30_000);

  it("the capped grant expires at its capped end and is published as 'expired' with its request", async () => {
    world.aws.clock.set(at("2026-11-30T08:35:00Z"));
    const before = world.aws.state.published.length;
    const run = await revoke(world, scheduledRun(world));
    expect(run.exitCode, run.stdout).toBe(0);
    expect(jsonOutput(run, "revoked")).toEqual(["alice-capped"]);
    expect(jsonOutput(run, "drift")).toEqual([]);
    const messages = publishedSince(world, before);
    expectDocumented(messages);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.body).toMatchObject({
      event: "expired",
      breakGlass: false,
      requestId: "alice-capped",
      file: "requests/ec2-admin/alice-capped.yaml",
      requester: "alice",
      iamUser: "alice.smith",
      role: "ec2-admin",
      window: { notBefore: "2026-11-30T08:00:00Z", notAfter: "2026-11-30T08:30:00Z" },
      policyName: "elevate-alice-capped",
    });
  }, 30_000);
});
