/**
 * `elevate status` through the committed CLI bundle, as a requester runs it:
 * --profile and --region, a plain message for an unknown profile and for no
 * network, a JSON error object with --format json, and no AWS SDK Node-version
 * warning (while the user's own setting of the SDK's switch is respected, so
 * nothing but that one warning is silenced). No AWS: IAM is pointed at a closed
 * local port, which is what "no network" looks like to the SDK.
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRepo, type Repo } from "../unit/cli-helpers.js";

const BUNDLE = fileURLToPath(new URL("../../action/dist/cli/index.js", import.meta.url));
const CLOSED_PORT = "http://127.0.0.1:9";

let repo: Repo;
beforeAll(() => {
  repo = makeRepo();
  mkdirSync(`${repo.root}/home/.aws`, { recursive: true });
  writeFileSync(
    `${repo.root}/home/.aws/config`,
    "[default]\nregion = us-east-1\n\n[profile readonly]\nregion = eu-west-1\n\n[sso-session corp]\nsso_region = eu-west-1\n",
  );
  writeFileSync(
    `${repo.root}/home/.aws/credentials`,
    "[readonly]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
  );
});
afterAll(() => repo.remove());

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The bundle in a clean environment: a private HOME, no AWS variables but the IAM endpoint. */
function status(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BUNDLE, "status", ...args],
      {
        cwd: repo.root,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: `${repo.root}/home`,
          AWS_ENDPOINT_URL_IAM: CLOSED_PORT,
          AWS_EC2_METADATA_DISABLED: "true",
          ...env,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = (error as { code?: number } | null)?.code ?? 0;
        resolve({ code: typeof code === "number" ? code : -1, stdout, stderr });
      },
    );
  });
}

describe("elevate status (bundle)", { timeout: 60_000 }, () => {
  it("no network: says it cannot reach IAM, without a stack trace or SDK warning", async () => {
    const run = await status(["--profile", "readonly"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      `elevate status: cannot reach IAM at ${CLOSED_PORT} (ECONNREFUSED): check your network connection, VPN or proxy (HTTPS_PROXY), then run it again\n`,
    );
  });

  it("--format json prints a JSON error object on stdout", async () => {
    const run = await status(["--profile", "readonly", "--format", "json"]);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({
      error: {
        kind: "network",
        message: `cannot reach IAM at ${CLOSED_PORT} (ECONNREFUSED): check your network connection, VPN or proxy (HTTPS_PROXY), then run it again`,
      },
    });
  });

  it("an unknown profile: named plainly, with the closest one and the list, before any network call", async () => {
    const run = await status(["--profile", "readnoly", "--format", "json"]);
    expect(run.code).toBe(2);
    const message = `--profile readnoly: no such profile in ${repo.root}/home/.aws/config or ${repo.root}/home/.aws/credentials; did you mean --profile readonly? (profiles: default, readonly)`;
    expect(JSON.parse(run.stdout)).toEqual({ error: { kind: "profile", message } });
    expect(run.stderr).toBe(`elevate status: ${message}\n`);
  });

  it("no credentials at all: says what status needs", async () => {
    const run = await status(["--format", "json"], { HOME: `${repo.root}/nowhere` });
    expect(run.code).toBe(2);
    const { error } = JSON.parse(run.stdout) as { error: { kind: string; message: string } };
    expect(error.kind).toBe("credentials");
    expect(error.message).toMatch(/status needs read-only AWS credentials for account 123456789012/);
    expect(run.stderr).not.toMatch(/NodeVersionSupportWarning|at .*\.js:\d+/);
  });

  it("--region must be a region name", async () => {
    const run = await status(["--region", "Europe"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--region "Europe" is not an AWS region name \(e\.g\. eu-west-1\)/);
  });

  it("silences only the SDK's Node-version warning: a user who turns it back on sees it", async () => {
    const quiet = await status(["--profile", "readonly"]);
    expect(quiet.stderr).not.toContain("NodeVersionSupportWarning");
    const major = Number(process.versions.node.split(".")[0]);
    const loud = await status(["--profile", "readonly"], { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "false" });
    // The SDK warns on Node < 22 only; on newer Node there is nothing to silence.
    if (major < 22) expect(loud.stderr).toContain("NodeVersionSupportWarning");
    expect(loud.stderr).toContain("cannot reach IAM");
  });
});
