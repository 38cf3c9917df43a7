/**
 * `elevate doctor --aws` for Identity Center users, against the sandbox's identity store
 * with infra/template.yaml deployed with an instance: each `identityCenterUser` must be
 * in the identity store (GetUserId, as the runbook's resolveUser) and, with the stack's
 * IdentityCenterEligibleGroupId, a member of that group (IsMemberInGroups, as its
 * checkEligible) — the counterpart of the IAM users' path and tag. And whose credentials
 * doctor --aws runs with: another account's is said first, not hidden behind the errors
 * of every other check.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ElevateWorld, grantableRolesFor, type IdentityCenterWorld } from "../../sandbox/world.js";
import { makeRepo, type Repo, runCli } from "../unit/cli-helpers.js";

const REPOSITORY = "acme/aws-access";
const MEMBER_ACCOUNT = "210987654321";
let world: ElevateWorld;
let ic: IdentityCenterWorld;
let repo: Repo;

function describeStacks(parameters: Record<string, string>) {
  return JSON.stringify({
    Stacks: [
      {
        StackName: "elevate",
        Parameters: Object.entries(parameters).map(([ParameterKey, ParameterValue]) => ({
          ParameterKey,
          ParameterValue,
        })),
        Outputs: Object.entries(world.outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
}

function stackParameters(): Record<string, string> {
  return {
    GrantableRoles: grantableRolesFor(world.configText),
    EligibleUserPath: "/elevate/",
    IdentityCenterInstanceArn: ic.instanceArn,
    IdentityStoreId: ic.identityStoreId,
    IdentityCenterEligibleGroupId: ic.eligibleGroupId,
    GrantablePermissionSets: `${ic.permissionSet.arn}@${ic.accountId}=2h`,
  };
}

beforeAll(async () => {
  world = await ElevateWorld.start({
    repository: REPOSITORY,
    identityCenter: true,
    accountIds: ["123456789012", MEMBER_ACCOUNT],
  });
  if (!world.identityCenter) throw new Error("world without Identity Center");
  ic = world.identityCenter;
  repo = makeRepo({ config: world.configText });
}, 60_000);
afterAll(async () => {
  repo.remove();
  await world.close();
});
beforeEach(() => {
  for (const [key, value] of Object.entries(world.aws.env)) vi.stubEnv(key, value);
  vi.stubEnv("AWS_ACCESS_KEY_ID", world.aws.rootCredentials.accessKeyId);
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", world.aws.rootCredentials.secretAccessKey);
  vi.stubEnv("AWS_SESSION_TOKEN", world.aws.rootCredentials.sessionToken ?? "");
  vi.stubEnv("AWS_PROFILE", "");
  writeFileSync(join(repo.root, ".github/elevate.yml"), world.configText);
  repo.write("stack.json", describeStacks(stackParameters()));
  return () => vi.unstubAllEnvs();
});

async function doctor(extra: string[] = ["--stack-outputs", "stack.json"]) {
  const run = await runCli(["doctor", "--aws", "--repo", REPOSITORY, ...extra], repo.root);
  const lines = run.stdout.split("\n").filter((line) => line.startsWith(".github/elevate.yml:"));
  return { ...run, lines };
}

describe("elevate doctor --aws: Identity Center users", () => {
  it("finds nothing wrong when every identityCenterUser is in the store and the eligible group", async () => {
    const run = await doctor();
    expect(run.lines).toEqual([]);
    expect(Object.keys(ic.users).length).toBeGreaterThan(0);
  });

  it("reports a user outside the eligible group, with the command that adds them", async () => {
    const [login, userName] = Object.entries(ic.users)[0]!;
    const store = world.aws.state.identityCenter;
    store.removeFromGroup(ic.eligibleGroupId, userName);
    try {
      const userId = store.userByName(userName)?.userId;
      const run = await doctor();
      expect(run.code).toBe(1);
      expect(run.lines).toEqual([
        expect.stringContaining(
          `error: users.${login}: Identity Center user ${userName} is not a member of the stack's IdentityCenterEligibleGroupId ${ic.eligibleGroupId}, so Elevate-GrantPermissionSet refuses every grant to it (aws identitystore create-group-membership --identity-store-id ${ic.identityStoreId} --group-id ${ic.eligibleGroupId} --member-id UserId=${userId})`,
        ),
      ]);
      // Without the stack's parameters the group is unknown: only the store is checked.
      expect((await doctor([])).lines).toEqual([]);
    } finally {
      store.addToGroup(ic.eligibleGroupId, userName);
    }
  });

  it("reports a user name the identity store does not know, with or without the stack", async () => {
    const [login, userName] = Object.entries(ic.users)[0]!;
    writeFileSync(
      join(repo.root, ".github/elevate.yml"),
      world.configText.replace(`identityCenterUser: ${userName}`, "identityCenterUser: nobody@acme.example"),
    );
    for (const extra of [["--stack-outputs", "stack.json"], []]) {
      const run = await doctor(extra);
      expect(run.code).toBe(1);
      expect(run.lines).toEqual([
        expect.stringContaining(
          `error: users.${login}: Identity Center user nobody@acme.example is not in identity store ${ic.identityStoreId}, so every permission-set grant to it fails; use the user's exact UserName (aws identitystore list-users --identity-store-id ${ic.identityStoreId})`,
        ),
      ]);
    }
  });
});

describe("elevate doctor --aws: whose credentials", () => {
  it("credentials of a member account are reported first, naming both accounts", async () => {
    const member = world.aws.rootCredentialsFor(MEMBER_ACCOUNT);
    vi.stubEnv("AWS_ACCESS_KEY_ID", member.accessKeyId);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", member.secretAccessKey);
    vi.stubEnv("AWS_SESSION_TOKEN", member.sessionToken ?? "");
    const run = await doctor();
    expect(run.code).toBe(1);
    expect(run.lines[0]).toMatch(
      new RegExp(
        `^\\.github/elevate\\.yml:\\d+:\\d+: error: these AWS credentials \\(arn:aws:(iam|sts)::${MEMBER_ACCOUNT}:[^)]+\\) are of account ${MEMBER_ACCOUNT}, but aws\\.accountId is 123456789012: the other checks read the wrong account; run doctor --aws with credentials of the hub account 123456789012`,
      ),
    );
  });
});
