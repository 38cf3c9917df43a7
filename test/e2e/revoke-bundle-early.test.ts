/**
 * Revoke mode through the action bundle: early revocation (workflow_dispatch input,
 * a merged PR that deletes the request file, a direct push that deletes it), the
 * overlap rules of docs/threat-model.md invariant 3 (same user, same role / two roles / other
 * users), drift (revoked or only reported), and `elevate status` run in-process
 * against the same world with read-only credentials.
 */
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Credentials } from "../../sandbox/aws/index.js";
import type { ElevateWorld } from "../../sandbox/world.js";
import { requestYaml } from "../../sandbox/world.js";
import { main } from "../../src/cli/main.js";
import { grantPolicyText } from "../../src/domain/grant-policy.js";
import {
  addPrivilegedRole,
  at,
  cutoffsOn,
  cutoffTime,
  dispatchRun,
  EXAMPLE_ROLE,
  executionsOf,
  grantThroughPr,
  jsonOutput,
  revoke,
  rootIam,
  scheduledRun,
  sessionWorks,
  startRevokeWorld,
  takeSession,
} from "./revoke-bundle-support.js";

const S3_ROLE = "S3_FullAccess_Role";
/** The account of the AWS stand-in's default account (sandbox/aws) and the role the test creates in it. */
const S3_ROLE_ARN = `arn:aws:iam::123456789012:role/elevated/${S3_ROLE}`;

let world: ElevateWorld;
let readOnlyKeys: Credentials;
const sessions: Record<string, Credentials> = {};

beforeAll(async () => {
  world = await startRevokeWorld({
    start: at("2026-11-30T08:00:00Z"),
    extraRoles: ["  s3-admin:", `    arn: ${S3_ROLE_ARN}`, "    maxDuration: 2h"].join("\n"),
  });
  expect(await addPrivilegedRole(world, S3_ROLE)).toBe(S3_ROLE_ARN);
  const pr = world.scenario.openRequestPr({
    author: "alice",
    files: {
      "requests/ec2-admin/alice-a.yaml": requestYaml({ requester: "alice", duration: "2h" }),
      "requests/ec2-admin/alice-b.yaml": requestYaml({ requester: "alice", duration: "2h" }),
      "requests/s3-admin/alice-s3.yaml": requestYaml({ requester: "alice", role: "s3-admin", duration: "2h" }),
    },
  });
  pr.approve("bob"); // code owner of requests/ec2-admin/
  pr.approve("carol"); // code owner of the rest of requests/
  const granted = await world.runAction("grant", pr.merge("merge").pushEvent);
  expect(granted.exitCode, granted.stdout).toBe(0);
  expect(jsonOutput(granted, "granted")).toEqual(["alice-a", "alice-b", "alice-s3"]);
  await grantThroughPr(world, {
    author: "dave",
    approver: "bob",
    files: {
      "requests/ec2-admin/dave-x.yaml": requestYaml({ requester: "dave", duration: "2h" }),
      "requests/ec2-admin/dave-y.yaml": requestYaml({ requester: "dave", duration: "1h" }),
    },
  });

  // A read-only identity for `elevate status`: exactly what its help asks for.
  const iam = rootIam(world);
  await iam.send(new CreateUserCommand({ UserName: "auditor" }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: "auditor",
      PolicyName: "read-only",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["iam:GetAccountAuthorizationDetails", "iam:GetRole"], Resource: "*" }],
      }),
    }),
  );
  const keys = await iam.send(new CreateAccessKeyCommand({ UserName: "auditor" }));
  readOnlyKeys = {
    accessKeyId: keys.AccessKey?.AccessKeyId as string,
    secretAccessKey: keys.AccessKey?.SecretAccessKey as string,
  };

  world.aws.clock.set(at("2026-11-30T08:10:00Z"));
  sessions.aliceEc2 = await takeSession(world, "alice.smith");
  sessions.aliceS3 = await takeSession(world, "alice.smith", S3_ROLE_ARN);
  sessions.dave = await takeSession(world, "dave");
}, 90_000);

afterAll(async () => {
  await world?.close();
});

