/**
 * `elevate doctor --aws` against the sandbox AWS with infra/template.yaml deployed
 * (issue 13 §3): the stack's outputs and GrantableRoles against the config, each
 * runbook's default version against its latest, the GitHub OIDC provider, the role
 * trusts naming this repository, and every configured IAM user eligible (path and tag).
 * One world; each case breaks one thing and puts it back.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CreateUserCommand, DeleteUserCommand, IAMClient, TagUserCommand, UntagUserCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { syncTemplate } from "../../infra/sync-runbooks.mjs";
import { ElevateWorld, grantableRolesFor, TEMPLATE_PATH } from "../../sandbox/world.js";
import { makeRepo, type Repo, runCli } from "../unit/cli-helpers.js";

const REPOSITORY = "acme/aws-access";
let world: ElevateWorld;
let repo: Repo;
let iam: IAMClient;
let parameters: Record<string, string>;

function describeStacks(overrides: { outputs?: Record<string, string>; parameters?: Record<string, string> } = {}) {
  const outputs = { ...world.outputs, ...overrides.outputs };
  const params = { ...parameters, ...overrides.parameters };
  return JSON.stringify({
    Stacks: [
      {
        StackName: "elevate",
        Parameters: Object.entries(params).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
}

beforeAll(async () => {
  world = await ElevateWorld.start({ repository: REPOSITORY });
  iam = new IAMClient({
    region: world.aws.region,
    endpoint: world.aws.endpoint,
    credentials: world.aws.rootCredentials,
  });
  parameters = { GrantableRoles: grantableRolesFor(world.configText), EligibleUserPath: "/elevate/" };
  repo = makeRepo({ config: world.configText });
}, 60_000);
afterAll(async () => {
  repo.remove();
  iam.destroy();
  await world.close();
});
beforeEach(() => {
  for (const [key, value] of Object.entries(world.aws.env)) vi.stubEnv(key, value);
  vi.stubEnv("AWS_ACCESS_KEY_ID", world.aws.rootCredentials.accessKeyId);
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", world.aws.rootCredentials.secretAccessKey);
  vi.stubEnv("AWS_SESSION_TOKEN", world.aws.rootCredentials.sessionToken ?? "");
  vi.stubEnv("AWS_PROFILE", "");
  writeFileSync(join(repo.root, ".github/elevate.yml"), world.configText);
  repo.write("stack.json", describeStacks());
  return () => vi.unstubAllEnvs();
});

/** The findings about the config (the offline CODEOWNERS and workflow findings of this bare repository aside). */
async function doctor(extra: string[] = ["--stack-outputs", "stack.json"], repository = REPOSITORY) {
  const run = await runCli(["doctor", "--aws", "--repo", repository, ...extra], repo.root);
  const lines = run.stdout.split("\n").filter((line) => line.startsWith(".github/elevate.yml:"));
  return { ...run, lines };
}

