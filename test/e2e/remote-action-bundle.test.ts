/**
 * The remote-action layout end to end: an access repository that holds only
 * `.github/` and `requests/` uses `OWNER/elevate/action@REF`. The runner checks
 * a remote action out under `_actions/OWNER/REPO/REF/` in its own work folder,
 * apart from GITHUB_WORKSPACE, and runs `runs.main` of its action.yml from
 * there. Here a copy of the committed `action/` (action.yml and dist/ only, no
 * package.json, no infra/, no src/ beside it) sits in one temp directory, the
 * access repository in another, and check, grant and revoke run through it: the
 * bundle must find everything in the workspace or inside itself.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { type ElevateWorld, requestYaml } from "../../sandbox/world.js";
import { PLAN_COMMENT_MARKER } from "../../src/modes/check.js";
import { E2E_TIMEOUT_MS, errors, outputList, requestFile, WORLD_START } from "./grant-support.js";
import { at, jsonOutput, scheduledRun, sessionWorks, startRevokeWorld, takeSession } from "./revoke-bundle-support.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ACTION_REPOSITORY = "acme/elevate";
const ACTION_REF = "v1";
const ACCESS_REPOSITORY = "acme/access";

let runnerWork: string;
let actionDir: string;
let world: ElevateWorld;

/** The environment a runner gives a step that runs a remote action. */
function remoteActionEnv(): Record<string, string> {
  return {
    GITHUB_ACTION_REPOSITORY: ACTION_REPOSITORY,
    GITHUB_ACTION_REF: ACTION_REF,
    GITHUB_ACTION_PATH: actionDir,
  };
}

/** The shipped workflows as an access repository holds them: `uses:` names the remote action. */
function accessWorkflows(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of ["elevate-check.yml", "elevate-grant.yml", "elevate-revoke.yml"]) {
    const text = readFileSync(join(ROOT, ".github/workflows", name), "utf8");
    files[`.github/workflows/${name}`] = text.replace(
      /uses: \.\/action\b/g,
      `uses: ${ACTION_REPOSITORY}/action@${ACTION_REF}`,
    );
  }
  return files;
}

beforeAll(async () => {
  runnerWork = mkdtempSync(join(tmpdir(), "elevate-runner-work-"));
  actionDir = join(runnerWork, "_actions", ...ACTION_REPOSITORY.split("/"), ACTION_REF, "action");
  cpSync(join(ROOT, "action/action.yml"), join(actionDir, "action.yml"));
  cpSync(join(ROOT, "action/dist"), join(actionDir, "dist"), { recursive: true });
  const metadata = parseYaml(readFileSync(join(actionDir, "action.yml"), "utf8")) as {
    runs: { using: string; main: string };
  };
  expect(metadata.runs.using).toBe("node24");
  world = await startRevokeWorld({
    start: WORLD_START,
    repository: ACCESS_REPOSITORY,
    bundlePath: join(actionDir, metadata.runs.main),
    extraFiles: accessWorkflows(),
  });
}, E2E_TIMEOUT_MS);

afterAll(async () => {
  await world?.close();
  if (runnerWork) rmSync(runnerWork, { recursive: true, force: true });
});

describe("remote action from an access repository", { timeout: E2E_TIMEOUT_MS }, () => {
  it("the access repository holds only .github/ and requests/, and its workflows use the remote action", () => {
    const workspace = world.scenario.checkoutWorkspace({ sha: world.scenario.mainSha(), ref: "refs/heads/main" });
    expect(
      readdirSync(workspace)
        .filter((name) => name !== ".git")
        .sort(),
    ).toEqual([".github", "requests"]);
    expect(readFileSync(join(workspace, ".github/workflows/elevate-grant.yml"), "utf8")).toContain(
      `uses: ${ACTION_REPOSITORY}/action@${ACTION_REF}`,
    );
    expect(world.bundlePath.startsWith(runnerWork)).toBe(true);
    expect(readdirSync(join(actionDir, ".."))).toEqual(["action"]);
  });

  it("check, grant, then revoke at expiry, all through the copy of the bundle", async () => {
    const id = "remote-action-1";
    const pr = world.scenario.openRequestPr({
      author: "alice",
      files: { [requestFile(id)]: requestYaml({ requester: "alice", duration: "1h" }) },
    });

    const check = await world.runAction("check", pr.pullRequestEvent("opened"), { env: remoteActionEnv() });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(errors(check)).toEqual([]);
    expect(outputList(check, "request-ids")).toEqual([id]);
    const [comment] = world.github.comments(world.repository, pr.number);
    expect(comment?.body.startsWith(PLAN_COMMENT_MARKER)).toBe(true);
    expect(comment?.body).toContain(`| \`${id}\` | @alice | \`alice.smith\` | \`${world.roleArn}\` |`);

    pr.approve("bob");
    const merged = pr.merge("merge");
    const grant = await world.runAction("grant", merged.pushEvent, { env: remoteActionEnv() });
    expect(grant.exitCode, grant.stdout + grant.stderr).toBe(0);
    expect(outputList(grant, "granted")).toEqual([id]);
    expect(world.grantPolicies("alice.smith")).toEqual([`elevate-${id}`]);
    world.aws.clock.set(at("2026-11-30T08:20:00Z"));
    const session = await takeSession(world, "alice.smith");
    expect(await sessionWorks(world, session)).toBe(true);
    expect((await world.tryAssume("bob")).ok).toBe(false);

    world.aws.clock.set(at("2026-11-30T09:10:00Z"));
    const expired = await world.runAction("revoke", scheduledRun(world), { env: remoteActionEnv() });
    expect(expired.exitCode, expired.stdout + expired.stderr).toBe(0);
    expect(jsonOutput(expired, "revoked")).toEqual([id]);
    expect(world.grantPolicies("alice.smith")).toEqual([]);
    expect(await sessionWorks(world, session)).toMatch(/AccessDenied/);
  });

  it("early revoke: a merged PR that deletes the request file", async () => {
    const id = "remote-action-2";
    world.aws.clock.set(at("2026-11-30T09:20:00Z"));
    const pr = world.scenario.openRequestPr({
      author: "alice",
      files: { [requestFile(id)]: requestYaml({ requester: "alice", duration: "2h" }) },
    });
    pr.approve("carol");
    const grant = await world.runAction("grant", pr.merge("merge").pushEvent, { env: remoteActionEnv() });
    expect(grant.exitCode, grant.stdout + grant.stderr).toBe(0);
    expect(world.grantPolicies("alice.smith")).toEqual([`elevate-${id}`]);

    const withdraw = world.scenario.openRequestPr({ author: "alice", files: { [requestFile(id)]: null } });
    withdraw.approve("bob");
    const deletion = withdraw.merge("merge").pushEvent;
    const run = await world.runAction("revoke", deletion, { env: remoteActionEnv() });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(jsonOutput(run, "revoked")).toEqual([id]);
    expect(world.grantPolicies("alice.smith")).toEqual([]);
  });
});
