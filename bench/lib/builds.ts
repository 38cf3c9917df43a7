/**
 * The builds the benchmarks compare, all outside action/dist (which is shared
 * and only `npm run build` writes):
 *   - the committed bundle, exactly as in HEAD (`git show HEAD:action/dist/…`),
 *     and whether it is stale against the source;
 *   - ncc builds of the working tree, with and without --minify, cached under
 *     the temp dir by a hash of src/ and package-lock.json (ncc takes a minute
 *     or more on two cores);
 *   - an esbuild bundle without minification and without tree-shaking;
 *   - an unbundled transpile of src/ that resolves node_modules at run time.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { REPO_ROOT } from "./exec.js";

export const CACHE_DIR = join(tmpdir(), "elevate-bench-cache");

function git(args: string[]): string {
  return execFileSync("git", args, { cwd: REPO_ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
}

function gitBuffer(args: string[]): Buffer {
  return execFileSync("git", args, { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

/** Hash of everything a bundle is built from: src/**, package-lock.json, tsconfig.json. */
export function sourceHash(): string {
  const hash = createHash("sha256");
  const files = [
    ...listFiles(join(REPO_ROOT, "src")),
    join(REPO_ROOT, "package-lock.json"),
    join(REPO_ROOT, "tsconfig.json"),
  ];
  for (const file of files) {
    hash.update(relative(REPO_ROOT, file));
    hash.update("\0");
    hash.update(readFileSync(file));
    hash.update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

export interface Freshness {
  fresh: boolean;
  reason: string;
}

/**
 * Whether HEAD's committed bundle was built from the current source: stale when
 * src/ or the lock file has uncommitted changes, or was committed after the
 * bundle last was. (ncc builds are reproducible, so a byte comparison with a
 * fresh build would also do, at the cost of a build.)
 */
export function committedBundleFreshness(distPath: string): Freshness {
  const dirty = git(["status", "--porcelain", "--", "src", "package-lock.json"]).trim();
  if (dirty) return { fresh: false, reason: "src/ has uncommitted changes" };
  const distTime = Number(git(["log", "-1", "--format=%ct", "--", distPath]).trim() || 0);
  const srcTime = Number(git(["log", "-1", "--format=%ct", "--", "src", "package-lock.json"]).trim() || 0);
  if (distTime === 0) return { fresh: false, reason: `${distPath} is not committed` };
  if (srcTime > distTime) return { fresh: false, reason: `src/ was committed after ${distPath}` };
  return { fresh: true, reason: `${distPath} committed after the last src/ change` };
}

/** HEAD's committed bundle directory (index.js and package.json) extracted to the cache; undefined if absent. */
export function committedBundle(distDir: string): string | undefined {
  const head = git(["rev-parse", "HEAD"]).trim();
  const out = join(CACHE_DIR, `committed-${head.slice(0, 12)}`, distDir);
  if (existsSync(join(out, "index.js"))) return join(out, "index.js");
  let script: Buffer;
  try {
    script = gitBuffer(["show", `HEAD:${distDir}/index.js`]);
  } catch {
    return undefined;
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "index.js"), script);
  try {
    writeFileSync(join(out, "package.json"), gitBuffer(["show", `HEAD:${distDir}/package.json`]));
  } catch {
    // No package.json committed next to it: the bundle runs as whatever its extension says.
  }
  return join(out, "index.js");
}

/** ncc build of `entry` from the working tree, cached by source hash. Returns the bundle path. */
export function nccBuild(entry: string, minify: boolean, log: (line: string) => void): string {
  const name = entry.replace(/[^\w]+/g, "_");
  const out = join(CACHE_DIR, `ncc-${sourceHash()}-${name}-${minify ? "min" : "plain"}`);
  const file = join(out, "index.js");
  if (existsSync(file)) return file;
  log(`building ${entry} with ncc${minify ? " --minify" : ""} into ${out} (cached for this source)…`);
  rmSync(out, { recursive: true, force: true });
  execFileSync(
    join(REPO_ROOT, "node_modules", ".bin", "ncc"),
    ["build", entry, "-o", out, ...(minify ? ["--minify"] : []), "--target", "es2022", "--quiet"],
    { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "inherit"] },
  );
  return file;
}

/** True when an ncc build of this source is already cached (so --quick can use it without building). */
export function nccCached(entry: string, minify: boolean): boolean {
  const name = entry.replace(/[^\w]+/g, "_");
  return existsSync(join(CACHE_DIR, `ncc-${sourceHash()}-${name}-${minify ? "min" : "plain"}`, "index.js"));
}

const ESBUILD = (): string => join(REPO_ROOT, "node_modules", ".bin", "esbuild");

/**
 * esbuild bundle with neither minification nor tree-shaking: everything the
 * entry imports, whole. ESM output needs a `require` for the CommonJS
 * dependencies, hence the createRequire banner (esbuild's documented recipe).
 */
export function esbuildPlainBundle(entry: string): string {
  const out = join(CACHE_DIR, `esbuild-${sourceHash()}-${entry.replace(/[^\w]+/g, "_")}`, "index.mjs");
  if (existsSync(out)) return out;
  execFileSync(
    ESBUILD(),
    [
      entry,
      "--bundle",
      "--platform=node",
      "--format=esm",
      "--target=es2022",
      "--tree-shaking=false",
      "--log-level=error",
      "--banner:js=import { createRequire as __benchCreateRequire } from 'node:module'; const require = __benchCreateRequire(import.meta.url);",
      `--outfile=${out}`,
    ],
    { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "inherit"] },
  );
  return out;
}

/**
 * src/ transpiled file by file (no bundling), next to a node_modules symlink,
 * so Node resolves and loads every dependency module at run time. Returns the
 * directory holding `src/`.
 */
export function esbuildUnbundled(): string {
  const out = join(CACHE_DIR, `unbundled-${sourceHash()}`);
  if (existsSync(join(out, "src"))) return out;
  mkdirSync(out, { recursive: true });
  const files = listFiles(join(REPO_ROOT, "src")).filter((f) => f.endsWith(".ts"));
  execFileSync(
    ESBUILD(),
    [
      ...files,
      "--platform=node",
      "--format=esm",
      "--target=es2022",
      "--log-level=error",
      `--outdir=${join(out, "src")}`,
    ],
    { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "inherit"] },
  );
  writeFileSync(join(out, "package.json"), '{ "type": "module" }\n');
  symlinkSync(join(REPO_ROOT, "node_modules"), join(out, "node_modules"));
  return out;
}

export function fileSize(path: string): number {
  return readFileSync(path).length;
}
