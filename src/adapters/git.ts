/**
 * Thin adapter over the `git` CLI. Arguments are always passed as an argv
 * array (never through a shell), so paths and refs cannot inject commands.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { batchRead, walkTree } from "./git-objects.js";

export { openObjectReader } from "./git-objects.js";

const execFileAsync = promisify(execFile);

export const NOTES_REF = "refs/notes/elevate";
export const ZERO_SHA = "0000000000000000000000000000000000000000";

export class GitError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
    readonly exitCode: number | undefined,
  ) {
    super(`git ${args.join(" ")} failed${exitCode === undefined ? "" : ` (exit ${exitCode})`}: ${stderr.trim()}`);
  }
}

export async function git(cwd: string, args: string[], options: { input?: string } = {}): Promise<string> {
  try {
    const child = execFileAsync("git", args, {
      cwd,
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
    });
    if (options.input !== undefined) {
      child.child.stdin?.end(options.input);
    }
    const { stdout } = await child;
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; code?: number | string };
    throw new GitError(args, e.stderr ?? String(error), typeof e.code === "number" ? e.code : undefined);
  }
}

/**
 * Like `git`, but returns stdout as bytes: for output whose byte counts matter
 * (`git cat-file --batch` gives each object's size in bytes, and an object need
 * not be valid UTF-8).
 */
