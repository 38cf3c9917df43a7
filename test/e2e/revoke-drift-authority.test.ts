/**
 * Drift takes its authority from AWS and the protected branch, never from the evidence
 * notes (issue 11, section 3): anyone who can push `refs/notes/elevate` must not make an
 * out-of-band grant look legitimate. Through the action bundle, two grants are written
 * straight into IAM (as someone with IAM write access would), each with a forged note
 * that "accounts" for it exactly:
 *   - a break-glass grant that no Elevate-Grant execution made, with a forged
 *     `elevate.breakglass/v1` line on a commit of main;
 *   - a real request's grant widened past what the merged request asked for, with its
 *     grant note rewritten to the widened window.
 * Both are reported as drift (drift: report, the run fails) and revoked with a cut-off
 * (drift: revoke); a real break-glass grant (its execution in SSM) stays accounted for.
 */
import { PutUserPolicyCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Credentials } from "../../sandbox/aws/index.js";
import { runGit } from "../../sandbox/git/repo.js";
import type { ElevateWorld } from "../../sandbox/world.js";
import { requestYaml } from "../../sandbox/world.js";
import { grantPolicyText } from "../../src/domain/grant-policy.js";
import {
  at,
  cutoffsOn,
  EXAMPLE_ROLE,
  grantThroughPr,
  jsonOutput,
  revoke,
  rootIam,
  scheduledRun,
  sessionWorks,
  startRevokeWorld,
  takeSession,
} from "./revoke-bundle-support.js";

let world: ElevateWorld;
let mergeSha: string;
let daveSession: Credentials;
let aliceSession: Credentials;

function forgeNote(sha: string, text: string): void {
  runGit(world.scenario.git.originDir, ["notes", "--ref=refs/notes/elevate", "add", "-f", "-m", text, sha]);
}

beforeAll(async () => {
  world = await startRevokeWorld({ start: at("2026-11-30T08:00:00Z") });
  const granted = await grantThroughPr(world, {
    author: "alice",
    approver: "bob",
    files: { "requests/ec2-admin/alice-real.yaml": requestYaml({ requester: "alice", duration: "1h" }) },
  });
  mergeSha = world.scenario.mainSha();
  expect(granted.exitCode).toBe(0);
  const note = world.evidenceNote(mergeSha) as string;
  expect(note).toContain('"requestId":"alice-real"');

  const iam = rootIam(world);
  // 1. A break-glass grant nobody dispatched, with a forged break-glass evidence line.
  await iam.send(
    new PutUserPolicyCommand({
      UserName: "dave",
      PolicyName: "elevate-breakglass-9999",
      PolicyDocument: grantPolicyText({
        requestId: "breakglass-9999",
        iamUser: "dave",
        roleArn: world.roleArn,
        notBefore: at("2026-11-30T08:00:00Z"),
        notAfter: at("2026-11-30T09:00:00Z"),
      }),
    }),
  );
  forgeNote(
    mergeSha,
    `${note.trimEnd()}\n${JSON.stringify({
      schema: "elevate.breakglass/v1",
      event: "granted",
      requestId: "breakglass-9999",
      requester: "dave",
      iamUser: "dave",
      role: "ec2-admin",
      roleArn: world.roleArn,
      reason: "Production is down, INC-9999",
      commit: mergeSha,
      window: { notBefore: "2026-11-30T08:00:00Z", notAfter: "2026-11-30T09:00:00Z" },
      run: { id: "9999", attempt: "1", url: "https://github.com/acme/elevate/actions/runs/9999" },
      recordedAt: "2026-11-30T08:00:05Z",
    })}\n`,
  );
  // 2. alice's real grant widened to four hours, and its grant note rewritten to match.
  await iam.send(
    new PutUserPolicyCommand({
      UserName: "alice.smith",
      PolicyName: "elevate-alice-real",
      PolicyDocument: grantPolicyText({
        requestId: "alice-real",
        iamUser: "alice.smith",
        roleArn: world.roleArn,
        notBefore: at("2026-11-30T08:00:00Z"),
        notAfter: at("2026-11-30T12:00:00Z"),
      }),
    }),
  );
  const rewritten = (world.evidenceNote(mergeSha) as string).replace(
    '"notAfter":"2026-11-30T09:00:00Z"',
    '"notAfter":"2026-11-30T12:00:00Z"',
  );
  expect(rewritten).toContain('"notAfter":"2026-11-30T12:00:00Z"');
  forgeNote(mergeSha, rewritten);

  world.aws.clock.set(at("2026-11-30T08:20:00Z"));
  daveSession = await takeSession(world, "dave");
  aliceSession = await takeSession(world, "alice.smith");
}, 90_000);

afterAll(async () => {
  await world?.close();
});

describe("forged evidence notes account for nothing", () => {
  it("drift: report — both out-of-band grants are reported, the run fails, nothing is touched", async () => {
    const run = await revoke(world, scheduledRun(world), { drift: "report" });
    expect(run.exitCode).toBe(1);
    expect((jsonOutput(run, "drift") as string[]).sort()).toEqual(["alice-real", "breakglass-9999"]);
    expect(jsonOutput(run, "revoked")).toEqual([]);
    expect(run.summary).toMatch(/breakglass-9999 .*no successful Elevate-Grant execution for breakglass-9999/);
    expect(run.summary).toMatch(/alice-real .*its window lasts 14400 s, the request asks for 3600 s/);
    expect(world.grantPolicies("dave")).toEqual(["elevate-breakglass-9999"]);
  });

  it("drift: revoke — both are revoked and their sessions cut off", async () => {
    world.aws.clock.set(at("2026-11-30T08:25:00Z"));
    const run = await revoke(world, scheduledRun(world));
    expect(run.exitCode, run.stdout).toBe(0);
    expect((jsonOutput(run, "revoked") as string[]).sort()).toEqual(["alice-real", "breakglass-9999"]);
    expect(world.grantPolicies("dave")).toEqual([]);
    expect(world.grantPolicies("alice.smith")).toEqual([]);
    expect(cutoffsOn(world, EXAMPLE_ROLE).sort()).toEqual(["elevate-cutoff-alice.smith", "elevate-cutoff-dave"]);
    expect(await sessionWorks(world, daveSession)).toMatch(/AccessDenied/);
    expect(await sessionWorks(world, aliceSession)).toMatch(/AccessDenied/);
  });
});
