/**
 * Real git repositories for the sandbox, made with the `git` CLI in a temp directory:
 * a bare origin, working clones, commits on branches, and pull-request merges done the
 * three ways GitHub does them ("About merge methods on GitHub",
 * https://docs.github.com/en/repositories/configuring-branches-and-merges-in-your-repository/configuring-pull-request-merges/about-merge-methods-on-github):
 *   merge:  a merge commit with two parents (`--no-ff`);
 *   squash: one new commit with the PR's combined changes and one parent;
 *   rebase: each PR commit replayed onto the base as a new commit (always new SHAs:
 *           GitHub rewrites the committer even when a fast-forward were possible).
 * Git's environment is isolated from the machine's (no global/system config), so the
 * results do not depend on who runs the tests.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { PullFileInput, PullFileStatus } from "../github/state.js";

export interface GitIdentity {
  name: string;
  email: string;
}

export interface CommitOptions {
  message: string;
  author?: GitIdentity;
  /** Author and committer date; default now. */
  date?: Date;
}

/** Contents to write (string) or delete (null), by repository-relative path. */
export type FileChanges = Record<string, string | null>;

export interface CommitSummary {
  sha: string;
  message: string;
  timestamp: string;
  author: GitIdentity;
  added: string[];
  removed: string[];
  modified: string[];
}

const SANDBOX_IDENTITY: GitIdentity = { name: "Elevate Sandbox", email: "sandbox@example.invalid" };

/** Environment for every git call: no user/system config, fixed identity, no prompts. */
function gitEnvironment(identity: GitIdentity, date?: Date): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: tmpdir(),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_AUTHOR_NAME: identity.name,
    GIT_AUTHOR_EMAIL: identity.email,
    GIT_COMMITTER_NAME: identity.name,
    GIT_COMMITTER_EMAIL: identity.email,
    LC_ALL: "C",
  };
  if (date) {
    const stamp = `${Math.floor(date.getTime() / 1000)} +0000`;
    env.GIT_AUTHOR_DATE = stamp;
    env.GIT_COMMITTER_DATE = stamp;
  }
  return env;
}

export function runGit(
  cwd: string,
  args: string[],
  options: { identity?: GitIdentity; date?: Date; committer?: GitIdentity } = {},
): string {
  const env = gitEnvironment(options.identity ?? SANDBOX_IDENTITY, options.date);
  if (options.committer) {
    env.GIT_COMMITTER_NAME = options.committer.name;
    env.GIT_COMMITTER_EMAIL = options.committer.email;
  }
  try {
    return execFileSync("git", args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`git ${args.join(" ")} failed in ${cwd}: ${stderr.trim() || String(error)}`);
  }
}

/** A working clone. */
export class GitClone {
  constructor(readonly dir: string) {}

  git(args: string[], options: { identity?: GitIdentity; date?: Date; committer?: GitIdentity } = {}): string {
    return runGit(this.dir, args, options);
  }

  revParse(ref: string): string {
    return this.git(["rev-parse", "--verify", `${ref}^{commit}`]).trim();
  }

  /** Creates `branch` from `from` (or checks it out if it exists) and makes it current. */
  checkoutBranch(branch: string, from?: string): void {
    if (from !== undefined) this.git(["checkout", "-q", "-B", branch, from]);
    else this.git(["checkout", "-q", branch]);
  }

  /**
   * Renames (git mv, applied first), then writes/deletes files on the current branch,
   * and commits; returns the new commit SHA.
   */
  commit(changes: FileChanges, options: CommitOptions & { renames?: Record<string, string> }): string {
    const renames = Object.entries(options.renames ?? {});
    const paths = [...Object.keys(changes), ...renames.flat()];
    if (paths.length === 0) throw new Error("commit: no file changes given");
    for (const path of paths) {
      if (path.startsWith("/") || path.split("/").includes(".."))
        throw new Error(`commit: path escapes the repository: ${path}`);
    }
    for (const [from, to] of renames) {
      mkdirSync(dirname(join(this.dir, to)), { recursive: true });
      this.git(["mv", from, to]);
    }
    for (const [path, content] of Object.entries(changes)) {
      const absolute = join(this.dir, path);
      if (content === null) {
        unlinkSync(absolute);
      } else {
        mkdirSync(dirname(absolute), { recursive: true });
        writeFileSync(absolute, content);
      }
    }
    // git mv already staged the renames; stage the written and deleted paths.
    const written = Object.keys(changes);
    if (written.length > 0) this.git(["add", "-A", "--", ...written]);
    this.git(["commit", "-q", "-m", options.message], withDefined({ identity: options.author, date: options.date }));
    return this.revParse("HEAD");
  }

