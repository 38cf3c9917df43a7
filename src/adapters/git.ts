/**
 * Thin adapter over the `git` CLI. Arguments are always passed as an argv
 * array (never through a shell), so paths and refs cannot inject commands.
 */
import { type ChildProcessByStdio, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import { promisify } from "node:util";

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

/**
 * One `git cat-file --batch` process answering object reads for a checkout:
 * each process spawn costs the caller 5–15 ms of CPU, and a grant reads a
 * dozen objects before its first start. While one is open (openObjectReader),
 * commitExists, blobIdAt and readBytesAt in that checkout read through it
 * when the revision is a commit id; their results are the same as the
 * one-process-per-read path, which they fall back to for any name a batch line
 * cannot carry and whenever the batch process fails. Objects fetched after it
 * started are found too (git re-reads its packs when an object is missing).
 */
class ObjectReader {
  readonly #child: ChildProcessByStdio<Writable, Readable, null>;
  readonly #waiting: {
    resolve: (object: GitObject | undefined) => void;
    reject: (error: Error) => void;
  }[] = [];
  #buffered: Buffer = Buffer.alloc(0);
  #failed: Error | undefined;

  constructor(readonly cwd: string) {
    this.#child = spawn("git", ["cat-file", "--batch"], {
      cwd,
      stdio: ["pipe", "pipe", "ignore"],
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
    });
    this.#child.stdout.on("data", (chunk: Buffer) => {
      this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
      this.#drain();
    });
    this.#child.on("error", (error) => this.#fail(error));
    this.#child.on("close", (code) => this.#fail(new Error(`git cat-file --batch exited (${code})`)));
    this.#child.stdin.on("error", (error) => this.#fail(error));
  }

  /** The object `name` names, or undefined when there is none. */
  read(name: string): Promise<GitObject | undefined> {
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#child.stdin.write(`${name}\n`);
    });
  }

  close(): void {
    this.#failed ??= new Error("the object reader is closed");
    this.#child.stdin.end();
  }

  #drain(): void {
    for (;;) {
      const waiter = this.#waiting[0];
      const eol = this.#buffered.indexOf(10);
      if (!waiter || eol < 0) return;
      const header = this.#buffered.subarray(0, eol).toString("utf8");
      const match = /^([0-9a-f]{40,64}) (\S+) (\d+)$/.exec(header);
      if (!match) {
        // "<name> missing" (or "ambiguous"): no such object.
        this.#buffered = this.#buffered.subarray(eol + 1);
        this.#waiting.shift();
        waiter.resolve(undefined);
        continue;
      }
      const size = Number(match[3]);
      if (this.#buffered.length < eol + 1 + size + 1) return;
      const content = Buffer.from(this.#buffered.subarray(eol + 1, eol + 1 + size));
      this.#buffered = this.#buffered.subarray(eol + 1 + size + 1);
      this.#waiting.shift();
      waiter.resolve({ oid: match[1] as string, type: match[2] as string, content });
    }
  }

  #fail(error: Error): void {
    this.#failed ??= error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
    if (openReaders.get(this.cwd) === this) openReaders.delete(this.cwd);
  }
}

interface GitObject {
  oid: string;
  type: string;
  content: Buffer;
}

const openReaders = new Map<string, ObjectReader>();

/**
 * Opens the batch reader for `cwd` (see ObjectReader); reads in that checkout
 * go through it until the returned function closes it.
 */
export function openObjectReader(cwd: string): () => void {
  const reader = new ObjectReader(cwd);
  openReaders.set(cwd, reader);
  return () => {
    if (openReaders.get(cwd) === reader) openReaders.delete(cwd);
    reader.close();
  };
}

/**
 * Reads `rev:path` (or `rev` alone) through the open batch reader; null when
 * none is open, the name does not fit a batch line, or the reader failed, so
 * the caller takes its one-process path.
 */
async function batchRead(cwd: string, rev: string, path?: string): Promise<GitObject | undefined | null> {
  const reader = openReaders.get(cwd);
  if (!reader || !/^[0-9a-f]{40,64}$/.test(rev.replace(/\^\{commit\}$/, ""))) return null;
  // A batch line cannot hold a newline; "./" and "../" would be read relative to the
  // working directory, and a path outside the tree, unlike ls-tree's literal pathspec.
  if (path !== undefined && (path === "" || /[\n\r]|^\.\.?\/|\/\.\.?(\/|$)|^\.\.?$|\/\/|^\/|\/$/.test(path)))
    return null;
  try {
    if (path === undefined) return await reader.read(rev);
    const object = await reader.read(`${rev}:${path}`);
    if (object) return object;
    // No such path, or no such revision: the latter is the one-process path's
    // error (ls-tree fails on it), so it takes that path.
    return (await reader.read(`${rev}^{tree}`)) ? undefined : null;
  } catch {
    return null;
  }
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
  try {
    await git(cwd, ["merge-base", "--is-ancestor", ancestor, descendant]);
    return true;
  } catch (error) {
    if (error instanceof GitError && error.exitCode === 1) return false;
    throw error;
  }
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

/** The paths of a tree read through the batch reader; undefined when a read failed. */
async function walkTree(cwd: string, object: GitObject | undefined, path: string): Promise<string[] | undefined> {
  if (!object) return [];
  if (object.type !== "tree") return [path];
  const rawIdLength = object.oid.length / 2;
  const entries: { mode: string; name: string; oid: string }[] = [];
  for (let at = 0; at < object.content.length; ) {
    const space = object.content.indexOf(32, at);
    const nul = object.content.indexOf(0, space);
    if (space < 0 || nul < 0) return undefined;
    entries.push({
      mode: object.content.subarray(at, space).toString("latin1"),
      name: object.content.subarray(space + 1, nul).toString("utf8"),
      oid: object.content.subarray(nul + 1, nul + 1 + rawIdLength).toString("hex"),
    });
    at = nul + 1 + rawIdLength;
  }
  const lists = await Promise.all(
    entries.map(async (entry) => {
      const full = `${path}/${entry.name}`;
      if (entry.mode !== "40000") return [full];
      const sub = await batchRead(cwd, entry.oid);
      return sub === null ? undefined : walkTree(cwd, sub, full);
    }),
  );
  return lists.some((l) => l === undefined) ? undefined : (lists.flat() as string[]);
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
