/**
 * What each mode of the action bundle loads, measured on real runs in the
 * sandbox: the bundle is built (scripts/build.mjs, the same options and bytes
 * as action/dist, plus esbuild's metafile) into a temp directory, each run is
 * preloaded with a module-load recorder (test/support/record-module-loads.mjs),
 * and the chunk files it loaded are mapped back to the source files inside
 * them through the metafile.
 *
 * - check mode, which runs on every pull request push, loads no AWS SDK code
 *   (no @aws-sdk/* or @smithy/* module) and no undici;
 * - grant loads the SSM and STS clients it uses (the positive control: the
 *   recorder does see SDK chunks) but not the SDK's default credential provider
 *   chain (every client gets explicit credentials from the OIDC role session),
 *   and not undici (GitHub API calls go through @actions/http-client, proxies
 *   included, so the bundle holds no undici at all).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ElevateWorld, requestYaml } from "../../sandbox/world.js";
import { E2E_TIMEOUT_MS, requestFile, startWorld } from "./grant-support.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const RECORDER = fileURLToPath(new URL("../support/record-module-loads.mjs", import.meta.url));

interface Metafile {
  outputs: Record<string, { bytes: number; inputs: Record<string, unknown> }>;
}

let dir: string;
let world: ElevateWorld;
let inputsOfChunk: Map<string, string[]>;
let meta: Metafile;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "elevate-chunks-"));
  execFileSync(process.execPath, [join(ROOT, "scripts/build.mjs"), "--out", join(dir, "dist"), "--metafile"], {
    cwd: ROOT,
    stdio: "ignore",
  });
  meta = JSON.parse(readFileSync(join(dir, "dist", "meta-action.json"), "utf8")) as Metafile;
  inputsOfChunk = new Map(Object.entries(meta.outputs).map(([out, o]) => [basename(out), Object.keys(o.inputs)]));
  world = await startWorld({ bundlePath: join(dir, "dist", "index.js") });
}, E2E_TIMEOUT_MS);

afterAll(async () => {
  await world?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The source files (node_modules paths included) inside every chunk the run loaded. */
function loadedInputs(log: string): { chunks: string[]; inputs: string[] } {
  const chunks = readFileSync(log, "utf8")
    .split("\n")
    .filter((url) => url.startsWith("file:") && url.includes(join(dir, "dist")))
    .map((url) => basename(fileURLToPath(url)));
  const inputs = chunks.flatMap((chunk) => {
    const found = inputsOfChunk.get(chunk);
    if (!found) throw new Error(`loaded ${chunk}, which the metafile does not list`);
    return found;
  });
  return { chunks, inputs };
}

function recorded(name: string): { env: Record<string, string>; log: string } {
  const log = join(dir, `${name}.log`);
  writeFileSync(log, "");
  return { env: { NODE_OPTIONS: `--import ${RECORDER}`, ELEVATE_MODULE_LOG: log }, log };
}

const AWS_SDK = /node_modules\/(@aws-sdk|@smithy)\//;
const CREDENTIAL_CHAIN = /node_modules\/@aws-sdk\/(credential-provider-[a-z-]+|token-providers|nested-clients)\//;
const UNDICI = /node_modules\/undici\//;

describe("modules each mode loads", { timeout: E2E_TIMEOUT_MS }, () => {
  it("the action bundle is under 1.5 MB and holds no default credential chain and no undici", () => {
    const outputs = Object.entries(meta.outputs);
    const bytes = outputs.reduce((sum, [, o]) => sum + o.bytes, 0);
    expect(bytes).toBeLessThan(1_500_000);
    const all = outputs.flatMap(([, o]) => Object.keys(o.inputs));
    expect(all.filter((i) => CREDENTIAL_CHAIN.test(i))).toEqual([]);
    expect(all.filter((i) => UNDICI.test(i))).toEqual([]);
  });

  it("check mode loads no AWS SDK code and no undici", async () => {
    const pr = world.scenario.openRequestPr({
      author: "alice",
      files: { [requestFile("chunks-check-1")]: requestYaml({ requester: "alice", duration: "1h" }) },
    });
    const { env, log } = recorded("check");
    const run = await world.runAction("check", pr.pullRequestEvent("opened"), { env });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    const { chunks, inputs } = loadedInputs(log);
    expect(chunks).toContain("index.js");
    expect(chunks.some((c) => c.startsWith("check-"))).toBe(true);
    expect(inputs.some((i) => i.startsWith("src/modes/check.ts"))).toBe(true);
    expect(inputs.filter((i) => AWS_SDK.test(i))).toEqual([]);
    expect(inputs.filter((i) => UNDICI.test(i))).toEqual([]);
  });

  it("grant loads the SSM and STS clients, but not the default credential chain or undici", async () => {
    const id = "chunks-grant-1";
    const pr = world.scenario.openRequestPr({
      author: "alice",
      files: { [requestFile(id)]: requestYaml({ requester: "alice", duration: "1h" }) },
    });
    pr.approve("bob");
    const merged = pr.merge("merge");
    const { env, log } = recorded("grant");
    const run = await world.runAction("grant", merged.pushEvent, { env });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    const { inputs } = loadedInputs(log);
    expect(inputs.some((i) => i.includes("node_modules/@aws-sdk/client-ssm/"))).toBe(true);
    expect(inputs.some((i) => i.includes("node_modules/@aws-sdk/client-sts/"))).toBe(true);
    expect(inputs.filter((i) => CREDENTIAL_CHAIN.test(i))).toEqual([]);
    expect(inputs.filter((i) => UNDICI.test(i))).toEqual([]);
  });
});
