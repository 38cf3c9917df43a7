/**
 * Reads git objects of a checkout through one long-lived `git cat-file --batch`
 * process (see ObjectReader); src/adapters/git.ts reads through it while one is
 * open and falls back to one process per read otherwise.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";

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

export interface GitObject {
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
export async function batchRead(cwd: string, rev: string, path?: string): Promise<GitObject | undefined | null> {
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

/** The paths of a tree read through the batch reader; undefined when a read failed. */
export async function walkTree(
  cwd: string,
  object: GitObject | undefined,
  path: string,
): Promise<string[] | undefined> {
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