/** `elevate status` in-process, with the read-only keys in the environment (the SDK's default chain). */
async function status(): Promise<{ code: number; stdout: string; stderr: string }> {
  const saved = { ...process.env };
  Object.assign(process.env, world.aws.env, world.aws.credentialsEnv(readOnlyKeys));
  delete process.env.AWS_PROFILE;
  let stdout = "";
  let stderr = "";
  try {
    const code = await main({
      argv: ["status"],
      cwd: world.scenario.checkoutWorkspace({ sha: world.scenario.mainSha(), ref: "refs/heads/main" }),
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
      now: () => world.now(),
    });
    return { code, stdout, stderr };
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

/**
 * The action's clock starts at the world's (ELEVATE_NOW) and runs on in real time, so an
 * early revocation's cut-off (plan time + 60 s, whole seconds) lands a few seconds after
 * `earliest`, never before it.
 */
function expectMarginCutoff(roleName: string, iamUser: string, earliest: string): void {
  const written = cutoffTime(world, roleName, iamUser);
  expect(written).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  const lateBy = Date.parse(written as string) - Date.parse(earliest);
  expect(lateBy).toBeGreaterThanOrEqual(0);
  expect(lateBy).toBeLessThan(15_000);
}

/** Nobody else's access moved: dave's session and grant. */
async function othersUntouched(): Promise<void> {
  expect(await sessionWorks(world, sessions.dave as Credentials)).toBe(true);
  expect((await world.tryAssume("dave")).ok).toBe(true);
}

describe("revoke mode through the bundle: early revocation and overlapping grants", () => {
  it("elevate status lists the live grants with their remaining time, exit 0 without drift", async () => {
    const { code, stdout, stderr } = await status();
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const row = stdout.split("\n").find((l) => l.startsWith("alice-s3 "));
    expect(row).toMatch(
      new RegExp(
        `alice-s3\\s+alice\\.smith\\s+${S3_ROLE_ARN}\\s+2026-11-30T08:00:00Z\\s+2026-11-30T10:00:00Z\\s+active\\s+1h 50m\\s+requests/s3-admin/alice-s3\\.yaml`,
      ),
    );
    for (const id of ["alice-a", "alice-b", "dave-x", "dave-y"]) expect(stdout).toContain(`\n${id} `);
  });

  it("dispatch revokes alice-a early; alice-b still covers the role, so no cut-off", async () => {
    world.aws.clock.set(at("2026-11-30T08:15:00Z"));
    const run = await revoke(world, dispatchRun(world, "alice-a"), { request: "alice-a" });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(jsonOutput(run, "revoked")).toEqual(["alice-a"]);
    const [execution] = executionsOf(world, "Elevate-Revoke", "alice-a");
    expect(execution?.parameters.CutOff).toEqual(["false"]);
    expect(world.grantPolicies("alice.smith").sort()).toEqual(["elevate-alice-b", "elevate-alice-s3"]);
    expect(cutoffsOn(world, EXAMPLE_ROLE)).toEqual([]);
    expect(await sessionWorks(world, sessions.aliceEc2 as Credentials)).toBe(true);
    expect((await world.tryAssume("alice.smith")).ok).toBe(true);
    expect(run.summary).toContain("early: revoked early on request (manual run by \\@\u200bcarol)");
    expect(run.summary).toContain("another active grant of alice.smith covers the same role (alice-b)");
    await othersUntouched();
  });

  it("dispatch revokes alice-b: cut-off on the EC2 role only; her S3 grant and session live on", async () => {
    world.aws.clock.set(at("2026-11-30T08:20:00Z"));
    const run = await revoke(world, dispatchRun(world, "alice-b"), { request: "alice-b" });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(jsonOutput(run, "revoked")).toEqual(["alice-b"]);
    expect(cutoffsOn(world, EXAMPLE_ROLE)).toEqual(["elevate-cutoff-alice.smith"]);
    // Sessions issued up to a minute after the plan are cut off (runbook start, IAM propagation).
    expectMarginCutoff(EXAMPLE_ROLE, "alice.smith", "2026-11-30T08:21:00Z");
    expect(await sessionWorks(world, sessions.aliceEc2 as Credentials)).toMatch(/AccessDenied/);
    expect((await world.tryAssume("alice.smith")).ok).toBe(false);

    expect(cutoffsOn(world, S3_ROLE)).toEqual([]);
    expect(await sessionWorks(world, sessions.aliceS3 as Credentials)).toBe(true);
    expect((await world.tryAssume("alice.smith", S3_ROLE_ARN)).ok).toBe(true);
    await othersUntouched();
  });

  it("a merged PR that deletes a request file revokes it and cuts off its sessions on the second role", async () => {
    world.aws.clock.set(at("2026-11-30T08:30:00Z"));
    const pr = world.scenario.openRequestPr({
      author: "alice",
      title: "Done with the bucket policy",
      files: { "requests/s3-admin/alice-s3.yaml": null },
    });
    const merged = pr.merge("merge");
    const run = await revoke(world, merged.pushEvent);
    expect(run.exitCode, run.stdout).toBe(0);
    expect(jsonOutput(run, "revoked")).toEqual(["alice-s3"]);
    expect(run.summary).toContain(
      `its request file requests/s3-admin/alice-s3.yaml was deleted by PR \\#\u200b${pr.number}`,
    );
    expect(world.grantPolicies("alice.smith")).toEqual([]);
    expectMarginCutoff(S3_ROLE, "alice.smith", "2026-11-30T08:31:00Z");
    expect(await sessionWorks(world, sessions.aliceS3 as Credentials)).toMatch(/AccessDenied/);
    expect((await world.tryAssume("alice.smith", S3_ROLE_ARN)).ok).toBe(false);
    await othersUntouched();
  });

  it("a direct push that deletes a request file revokes it too; dave-x still covers the role, so no cut-off", async () => {
    world.aws.clock.set(at("2026-11-30T08:40:00Z"));
    const push = world.scenario.pushDirect({ "requests/ec2-admin/dave-y.yaml": null }, { author: "carol" });
    const run = await revoke(world, push);
    expect(run.exitCode, run.stdout).toBe(0);
    expect(jsonOutput(run, "revoked")).toEqual(["dave-y"]);
    expect(run.summary).toContain("deleted by a direct push");
    expect(world.grantPolicies("dave")).toEqual(["elevate-dave-x"]);
    expect(cutoffsOn(world, EXAMPLE_ROLE)).toEqual(["elevate-cutoff-alice.smith"]);
    await othersUntouched();
  });

  it("drift: a hand-made elevate-* policy is reported (status exit 1, drift=report), then revoked (already gone = done)", async () => {
    world.aws.clock.set(at("2026-11-30T08:50:00Z"));
    await rootIam(world).send(
      new PutUserPolicyCommand({
        UserName: "dave",
        PolicyName: "elevate-handmade",
        PolicyDocument: grantPolicyText({
          requestId: "handmade",
          iamUser: "dave",
          roleArn: world.roleArn,
          notBefore: at("2026-11-30T08:00:00Z"),
          notAfter: at("2026-11-30T12:00:00Z"),
        }),
      }),
    );
    const found = await status();
    expect(found.code).toBe(1);
    expect(found.stdout).toContain("handmade (drift)");
    expect(found.stdout).toMatch(/unknown-request: .*handmade/);

    const reported = await revoke(world, scheduledRun(world), { drift: "report" });
    expect(reported.exitCode).toBe(1); // a person must look: the run fails
    expect(jsonOutput(reported, "drift")).toEqual(["handmade"]);
    expect(jsonOutput(reported, "revoked")).toEqual([]);
    expect(reported.annotations.some((a) => a.level === "error" && /handmade/.test(a.message))).toBe(true);
    expect(world.grantPolicies("dave").sort()).toEqual(["elevate-dave-x", "elevate-handmade"]);

    // drift = revoke. Someone also deletes the policy by hand between the run's inventory
    // and its runbook: already gone is done (the runbook lists before it deletes).
    const listedBefore = world.aws.calls("GetAccountAuthorizationDetails").length;
    world.aws.knobs.latencyMs = 150;
    const running = revoke(world, scheduledRun(world));
    while (
      !world.aws
        .calls("GetAccountAuthorizationDetails")
        .slice(listedBefore)
        .some((c) => c.outcome === "ok")
    ) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    world.aws.state.iam.deleteUserPolicy(world.aws.defaultAccountId, "dave", "elevate-handmade");
    const revoked = await running;
    world.aws.knobs.latencyMs = 0;
    expect(revoked.exitCode, revoked.stdout).toBe(0);
    expect(jsonOutput(revoked, "revoked")).toEqual(["handmade"]);
    expect(jsonOutput(revoked, "drift")).toEqual(["handmade"]);
    const [execution] = executionsOf(world, "Elevate-Revoke", "handmade");
    expect(execution?.status).toBe("Success");
    expect(execution?.steps.map((step) => step.StepName)).not.toContain("deleteGrantPolicy");
    expect(world.grantPolicies("dave")).toEqual(["elevate-dave-x"]);
    // dave-x still covers the role: no cut-off for dave, his session and grant work.
    expect(cutoffsOn(world, EXAMPLE_ROLE)).toEqual(["elevate-cutoff-alice.smith"]);
    await othersUntouched();
    expect((await status()).code).toBe(0);
  });
  it("drift: a real grant whose window was widened by hand is revoked, with a cut-off", async () => {
    world.aws.clock.set(at("2026-11-30T09:00:00Z"));
    // Same name and user as the granted dave-x (08:00–10:00), but until midnight.
    await rootIam(world).send(
      new PutUserPolicyCommand({
        UserName: "dave",
        PolicyName: "elevate-dave-x",
        PolicyDocument: grantPolicyText({
          requestId: "dave-x",
          iamUser: "dave",
          roleArn: world.roleArn,
          notBefore: at("2026-11-30T08:00:00Z"),
          notAfter: at("2026-11-30T23:59:59Z"),
        }),
      }),
    );
    const run = await revoke(world, scheduledRun(world));
    expect(run.exitCode, run.stdout).toBe(0);
    expect(jsonOutput(run, "revoked")).toEqual(["dave-x"]);
    expect(jsonOutput(run, "drift")).toEqual(["dave-x"]);
    expect(run.summary).toContain("| window-mismatch | elevate-dave-x | dave | revoke |");
    expect(world.grantPolicies("dave")).toEqual([]);
    expectMarginCutoff(EXAMPLE_ROLE, "dave", "2026-11-30T09:01:00Z");
    expect(await sessionWorks(world, sessions.dave as Credentials)).toMatch(/AccessDenied/);
    expect((await world.tryAssume("dave")).ok).toBe(false);
  });
});
