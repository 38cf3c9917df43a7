/**
 * The working tree as the CLI sees it: where the repository root is, which
 * request files exist, and reading one file safely.
 *
 * README.md "CLI": `requests/` and the default `--config` are found at the git
 * top-level of the current directory; FILE arguments are relative to the
 * current directory.
 */
import { lstatSync, readFileSync, type Stats } from "node:fs";
import { readdir, realpath } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { REQUESTS_DIR } from "../domain/request-path.js";
import { gitTopLevel } from "./git.js";

export interface RepoRoot {
  /** Absolute, symlink-free path of the repository root (or of the current directory outside git). */
  root: string;
  /** False when the current directory is not inside a git work tree (the root then is the cwd). */
  inGit: boolean;
}

/** `git rev-parse --show-toplevel` of `cwd`; outside a git repository, `cwd` itself. */
export async function findRepoRoot(cwd: string): Promise<RepoRoot> {
  const top = await gitTopLevel(cwd);
  if (top) return { root: await realpath(top), inGit: true };
  return { root: await realpath(cwd), inGit: false };
}

/**
 * The path of `file` (relative to `cwd`, or absolute) relative to `root`, with
 * `/` separators as git writes them. Symlinked directories are resolved first
 * so that `/tmp/x` and `/private/tmp/x` agree. Paths outside the root come
 * back starting with `../`, which the request path rules then refuse.
 */
/** Directory → its realpath, shared by the files of one run (thousands of files live in a few folders). */
export type RealpathCache = Map<string, Promise<string>>;

export async function repoRelativePath(
  root: string,
  cwd: string,
  file: string,
  cache: RealpathCache = new Map(),
): Promise<string> {
  const absolute = resolve(cwd, file);
  const written = dirname(absolute);
  let real = cache.get(written);
  if (!real) {
    // A missing directory: keep the path as written; reading the file will fail and say so.
    real = realpath(written).catch(() => written);
    cache.set(written, real);
  }
  const directory = await real;
  return relative(root, join(directory, basename(absolute)))
    .split(sep)
    .join("/");
}

export type ReadResult = { ok: true; bytes: Uint8Array } | { ok: false; message: string; size?: number };

/**
 * Reads a small user file. Refuses symbolic links (a request file that points
 * elsewhere would be validated as one thing and stored in git as another) and
 * anything that is not a regular file; files over `maxBytes` are not read at
 * all, only their size is reported.
 */
export async function readSmallFile(path: string, maxBytes: number): Promise<ReadResult> {
  // Synchronous on purpose: request files are tiny and the CLI reads thousands
  // of them; each async call is a thread-pool round trip that costs more than
  // the read itself (bench/: validate of 10,000 files).
  let stats: Stats;
  try {
    stats = lstatSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      ok: false,
      message: code === "ENOENT" ? "no such file" : `cannot read the file (${code ?? String(error)})`,
    };
  }
  if (stats.isSymbolicLink())
    return { ok: false, message: "is a symbolic link; request and config files must be regular files" };
  if (!stats.isFile()) return { ok: false, message: "is not a regular file" };
  if (stats.size > maxBytes) return { ok: false, message: "too large", size: stats.size };
  try {
    return { ok: true, bytes: new Uint8Array(readFileSync(path)) };
  } catch (error) {
    return { ok: false, message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
  }
}

/**
 * Every file under `<root>/requests/` (recursively, not following symbolic
 * links), as repository-relative `/` paths, sorted. Used for the "ids are
 * unique across all of requests/" rule, so it lists more than well-formed
 * request paths: a duplicate in a misnamed folder still counts.
 */
export async function listRequestFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (relativeDir: string, depth: number): Promise<void> => {
    if (depth > 8) return;
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(join(root, relativeDir), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const child = `${relativeDir}/${entry.name}`;
      if (entry.isDirectory()) await walk(child, depth + 1);
      else if (entry.isFile() || entry.isSymbolicLink()) out.push(child);
    }
  };
  await walk(REQUESTS_DIR, 0);
  return out.sort();
}

/**
 * Expands a FILE argument: a directory becomes the `.yaml`/`.yml` files under
 * it, recursively, skipping dot-folders and node_modules, without following symbolic links,
 * sorted, each spelled from the argument (`requests/` → `requests/x/y.yaml`);
 * anything else stays as given (reading it later says what is wrong with it).
 */
export async function expandFileArgument(cwd: string, argument: string): Promise<string[]> {
  const absolute = resolve(cwd, argument);
  let stats: Stats;
  try {
    stats = lstatSync(absolute);
  } catch {
    return [argument];
  }
  if (!stats.isDirectory()) return [argument];
  const found: string[] = [];
  const walk = async (relativeDir: string, depth: number): Promise<void> => {
    if (depth > 16) return;
    const entries = await readdir(join(absolute, relativeDir), { withFileTypes: true });
    for (const entry of entries) {
      const child = relativeDir === "" ? entry.name : `${relativeDir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!entry.name.startsWith(".") && entry.name !== "node_modules") await walk(child, depth + 1);
      } else if (entry.isFile() && /\.ya?ml$/.test(entry.name)) {
        found.push(child);
      }
    }
  };
  await walk("", 0);
  const prefix = argument.replace(/[/\\]+$/, "");
  return found.sort().map((path) => (prefix === "" || prefix === "." ? path : `${prefix}/${path}`));
}