export async function gitBytes(cwd: string, args: string[], options: { input?: string } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      args,
      {
        cwd,
        encoding: "buffer",
        maxBuffer: 256 * 1024 * 1024,
        env: { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
      },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const code = (error as { code?: unknown }).code;
        reject(
          new GitError(args, stderr.toString("utf8") || error.message, typeof code === "number" ? code : undefined),
        );
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export async function gitTopLevel(cwd: string): Promise<string | undefined> {
  try {
    return (await git(cwd, ["rev-parse", "--show-toplevel"])).trim();
  } catch {
    return undefined;
  }
}

export async function commitExists(cwd: string, sha: string): Promise<boolean> {
  const object = await batchRead(cwd, `${sha}^{commit}`);
  if (object !== null) return object?.type === "commit";
  try {
    await git(cwd, ["cat-file", "-e", `${sha}^{commit}`]);
    return true;
  } catch {
    return false;
  }
}

export interface ChangedFile {
  /** A added, M modified, D deleted, R renamed, C copied, T type change. */
  status: "A" | "M" | "D" | "R" | "C" | "T";
  path: string;
  oldPath?: string;
}

/**
 * Files changed between two commits, with rename detection so that a renamed
 * request file is reported as a rename (which grants nothing), not as an add.
 */
export async function changedFiles(cwd: string, from: string, to: string): Promise<ChangedFile[]> {
  const out = await git(cwd, ["diff", "--name-status", "-z", "-M", "--no-ext-diff", from, to, "--"]);
  const parts = out.split("\0");
  const files: ChangedFile[] = [];
  for (let i = 0; i < parts.length; ) {
    const code = parts[i++];
    if (!code) continue;
    const status = code[0] as ChangedFile["status"];
    if (status === "R" || status === "C") {
      const oldPath = parts[i++] ?? "";
      const path = parts[i++] ?? "";
      files.push({ status, path, oldPath });
    } else {
      files.push({ status, path: parts[i++] ?? "" });
    }
  }
  return files;
}

/**
 * Whether `ancestor` is an ancestor of (or equal to) `descendant`. Exit 1 is
 * git's "no"; anything else (a missing commit, a broken repository) is an
 * error, so a caller cannot mistake "cannot tell" for an answer.
 */
export async function isAncestor(cwd: string, ancestor: string, descendant: string): Promise<boolean> {
  // A commit is its own ancestor, and so is each parent it names: the usual
  // merge into a branch (the previous tip is the merge's first parent) is
  // answered from the commit object through an open batch reader, without a
  // process. Anything else, or no reader, asks git.
  const commit = await batchRead(cwd, descendant);
  if (commit?.type === "commit" && (commit.oid === ancestor || parentsOf(commit.content).includes(ancestor))) {
    return true;
  }
  try {
    await git(cwd, ["merge-base", "--is-ancestor", ancestor, descendant]);
    return true;
  } catch (error) {
    if (error instanceof GitError && error.exitCode === 1) return false;
    throw error;
  }
}

/**
 * The first line of a commit's message, read through an open batch reader;
 * undefined without one (or when the commit cannot be read), never a process:
 * callers use it as a hint only.
 */
export async function commitSubjectIfOpen(cwd: string, sha: string): Promise<string | undefined> {
  const commit = await batchRead(cwd, sha);
  if (commit?.type !== "commit") return undefined;
  const body = commit.content.indexOf("\n\n");
  if (body < 0) return undefined;
  return commit.content.toString("utf8", body + 2).split("\n", 1)[0];
}

/** The parent ids a raw commit object names (its `parent` header lines). */
function parentsOf(content: Buffer): string[] {
  const header = content.toString("utf8", 0, Math.max(0, content.indexOf("\n\n")));
  return [...header.matchAll(/^parent ([0-9a-f]{40,64})$/gm)].map((m) => m[1] as string);
}

/**
 * The blob id of `path` at `rev`, or undefined when there is no file there.
 * Paths are literal (`--literal-pathspecs`): a file name holding `*` or `[`
 * names that one file, never a pattern.
 */
export async function blobIdAt(cwd: string, rev: string, path: string): Promise<string | undefined> {
  const object = await batchRead(cwd, rev, path);
  if (object !== null) return object?.type === "blob" ? object.oid : undefined;
  const out = await git(cwd, ["--literal-pathspecs", "ls-tree", "-z", "--full-tree", rev, "--", path]);
  for (const entry of out.split("\0")) {
    const match = /^\d{6} blob ([0-9a-f]{40,64})\t(.*)$/s.exec(entry);
    if (match && match[2] === path) return match[1];
  }
  return undefined;
}

/**
 * Every path under the directory `dir` at `rev`, in tree order, as
 * `git ls-tree -r --name-only rev -- dir` lists them (files, symlinks and
 * submodules; `dir` itself when it is a file).
 */
export async function listFilesAt(cwd: string, rev: string, dir: string): Promise<string[]> {
  const root = await batchRead(cwd, rev, dir);
  if (root !== null) {
    const walked = await walkTree(cwd, root, dir);
    if (walked) return walked;
  }
  const out = await git(cwd, ["ls-tree", "-r", "--name-only", "-z", rev, "--", dir]);
  return out.split("\0").filter((p) => p !== "");
}

/**
 * Fetches `branch` from origin and returns its tip: what the branch holds now,
 * which may be newer than the commit this job was started for (a queued job).
 */
export async function fetchBranchTip(cwd: string, branch: string, remote = "origin"): Promise<string> {
  await git(cwd, ["check-ref-format", "--branch", branch]);
  const ref = `refs/remotes/${remote}/${branch}`;
  await git(cwd, ["fetch", "--quiet", "--no-tags", remote, `+refs/heads/${branch}:${ref}`]);
  return (await git(cwd, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])).trim();
}

/**
 * Fetches one commit by id from origin when the checkout lacks it; whether it
 * is there afterwards. `shallow` fetches that commit alone (enough to read its
 * tree); otherwise its history comes too.
 */
export async function ensureCommit(cwd: string, sha: string, options: { shallow?: boolean } = {}): Promise<boolean> {
  if (await commitExists(cwd, sha)) return true;
  try {
    await git(cwd, ["fetch", "--quiet", "--no-tags", ...(options.shallow ? ["--depth=1"] : []), "origin", sha]);
  } catch {
    return false;
  }
  return commitExists(cwd, sha);
}

/** A file's content at a revision, or undefined when it does not exist there. */
export async function readFileAt(cwd: string, rev: string, path: string): Promise<string | undefined> {
  const bytes = await readBytesAt(cwd, rev, path);
  return bytes?.toString("utf8");
}

/**
 * A file's bytes at a revision. Request files and the config are validated
 * from bytes, so invalid UTF-8 is reported rather than silently replaced.
 */
export async function readBytesAt(cwd: string, rev: string, path: string): Promise<Buffer | undefined> {
  const object = await batchRead(cwd, rev, path);
  if (object !== null) return object?.type === "blob" ? object.content : undefined;
  return new Promise((resolve) => {
    execFile(
      "git",
      ["cat-file", "blob", `${rev}:${path}`],
      { cwd, encoding: "buffer", maxBuffer: 64 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } },
      (error, stdout) => resolve(error ? undefined : stdout),
    );
  });
}

