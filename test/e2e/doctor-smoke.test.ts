/**
 * `elevate doctor --smoke` against the sandbox AWS with infra/template.yaml deployed
 * with CreateSmokeTestCanary=true (issue 13 §3): one real grant → assume → revoke
 * round trip on the canary, through the deployed runbooks, with the operator's
 * credentials; a broken setup fails with a clear finding; either way nothing is left
 * behind (no grant policy, no access key, no expiry schedule), the revoke failing included.
 */
import {
  IAMClient,
  ListAccessKeysCommand,
  ListUserPoliciesCommand,
  TagUserCommand,
  UntagUserCommand,
} from "@aws-sdk/client-iam";
import { ListSchedulesCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_CODEOWNERS, ElevateWorld } from "../../sandbox/world.js";
import { SCAFFOLD_WORKFLOWS } from "../../src/domain/scaffold-workflows.js";
import { makeRepo, type Repo, runCli } from "../unit/cli-helpers.js";

const REPOSITORY = "acme/aws-access";
let world: ElevateWorld;
let repo: Repo;
let iam: IAMClient;
let scheduler: SchedulerClient;
let canary: string;

function describeStacks(outputs: Record<string, string | undefined> = {}) {
  const merged = { ...world.outputs, ...outputs };
  return JSON.stringify({
    Stacks: [
      {
        StackName: "elevate",
        Outputs: Object.entries(merged)
          .filter((entry): entry is [string, string] => entry[1] !== undefined)
          .map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
}

beforeAll(async () => {
  world = await ElevateWorld.start({
    repository: REPOSITORY,
    clockMode: "following",
    stackParameters: { CreateSmokeTestCanary: "true" },
  });
  const client = { region: world.aws.region, endpoint: world.aws.endpoint, credentials: world.aws.rootCredentials };
  iam = new IAMClient(client);
  scheduler = new SchedulerClient(client);
  canary = world.outputs.SmokeTestUserName as string;
  repo = makeRepo({ config: world.configText });
  // A complete access repository, so the offline checks find nothing and the exit status is the smoke test's.
  repo.write(".github/CODEOWNERS", DEFAULT_CODEOWNERS);
  for (const [name, render] of Object.entries(SCAFFOLD_WORKFLOWS)) {
    repo.write(`.github/workflows/${name}`, render("acme/elevate@0123456789abcdef0123456789abcdef01234567"));
  }
}, 60_000);
afterAll(async () => {
  repo.remove();
  iam.destroy();
  scheduler.destroy();
  await world.close();
});
beforeEach(() => {
  for (const [key, value] of Object.entries(world.aws.env)) vi.stubEnv(key, value);
  vi.stubEnv("AWS_ACCESS_KEY_ID", world.aws.rootCredentials.accessKeyId);
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", world.aws.rootCredentials.secretAccessKey);
  vi.stubEnv("AWS_SESSION_TOKEN", world.aws.rootCredentials.sessionToken ?? "");
  vi.stubEnv("AWS_PROFILE", "");
  repo.write("stack.json", describeStacks());
  return () => vi.unstubAllEnvs();
});

async function smoke(extra: string[] = ["--stack-outputs", "stack.json"]) {
  const run = await runCli(["doctor", "--smoke", "--repo", REPOSITORY, ...extra], repo.root);
  const smokeErrors = run.stdout.split("\n").filter((line) => line.includes("error: smoke test:"));
  return { ...run, smokeErrors };
}

/** Nothing the round trip creates is left: grant policies, access keys, expiry schedules. */
async function expectNothingLeft() {
  const { PolicyNames } = await iam.send(new ListUserPoliciesCommand({ UserName: canary }));
  expect(PolicyNames ?? []).toEqual([]);
  const { AccessKeyMetadata } = await iam.send(new ListAccessKeysCommand({ UserName: canary }));
  expect(AccessKeyMetadata ?? []).toEqual([]);
  const { Schedules } = await scheduler.send(new ListSchedulesCommand({ GroupName: "elevate" }));
  expect((Schedules ?? []).filter((s) => s.Name?.startsWith("smoke-test-"))).toEqual([]);
}

describe("the template's smoke-test canary", () => {
  it("creates an eligible canary user and a canary role in the 15m ceiling", async () => {
    expect(canary).toBe("elevate-smoke-test");
    expect(world.outputs.SmokeTestRoleArn).toBe("arn:aws:iam::123456789012:role/elevated/elevate-smoke-test-canary");
  });
});

describe("elevate doctor --smoke", () => {
  it("runs a clean grant → assume → revoke round trip, exits 0 and leaves nothing behind", async () => {
    const run = await smoke();
    expect(run.stdout).not.toContain("error:");
    const passes = run.stderr.split("\n").filter((line) => line.startsWith("elevate doctor --smoke: pass: "));
    expect(passes).toEqual([
      expect.stringMatching(/pass: operator credentials: arn:aws:/),
      expect.stringMatching(
        /pass: grant arn:aws:iam::123456789012:role\/elevated\/elevate-smoke-test-canary to elevate-smoke-test for 15m \(Elevate-Grant\): execution .*, policy elevate-smoke-test-\d{14}, (\S+) – (\S+)$/,
      ),
      expect.stringMatching(/pass: temporary access key for elevate-smoke-test: \S+$/),
      expect.stringMatching(
        /pass: assume .* as elevate-smoke-test, session name elevate-smoke-test: GetCallerIdentity: arn:aws:sts::123456789012:assumed-role\/elevate-smoke-test-canary\/elevate-smoke-test$/,
      ),
      expect.stringMatching(/pass: revoke the grant \(Elevate-Revoke\): execution /),
      expect.stringMatching(/pass: assume .* again after the revoke \(must be denied\): denied \(AccessDenied/),
      expect.stringMatching(/pass: clean up: delete access key \S+: deleted$/),
      expect.stringMatching(/pass: clean up: grant policy elevate-smoke-test-\d{14}: absent$/),
      expect.stringMatching(/pass: clean up: expiry schedule elevate\/smoke-test-\d{14}: absent$/),
    ]);
    const window = /, (\S+) – (\S+)$/.exec(passes[1] ?? "");
    expect(Date.parse(window?.[2] ?? "") - Date.parse(window?.[1] ?? "")).toBe(15 * 60 * 1000);
    expect(run.code).toBe(0);
    await expectNothingLeft();
  });

  it("fails with a clear finding when the canary user is not marked eligible, and still cleans up", async () => {
    await iam.send(new UntagUserCommand({ UserName: canary, TagKeys: ["elevate:eligible"] }));
    try {
      const run = await smoke();
      expect(run.code).toBe(1);
      expect(run.smokeErrors).toEqual([
        expect.stringMatching(
          /^\.github\/elevate\.yml:1:1: error: smoke test: grant .* to elevate-smoke-test for 15m \(Elevate-Grant\) failed: execution \S+ ended Failed: .*AccessDenied/,
        ),
      ]);
      expect(run.stderr).toMatch(/skipped: assume .* as elevate-smoke-test: the grant failed/);
      expect(run.stderr).toMatch(/pass: revoke the grant/);
      expect(run.stderr).toMatch(/pass: clean up: expiry schedule elevate\/smoke-test-\d{14}: absent/);
      await expectNothingLeft();
    } finally {
      await iam.send(new TagUserCommand({ UserName: canary, Tags: [{ Key: "elevate:eligible", Value: "true" }] }));
    }
  });

  it("fails with a clear finding when the role is not in the stack's ceiling, and still cleans up", async () => {
    repo.write("stack.json", describeStacks({ SmokeTestRoleArn: "arn:aws:iam::123456789012:role/elevated/Missing" }));
    const run = await smoke();
    expect(run.code).toBe(1);
    expect(run.smokeErrors).toEqual([
      expect.stringMatching(
        /error: smoke test: grant arn:aws:iam::123456789012:role\/elevated\/Missing .* failed: .*not in the stack's GrantableRoles/,
      ),
    ]);
    await expectNothingLeft();
  });

  it("when the revoke cannot run, deletes the grant policy, schedule and access key itself", async () => {
    repo.write(
      ".github/elevate.yml",
      world.configText.replace(/revokeDocument: \S+/, "revokeDocument: Elevate-Missing"),
    );
    try {
      const run = await smoke();
      expect(run.code).toBe(1);
      expect(run.smokeErrors).toEqual([
        expect.stringMatching(
          /error: smoke test: revoke the grant \(Elevate-Missing\) failed: AutomationDefinitionNotFoundException: /,
        ),
      ]);
      expect(run.stderr).toMatch(/pass: assume .* as elevate-smoke-test, session name elevate-smoke-test: /);
      expect(run.stderr).toMatch(/pass: clean up: delete access key \S+: deleted/);
      expect(run.stderr).toMatch(/pass: clean up: grant policy elevate-smoke-test-\d{14}: was still there; deleted/);
      expect(run.stderr).toMatch(
        /pass: clean up: expiry schedule elevate\/smoke-test-\d{14}: was still there; deleted/,
      );
      await expectNothingLeft();
    } finally {
      repo.write(".github/elevate.yml", world.configText);
    }
  });

  it("reports a stack without the canary, and needs the stack's outputs", async () => {
    repo.write("stack.json", describeStacks({ SmokeTestRoleArn: undefined, SmokeTestUserName: undefined }));
    const run = await smoke();
    expect(run.code).toBe(1);
    expect(run.smokeErrors).toEqual([
      expect.stringContaining(
        "smoke test: the stack has no smoke-test canary (outputs SmokeTestUserName and SmokeTestRoleArn); update it with CreateSmokeTestCanary=true",
      ),
    ]);
    const usage = await smoke([]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--smoke needs --stack-outputs");
  });
});
