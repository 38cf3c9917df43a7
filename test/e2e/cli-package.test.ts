/**
 * The npm package requesters install: `npm pack` gives a tarball whose `elevate`
 * bin runs with no dependency installed, because the bin is the self-contained
 * CLI bundle (action/dist/cli/index.js). Installed offline, into an empty
 * project, with an empty npm cache: any runtime dependency would fail the install.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRepo, type Repo } from "../unit/cli-helpers.js";
import { requestText, VALID_EC2 } from "../unit/domain-fixtures.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TIMEOUT_MS = 120_000;
const sourcePackage = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<string, unknown>;

let dir: string;
let tarball: string;
let project: string;
let npmEnv: NodeJS.ProcessEnv;
let packedFiles: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "elevate-pack-"));
  // A fresh cache and --offline: the install can only use the tarball itself.
  npmEnv = { ...process.env, npm_config_cache: join(dir, "npm-cache"), npm_config_update_notifier: "false" };
  const packed = await run("npm", ["pack", "--json", "--pack-destination", dir], { cwd: ROOT, env: npmEnv });
  const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  tarball = join(dir, info.filename);
  packedFiles = info.files.map((f) => f.path).sort();
  project = join(dir, "access-repo-tools");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), `${JSON.stringify({ name: "tools", private: true }, null, 2)}\n`);
  await run("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], { cwd: project, env: npmEnv });
}, TIMEOUT_MS);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("npm pack", () => {
  it("holds only what runs, a README and the license", () => {
    expect(packedFiles).toEqual([
      "LICENSE",
      "README.md",
      "action/dist/cli/index.js",
      "action/dist/cli/package.json",
      "package.json",
    ]);
  });

  it("is publishable and declares no runtime dependency", () => {
    expect(sourcePackage.private).toBeUndefined();
    expect(sourcePackage.dependencies).toBeUndefined();
    expect(sourcePackage.bin).toEqual({ elevate: "action/dist/cli/index.js" });
    const installed = JSON.parse(readFileSync(join(project, "node_modules/elevate/package.json"), "utf8"));
    expect(installed.dependencies).toBeUndefined();
    expect(installed.version).toBe(sourcePackage.version);
  });
});

describe("the installed elevate bin", () => {
  let repo: Repo;
  const bin = () => join(project, "node_modules/.bin/elevate");
  beforeAll(() => {
    repo = makeRepo();
    repo.write("requests/ec2-admin/resize-web-asg.yaml", requestText(VALID_EC2));
    repo.write("requests/ec2-admin/too-long.yaml", requestText({ ...VALID_EC2, duration: "3h" }));
  });
  afterAll(() => repo.remove());

  it("prints its version", async () => {
    const { stdout } = await run(bin(), ["--version"], { cwd: repo.root });
    expect(stdout).toBe(`elevate ${sourcePackage.version}\n`);
  });

  it("validates request files in an access repository", async () => {
    const ok = await run(bin(), ["validate", "requests/ec2-admin/resize-web-asg.yaml"], { cwd: repo.root });
    expect(ok.stdout).toMatch(/^requests\/ec2-admin\/resize-web-asg\.yaml: ok: alice \(IAM user alice\.smith\)/);
    const bad = await run(bin(), ["validate", "requests/ec2-admin/too-long.yaml"], { cwd: repo.root }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(bad?.code).toBe(1);
    expect(bad?.stderr).toMatch(/too-long\.yaml:3:11: error: duration "3h" is longer than the maximum of 2h/);
  });

  it("runs through npx from the tarball, offline", async () => {
    const { stdout } = await run("npx", ["--yes", "--offline", "--package", tarball, "--", "elevate", "--version"], {
      cwd: repo.root,
      env: { ...npmEnv, npm_config_cache: join(dir, "npx-cache") },
    });
    expect(stdout).toBe(`elevate ${sourcePackage.version}\n`);
  });

  it("says plainly that demo needs the source checkout", async () => {
    const demo = await run(bin(), ["demo"], { cwd: repo.root }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(demo?.code).toBe(2);
    expect(demo?.stderr).toMatch(/needs the Elevate source checkout with dev dependencies/);
  });
});