export async function readNote(cwd: string, sha: string, ref = NOTES_REF): Promise<string | undefined> {
  try {
    return await git(cwd, ["notes", `--ref=${ref}`, "show", sha]);
  } catch {
    return undefined;
  }
}

/**
 * Notes are commits on the notes ref and need an author; a runner has no git
 * identity configured, so notes are written as the Actions bot.
 */
const NOTE_IDENTITY = [
  "-c",
  "user.name=github-actions[bot]",
  "-c",
  "user.email=41898282+github-actions[bot]@users.noreply.github.com",
];

/** Appends to the note (a re-run adds its own evidence rather than erasing history). */
export async function appendNote(cwd: string, sha: string, text: string, ref = NOTES_REF): Promise<void> {
  await git(cwd, [...NOTE_IDENTITY, "notes", `--ref=${ref}`, "append", "-F", "-", sha], { input: text });
}

export async function fetchNotes(cwd: string, remote = "origin", ref = NOTES_REF): Promise<boolean> {
  try {
    await git(cwd, ["fetch", "--quiet", remote, `+${ref}:${ref}`]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Pushes the notes ref. When another run pushed first, fetch theirs, merge
 * with `cat_sort_uniq` (both runs' evidence kept) and push again.
 */
export async function pushNotes(cwd: string, remote = "origin", ref = NOTES_REF, attempts = 3): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await git(cwd, ["push", "--quiet", remote, `${ref}:${ref}`]);
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
      const theirs = `${ref}-remote`;
      await git(cwd, ["fetch", "--quiet", remote, `+${ref}:${theirs}`]);
      await git(cwd, [...NOTE_IDENTITY, "notes", `--ref=${ref}`, "merge", "-s", "cat_sort_uniq", theirs]);
    }
  }
}

/**
 * The default branch as this clone knows it, as a revision: origin's HEAD
 * (`origin/main`), else `origin/main` or `origin/master`, else a local `main`
 * or `master`. Undefined outside git or when none exists. No network.
 */
export async function defaultBranch(cwd: string): Promise<string | undefined> {
  try {
    const head = (await git(cwd, ["symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD"])).trim();
    if (head !== "") return head;
  } catch {
    // origin/HEAD is not set (a clone made by `git init` + `git remote add`): try the usual names.
  }
  for (const ref of [
    "refs/remotes/origin/main",
    "refs/remotes/origin/master",
    "refs/heads/main",
    "refs/heads/master",
  ]) {
    if (await commitExists(cwd, ref)) return ref.replace(/^refs\/(remotes|heads)\//, "");
  }
  return undefined;
}

/**
 * Blob ids of the files under `dir` at `rev`, by repository-relative path:
 * one `git ls-tree` for any number of files.
 */
export async function blobIdsAt(cwd: string, rev: string, dir: string): Promise<Map<string, string>> {
  const out = await git(cwd, ["ls-tree", "-r", "-z", "--full-tree", rev, "--", dir]);
  const blobs = new Map<string, string>();
  for (const entry of out.split("\0")) {
    const match = /^\d+ blob ([0-9a-f]+)\t(.+)$/s.exec(entry);
    if (match) blobs.set(match[2] as string, match[1] as string);
  }
  return blobs;
}

/** The id git gives `bytes` as a blob (SHA-1, or SHA-256 in a SHA-256 repository), computed without git. */
export function blobId(bytes: Uint8Array, algorithm: "sha1" | "sha256" = "sha1"): string {
  return createHash(algorithm).update(`blob ${bytes.byteLength}\0`).update(bytes).digest("hex");
}
