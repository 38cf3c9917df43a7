/**
 * The builds the benchmarks compare, all outside action/dist (which is shared
 * and only `npm run build` writes):
 *   - the shipped build: `node scripts/build.mjs --out DIR` of the working tree
 *     (the same bytes `npm run build` commits, since the build is reproducible),
 *     with esbuild's metafile; cached by a hash of the source;
 *   - the same build with the action as one file (`--one-file`), no mode split;
 *   - the bundle before the switch to esbuild: the ncc --minify single file as
 *     committed at BEFORE_REF (`git show`), no build needed;
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

/**
 * The last commit whose action/dist/index.js is the ncc --minify single file
 * (before the esbuild switch): the "before" of the cold-start and grant rows.
 * ELEVATE_BENCH_BEFORE_REF names another commit.
 */
export const BEFORE_REF = process.env.ELEVATE_BENCH_BEFORE_REF || "a83c2f6";

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

/** Hash of everything a bundle is built from: src/**, the build script, package-lock.json, tsconfig.json. */
export function sourceHash(): string {
  const hash = createHash("sha256");
  const files = [
    ...listFiles(join(REPO_ROOT, "src")),
    join(REPO_ROOT, "scripts", "build.mjs"),
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

/** esbuild's metafile: which source files went into which output file. */
export interface Metafile {
  outputs: Record<
    string,
    { bytes: number; inputs: Record<string, unknown>; imports: { path: string; kind: string }[] }
  >;
}

export interface Build {
  dir: string;
  /** The action's entry (action/dist/index.js in the shipped layout). */
  action: string;
  /** Every file of the action (entry and chunks). */
  actionFiles: string[];
  cli: string;
  meta: Metafile;
  description: string;
}

/**
 * `node scripts/build.mjs --out DIR --metafile` of the working tree, cached by
 * source hash (it takes a second or two). `oneFile`: the action without the
 * per-mode split.
 */
export function shippedBuild(options: { oneFile?: boolean } = {}): Build {
  const kind = options.oneFile ? "one-file" : "split";
  const dir = join(CACHE_DIR, `build-${sourceHash()}-${kind}`);
  if (!existsSync(join(dir, "meta-action.json"))) {
    rmSync(dir, { recursive: true, force: true });
    execFileSync(
      process.execPath,
      [join(REPO_ROOT, "scripts", "build.mjs"), "--out", dir, "--metafile", ...(options.oneFile ? ["--one-file"] : [])],
      { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "inherit"] },
    );
  }
  const chunks = existsSync(join(dir, "chunks")) ? listFiles(join(dir, "chunks")) : [];
  return {
    dir,
    action: join(dir, "index.js"),
    actionFiles: [join(dir, "index.js"), ...chunks],
    cli: join(dir, "cli", "index.js"),
    meta: JSON.parse(readFileSync(join(dir, "meta-action.json"), "utf8")) as Metafile,
    description: options.oneFile
      ? "`node scripts/build.mjs --one-file` of the working tree (esbuild, the action as one file)"
      : "`npm run build` of the working tree (esbuild, split per mode; byte-identical to action/dist when that is current)",
  };
}

/** The ncc single-file action bundle as committed at BEFORE_REF, extracted to the cache. */
export function beforeBundle(): { path: string; description: string } {
  const sha = gitBuffer(["rev-parse", "--verify", `${BEFORE_REF}^{commit}`])
    .toString()
    .trim();
  const out = join(CACHE_DIR, `before-${sha.slice(0, 12)}`);
  const path = join(out, "index.js");
  if (!existsSync(path)) {
    mkdirSync(out, { recursive: true });
    writeFileSync(path, gitBuffer(["show", `${sha}:action/dist/index.js`]));
    writeFileSync(join(out, "package.json"), gitBuffer(["show", `${sha}:action/dist/package.json`]));
  }
  return { path, description: `ncc --minify, one file: action/dist/index.js at ${sha.slice(0, 7)}` };
}

/**
 * The action bundle committed at `ref` (action/dist: entry and chunks, as
 * land.sh commits it), extracted to the cache with `git archive`: a baseline
 * of the same shape as the shipped build, for comparing against an earlier
 * commit of this repository (ELEVATE_BENCH_GRANT_BASELINE_REF, bench/README.md).
 */
export function committedActionAt(ref: string): { path: string; description: string } {
  const sha = gitBuffer(["rev-parse", "--verify", `${ref}^{commit}`])
    .toString()
    .trim();
  const out = join(CACHE_DIR, `committed-${sha.slice(0, 12)}`);
  const path = join(out, "action", "dist", "index.js");
  if (!existsSync(path)) {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    execFileSync("tar", ["-x", "-C", out], { input: gitBuffer(["archive", "--format=tar", sha, "action/dist"]) });
  }
  return { path, description: `action/dist as committed at ${sha.slice(0, 7)}` };
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