describe("elevate doctor --aws", () => {
  it("finds nothing wrong with the deployed stack and its config", async () => {
    const run = await doctor();
    expect(run.lines).toEqual([]);
    expect(run.stderr).toContain("AWS 123456789012");
    expect(run.stderr).toContain("and the stack's outputs");
  });

  it("without the stack's outputs, still checks runbooks, provider, trusts and users", async () => {
    const run = await doctor([]);
    expect(run.lines).toEqual([]);
  });

  it("reports a config that disagrees with the stack's outputs", async () => {
    repo.write(
      "stack.json",
      describeStacks({ outputs: { GrantRoleArn: "arn:aws:iam::123456789012:role/other-grant" } }),
    );
    const run = await doctor();
    expect(run.code).toBe(1);
    expect(run.lines).toEqual([
      expect.stringMatching(
        /^\.github\/elevate\.yml:\d+:\d+: error: aws\.grantRoleArn is arn:aws:iam::123456789012:role\/elevate-grant, but the stack's GrantRoleArn is arn:aws:iam::123456789012:role\/other-grant; set aws\.grantRoleArn to the stack's value$/,
      ),
    ]);
  });

  it("reports roles outside the stack's GrantableRoles, and durations above it", async () => {
    const [arn] = world.roleArn.split("=");
    repo.write(
      "stack.json",
      describeStacks({ parameters: { GrantableRoles: `${arn}=1h,arn:aws:iam::123456789012:role/Unused=1h` } }),
    );
    let run = await doctor();
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/error: roles\.ec2-admin allows 2h, but the stack's GrantableRoles caps it lower/);
    expect(run.stdout).toMatch(
      /warning: the stack's GrantableRoles includes arn:aws:iam::123456789012:role\/Unused, which no role of the config uses/,
    );
    repo.write("stack.json", describeStacks({ parameters: { GrantableRoles: "" } }));
    run = await doctor();
    expect(run.stdout).toMatch(/error: roles\.ec2-admin: the stack's GrantableRoles does not include/);
    // Read as the runbook reads it: an ARN listed twice gets its longest maximum, and a
    // malformed entry makes the runbook refuse every grant.
    repo.write("stack.json", describeStacks({ parameters: { GrantableRoles: `${arn}=4h,${arn}=1h` } }));
    run = await doctor();
    expect(run.stdout).not.toMatch(/caps it lower/);
    repo.write("stack.json", describeStacks({ parameters: { GrantableRoles: `${arn}=4h,not-an-arn` } }));
    run = await doctor();
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /error: the stack parameter GrantableRoles has an entry "not-an-arn" that is not ROLE_ARN=MAX_DURATION; the grant runbook refuses every request/,
    );
  });

  it("reports trusts that name another repository", async () => {
    const run = await doctor(["--stack-outputs", "stack.json"], "acme/other");
    expect(run.code).toBe(1);
    expect(run.lines.filter((l) => l.includes("not this repository acme/other"))).toHaveLength(2);
  });

  it("reports users that are not eligible: untagged, or outside EligibleUserPath", async () => {
    const [login, iamUser] = Object.entries(world.users)[0]!;
    await iam.send(new UntagUserCommand({ UserName: iamUser, TagKeys: ["elevate:eligible"] }));
    await iam.send(new CreateUserCommand({ UserName: "frank", Path: "/" }));
    writeFileSync(
      join(repo.root, ".github/elevate.yml"),
      world.configText.replace("users:\n", "users:\n  frank: frank\n"),
    );
    try {
      const run = await doctor();
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(
        `error: users.${login}: IAM user ${iamUser} is not tagged elevate:eligible=true; grants to it are refused (aws iam tag-user --user-name ${iamUser} --tags Key=elevate:eligible,Value=true)`,
      );
      expect(run.stdout).toContain(
        "error: users.frank: IAM user frank is at path /, not under the stack's EligibleUserPath /elevate/; grants to it are refused (aws iam update-user --user-name frank --new-path /elevate/)",
      );
      writeFileSync(
        join(repo.root, ".github/elevate.yml"),
        world.configText.replace("users:\n", "users:\n  erin: erin\n"),
      );
      expect((await doctor()).stdout).toMatch(/error: users\.erin: IAM user erin cannot be read: NoSuchEntity/);
    } finally {
      await iam.send(new TagUserCommand({ UserName: iamUser, Tags: [{ Key: "elevate:eligible", Value: "true" }] }));
      await iam.send(new DeleteUserCommand({ UserName: "frank" }));
    }
  });

  it("reports a missing GitHub OIDC provider", async () => {
    repo.write(
      "stack.json",
      describeStacks({ outputs: { OidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/example.com" } }),
    );
    const missing = await doctor();
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(
      /error: the GitHub OIDC provider arn:aws:iam::123456789012:oidc-provider\/example\.com cannot be read: NoSuchEntity/,
    );
  });

  it("is a usage error to give --stack-outputs without --aws", async () => {
    const run = await runCli(["doctor", "--stack-outputs", "stack.json"], repo.root);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--stack-outputs is read only with --aws or --smoke");
  });
  // Last: it leaves the stack with a stale default version.
  it("warns when a runbook's default version is not its latest", async () => {
    const template = readFileSync(TEMPLATE_PATH, "utf8");
    const { text } = syncTemplate(template, (path: string) => {
      const runbook = readFileSync(path, "utf8");
      return path.endsWith("elevate-grant.yaml")
        ? runbook.replace(/^description: (.*)$/m, "description: $1 (v2)")
        : runbook;
    });
    await world.updateStack({ templateText: text, promoteDefaultVersion: false });
    const run = await doctor();
    // (The exit status is 1 here: this bare repository has no CODEOWNERS or workflows.)

    expect(run.lines).toEqual([
      expect.stringMatching(
        /warning: SSM document Elevate-Grant: the default version is 1 but the latest is 2; .*update-document-default-version --name Elevate-Grant --document-version 2\)$/,
      ),
    ]);
  });
});
