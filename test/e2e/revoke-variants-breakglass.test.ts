/**
 * Break-glass grants on the revoke side, through the action bundle: a grant made
 * by elevate-breakglass.yml has no request file, only its evidence line in
 * refs/notes/elevate, and the revoker must know it from that line. It survives a
 * scheduled run inside its window (not drift), can be revoked early with
 * `request: breakglass-<run id>` (docs/break-glass.md), and is revoked with a
 * session cut-off once expired. Each revocation is published ("revoked",
 * "expired", `breakGlass: true`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ElevateWorld } from "../../sandbox/world.js";
import {
  at,
  cutoffTime,
  dispatchRun,
  EXAMPLE_ROLE,
  jsonOutput,
  revoke,
  scheduledRun,
  sessionWorks,
  startRevokeWorld,
  takeSession,
} from "./revoke-bundle-support.js";
import { breakGlass, expectDocumented, publishedSince } from "./revoke-variants-support.js";

const REASON = "Payments API is down, restarting the fleet (INC-77)";

let world: ElevateWorld;
/** bob's break-glass grant, 08:00–08:30. */
let bobGrant: string;
/** alice's break-glass grant, 08:00–08:45, revoked early. */
let aliceGrant: string;

beforeAll(async () => {
  world = await startRevokeWorld({
    start: at("2026-11-30T08:00:00Z"),
    // The example role once more, as a break-glass role.
    extraRoles: [
      "  breakglass-admin:",
      `    arn: arn:aws:iam::123456789012:role/elevated/${EXAMPLE_ROLE}`,
      "    breakGlass:",
      "      maxDuration: 1h",
      "      requesters: [bob, alice]",
    ].join("\n"),
  });
  bobGrant = (await breakGlass(world, "bob", { role: "breakglass-admin", duration: "30m", reason: REASON })).requestId;
  aliceGrant = (await breakGlass(world, "alice", { role: "breakglass-admin", duration: "45m", reason: REASON }))
    .requestId;
}, 60_000);

afterAll(async () => {
  await world?.close();
});

describe("break-glass grants on the revoke side", () => {
  it("a scheduled run inside the window keeps both grants: known from their evidence, not drift", async () => {
    world.aws.clock.set(at("2026-11-30T08:10:00Z"));
    const before = world.aws.state.published.length;
    const run = await revoke(world, scheduledRun(world));
    expect(run.exitCode, run.stdout).toBe(0);
    expect(jsonOutput(run, "revoked")).toEqual([]);
    expect(jsonOutput(run, "drift")).toEqual([]);
    expect(world.grantPolicies("bob")).toEqual([`elevate-${bobGrant}`]);
    expect(world.grantPolicies("alice.smith")).toEqual([`elevate-${aliceGrant}`]);
    expect(publishedSince(world, before)).toEqual([]);
  }, 30_000);

  it("revokes one early by `request: breakglass-<run id>`, with a cut-off, and publishes 'revoked'", async () => {
    world.aws.clock.set(at("2026-11-30T08:15:00Z"));
    const aliceSession = await takeSession(world, "alice.smith");
    world.aws.clock.set(at("2026-11-30T08:16:00Z"));
    const before = world.aws.state.published.length;
    const run = await revoke(world, dispatchRun(world, aliceGrant), { request: aliceGrant });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(jsonOutput(run, "revoked")).toEqual([aliceGrant]);
    expect(world.grantPolicies("alice.smith")).toEqual([]);
    expect(world.grantPolicies("bob")).toEqual([`elevate-${bobGrant}`]);
    expect(cutoffTime(world, EXAMPLE_ROLE, "alice.smith")).toBe("2026-11-30T08:17:00Z");
    expect(await sessionWorks(world, aliceSession)).not.toBe(true);

    const messages = publishedSince(world, before);
    expectDocumented(messages);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.subject).toBe(`Elevate: revoked alice (breakglass-admin) [${aliceGrant}]`);
    expect(messages[0]?.body).toEqual({
      schema: "elevate.notification/v1",
      event: "revoked",
      // AWS's time (the Date of its responses), carried forward while the run waits for the runbook.
      occurredAt: expect.stringMatching(/^2026-11-30T08:16:[0-5][0-9]Z$/),
      repository: world.repository,
      breakGlass: true,
      requestId: aliceGrant,
      requester: "alice",
      iamUser: "alice.smith",
      role: "breakglass-admin",
      roleArn: world.roleArn,
      window: { notBefore: "2026-11-30T08:00:00Z", notAfter: "2026-11-30T08:45:00Z" },
      policyName: `elevate-${aliceGrant}`,
      executionId: expect.any(String),
      detail: expect.stringMatching(/revoked early on request \(manual run by @carol\); sessions issued before/),
      run: { id: run.environment.GITHUB_RUN_ID, attempt: "1", url: expect.any(String) },
    });
  }, 30_000);

  it("after notAfter the scheduled run revokes it as expired, cuts off the session, and publishes 'expired'", async () => {
    world.aws.clock.set(at("2026-11-30T08:20:00Z"));
    const bobSession = await takeSession(world, "bob");
    world.aws.clock.set(at("2026-11-30T08:40:00Z"));
    expect(await sessionWorks(world, bobSession)).toBe(true);
    const before = world.aws.state.published.length;
    const run = await revoke(world, scheduledRun(world));
    expect(run.exitCode, run.stdout).toBe(0);
    expect(jsonOutput(run, "revoked")).toEqual([bobGrant]);
    expect(jsonOutput(run, "drift")).toEqual([]);
    expect(world.grantPolicies("bob")).toEqual([]);
    expect(cutoffTime(world, EXAMPLE_ROLE, "bob")).toBe("2026-11-30T08:30:01Z");
    expect(await sessionWorks(world, bobSession)).not.toBe(true);

    const messages = publishedSince(world, before);
    expectDocumented(messages);
    expect(messages.map((m) => [m.body.event, m.body.requestId, m.body.breakGlass])).toEqual([
      ["expired", bobGrant, true],
    ]);
    expect(messages[0]?.body).toMatchObject({
      requester: "bob",
      iamUser: "bob",
      role: "breakglass-admin",
      window: { notBefore: "2026-11-30T08:00:00Z", notAfter: "2026-11-30T08:30:00Z" },
      detail: expect.stringContaining("its window ended at 2026-11-30T08:30:00Z"),
    });
    expect(messages[0]?.subject).toBe(`Elevate: expired bob (breakglass-admin) [${bobGrant}]`);
  }, 30_000);
});