  push(refspecs: string[], options: { force?: boolean } = {}): void {
    this.git(["push", "-q", ...(options.force ? ["--force"] : []), "origin", ...refspecs]);
  }

  fetch(): void {
    this.git(["fetch", "-q", "--prune", "origin", "+refs/heads/*:refs/remotes/origin/*", "+refs/notes/*:refs/notes/*"]);
  }

  /** SHAs in `base..head`, oldest first. */
  commitsBetween(base: string, head: string): string[] {
    const out = this.git(["rev-list", "--reverse", `${base}..${head}`]).trim();
    return out === "" ? [] : out.split("\n");
  }

  /**
   * Files changed between two commits, as GitHub's "List pull request files" reports
   * them (rename detection on, blob SHAs of the new side, line counts).
   */
  changedFiles(base: string, head: string): PullFileInput[] {
    const raw = this.git(["diff", "--raw", "-z", "-M", "--no-abbrev", base, head]);
    const numstat = this.git(["diff", "--numstat", "-z", "-M", base, head]);
    const counts = parseNumstat(numstat);
    return parseRaw(raw).map((entry) => {
      const count = counts.get(entry.filename) ?? { additions: 0, deletions: 0 };
      const file: PullFileInput = {
        filename: entry.filename,
        status: entry.status,
        sha: entry.sha,
        additions: count.additions,
        deletions: count.deletions,
      };
      if (entry.previousFilename !== undefined) file.previousFilename = entry.previousFilename;
      return file;
    });
  }

  /** The push-payload view of one commit: message, author, added/removed/modified paths. */
  commitSummary(sha: string): CommitSummary {
    const [name, email, timestamp, ...messageLines] = this.git(["show", "-s", "--format=%an%n%ae%n%aI%n%B", sha])
      .replace(/\n+$/, "")
      .split("\n");
    // Against the first parent, without rename detection: push payloads list a rename
    // as one removal and one addition.
    const parentArgs =
      this.git(["rev-list", "--parents", "-n", "1", sha]).trim().split(" ").length > 1 ? [`${sha}^1`] : [EMPTY_TREE];
    const raw = this.git(["diff", "--raw", "-z", "--no-renames", "--no-abbrev", ...parentArgs, sha]);
    const summary: CommitSummary = {
      sha,
      message: messageLines.join("\n"),
      timestamp: timestamp!,
      author: { name: name!, email: email! },
      added: [],
      removed: [],
      modified: [],
    };
    for (const entry of parseRaw(raw)) {
      if (entry.status === "added") summary.added.push(entry.filename);
      else if (entry.status === "removed") summary.removed.push(entry.filename);
      else summary.modified.push(entry.filename);
    }
    return summary;
  }

  /** Files of `path` at `ref` (like `git show ref:path`). */
  readFile(ref: string, path: string): string {
    return this.git(["show", `${ref}:${path}`]);
  }
}

const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

interface RawEntry {
  status: PullFileStatus;
  filename: string;
  previousFilename?: string;
  sha: string;
}

const RAW_STATUS: Record<string, PullFileStatus> = {
  A: "added",
  D: "removed",
  M: "modified",
  T: "changed",
  R: "renamed",
  C: "copied",
};

/** Parses `git diff --raw -z` (":old new oldsha newsha STATUS\0path[\0path2]\0"). */
function parseRaw(output: string): RawEntry[] {
  const fields = output.split("\0");
  const entries: RawEntry[] = [];
  let index = 0;
  while (index < fields.length && fields[index] !== "") {
    const header = fields[index++]!;
    const [, , , newSha, statusField] = header.slice(1).split(" ") as [string, string, string, string, string];
    const letter = statusField[0]!;
    const status = RAW_STATUS[letter];
    if (!status) throw new Error(`unexpected git diff status ${statusField}`);
    if (letter === "R" || letter === "C") {
      const previousFilename = fields[index++]!;
      const filename = fields[index++]!;
      entries.push({ status, filename, previousFilename, sha: newSha });
    } else {
      entries.push({ status, filename: fields[index++]!, sha: newSha });
    }
  }
  return entries;
}

/** Parses `git diff --numstat -z`; renames are "a\td\t\0old\0new\0"; binary files count 0. */
function parseNumstat(output: string): Map<string, { additions: number; deletions: number }> {
  const fields = output.split("\0");
  const counts = new Map<string, { additions: number; deletions: number }>();
  let index = 0;
  while (index < fields.length && fields[index] !== "") {
    const [added, deleted, path] = fields[index++]!.split("\t") as [string, string, string];
    let filename = path;
    if (path === "") {
      // Rename: the old path, then the new path, each NUL-terminated.
      index += 1;
      filename = fields[index++]!;
    }
    counts.set(filename, {
      additions: added === "-" ? 0 : Number(added),
      deletions: deleted === "-" ? 0 : Number(deleted),
    });
  }
  return counts;
}

function withDefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

export interface MergeResult {
  method: "merge" | "squash" | "rebase";
  /** Base branch tip before the merge (the push event's `before`). */
  before: string;
  /** Base branch tip after the merge (the push event's `after`, GitHub's merge_commit_sha). */
  after: string;
  /**
   * Commits new on the base branch, oldest first (the push event's `commits`); for a
   * merge commit that is the PR's commits followed by the merge.
   */
  landedShas: string[];
  /** Files changed on the base branch by the merge (`before..after`). */
  changedFiles: PullFileInput[];
}

/** A bare origin and the clones made from it, all under one temp directory. */
export class GitSandbox {
  readonly root: string;
  readonly originDir: string;
  readonly #maintainer: GitClone;

  private constructor(root: string, defaultBranch: string) {
    this.root = root;
    this.originDir = join(root, "origin.git");
    runGit(root, ["init", "-q", "--bare", `--initial-branch=${defaultBranch}`, this.originDir]);
    this.#maintainer = this.clone("maintainer");
  }

  /**
   * Creates a temp directory with a bare origin whose `defaultBranch` holds
   * `initialFiles` in one commit.
   */
  static create(options: {
    initialFiles: FileChanges;
    defaultBranch?: string;
    date?: Date;
    parent?: string;
  }): GitSandbox {
    const root = mkdtempSync(join(options.parent ?? tmpdir(), "elevate-git-"));
    const defaultBranch = options.defaultBranch ?? "main";
    const sandbox = new GitSandbox(root, defaultBranch);
    const maintainer = sandbox.#maintainer;
    maintainer.git(["checkout", "-q", "-b", defaultBranch]);
    maintainer.commit(options.initialFiles, withDefined({ message: "Initial commit", date: options.date }));
    maintainer.push([defaultBranch]);
    return sandbox;
  }

  /** A fresh clone of origin in `<root>/<name>`. */
  clone(name: string): GitClone {
    const dir = join(this.root, name);
    runGit(this.root, ["clone", "-q", this.originDir, dir]);
    return new GitClone(dir);
  }

  /** The clone used to play the GitHub side (PR branches, merges). */
  get maintainer(): GitClone {
    return this.#maintainer;
  }

  /** Resolves a ref in origin. */
  originSha(ref: string): string {
    return runGit(this.originDir, ["rev-parse", "--verify", `${ref}^{commit}`]).trim();
  }

  /** Pushes `changes` as one commit on `branch` (created from `from`, default the base). */
  commitOnBranch(
    branch: string,
    changes: FileChanges,
    options: CommitOptions & { from?: string; renames?: Record<string, string> },
  ): string {
    const clone = this.#maintainer;
    clone.fetch();
    const exists = runGit(this.originDir, ["branch", "--list", branch]).trim() !== "";
    clone.checkoutBranch(branch, exists ? `origin/${branch}` : (options.from ?? "origin/main"));
    const sha = clone.commit(changes, options);
    clone.push([`${branch}:${branch}`]);
    return sha;
  }

  /** Merges `headBranch` into `baseBranch` on origin the way GitHub would with `method`. */
  mergeBranch(
    headBranch: string,
    baseBranch: string,
    method: MergeResult["method"],
    options: { message: string; committer?: GitIdentity; date?: Date },
  ): MergeResult {
    const clone = this.#maintainer;
    clone.fetch();
    clone.checkoutBranch(baseBranch, `origin/${baseBranch}`);
    const before = clone.revParse("HEAD");
    const git = (args: string[]) => clone.git(args, withDefined({ identity: options.committer, date: options.date }));
    if (method === "merge") {
      git(["merge", "-q", "--no-ff", "-m", options.message, `origin/${headBranch}`]);
    } else if (method === "squash") {
      git(["merge", "-q", "--squash", `origin/${headBranch}`]);
      git(["commit", "-q", "-m", options.message]);
    } else {
      const work = `rebase-${headBranch}`;
      clone.checkoutBranch(work, `origin/${headBranch}`);
      // --force-rebase: replay every commit even if a fast-forward would do, as GitHub does.
      clone.git(
        ["rebase", "-q", "--force-rebase", `origin/${baseBranch}`],
        withDefined({ committer: options.committer, date: options.date }),
      );
      const rebased = clone.revParse("HEAD");
      clone.checkoutBranch(baseBranch, rebased);
      clone.git(["branch", "-q", "-D", work]);
    }
    const after = clone.revParse("HEAD");
    clone.push([`${baseBranch}:${baseBranch}`]);
    return {
      method,
      before,
      after,
      landedShas: clone.commitsBetween(before, after),
      changedFiles: clone.changedFiles(before, after),
    };
  }

  /** Removes the temp directory. */
  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
