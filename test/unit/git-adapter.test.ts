/**
 * The git adapter's answers the grant decides on: a file's blob at a revision
 * (names are literal, never patterns) and ancestry ("no" is an answer, a
 * missing commit is an error, never a "no").
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  blobIdAt,
  changedFiles,
  commitExists,
  commitSubjectIfOpen,
  isAncestor,
  listFilesAt,
  openObjectReader,
  readBytesAt,
} from "../../src/adapters/git.js";

let dir: string;
const run = (...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
    cwd: dir,
    encoding: "utf8",
  }).trim();

/** Names with pathspec magic and Markdown in them, as an attacker could commit. */
const GLOB = "requests/ec2-admin/[a]*?.yaml";
const LITERAL_MATCH = "requests/ec2-admin/a-x.yaml";
let first: string;
let second: string;
let side: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "elevate-git-adapter-"));
  run("init", "-q", "-b", "main");
  execFileSync("mkdir", ["-p", join(dir, "requests/ec2-admin")]);
  writeFileSync(join(dir, LITERAL_MATCH), "one\n");
  run("add", "-A");
  run("commit", "-q", "-m", "one");
  first = run("rev-parse", "HEAD");
  writeFileSync(join(dir, GLOB), "two\n");
  run("add", "-A");
  run("commit", "-q", "-m", "two");
  second = run("rev-parse", "HEAD");
  run("checkout", "-q", "-b", "side", first);
  writeFileSync(join(dir, "other.txt"), "x\n");
  run("add", "-A");
  run("commit", "-q", "-m", "side");
  side = run("rev-parse", "HEAD");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("blobIdAt", () => {
  it("names one file literally, and says when it is not there", async () => {
    const glob = await blobIdAt(dir, second, GLOB);
    expect(glob).toBe(run("rev-parse", `${second}:${GLOB}`));
    // At the first commit only a-x.yaml exists, which the pattern would match.
    expect(await blobIdAt(dir, first, GLOB)).toBeUndefined();
    expect(await blobIdAt(dir, first, LITERAL_MATCH)).toBe(run("rev-parse", `${first}:${LITERAL_MATCH}`));
    expect(await blobIdAt(dir, first, "requests/ec2-admin")).toBeUndefined(); // a tree, not a file
  });
});

describe("isAncestor", () => {
  it("answers yes and no, and throws when it cannot tell", async () => {
    expect(await isAncestor(dir, first, second)).toBe(true);
    expect(await isAncestor(dir, second, second)).toBe(true);
    expect(await isAncestor(dir, second, first)).toBe(false);
    expect(await isAncestor(dir, side, second)).toBe(false);
    await expect(isAncestor(dir, "f".repeat(40), second)).rejects.toThrow(/merge-base/);
  });

  it("gives the same answers through an open object reader, which answers parents itself", async () => {
    run("checkout", "-q", "-b", "merged", second);
    run("merge", "-q", "--no-ff", "-m", "merge side", side);
    const merge = run("rev-parse", "HEAD");
    const close = openObjectReader(dir);
    try {
      // Parents (both of a merge) and the commit itself: from the commit object.
      expect(await isAncestor(dir, second, merge)).toBe(true);
      expect(await isAncestor(dir, side, merge)).toBe(true);
      expect(await isAncestor(dir, merge, merge)).toBe(true);
      // A grandparent, and no relation at all: git's answer.
      expect(await isAncestor(dir, first, merge)).toBe(true);
      expect(await isAncestor(dir, merge, second)).toBe(false);
      expect(await isAncestor(dir, side, second)).toBe(false);
      await expect(isAncestor(dir, "f".repeat(40), second)).rejects.toThrow(/merge-base/);
      await expect(isAncestor(dir, second, "f".repeat(40))).rejects.toThrow(/merge-base/);
    } finally {
      close();
    }
  });
});

describe("commitSubjectIfOpen", () => {
  it("reads a commit's first message line through an open reader, and nothing without one", async () => {
    expect(await commitSubjectIfOpen(dir, second)).toBeUndefined();
    const close = openObjectReader(dir);
    try {
      expect(await commitSubjectIfOpen(dir, second)).toBe("two");
      expect(await commitSubjectIfOpen(dir, "f".repeat(40))).toBeUndefined();
    } finally {
      close();
    }
  });
});

describe("changedFiles", () => {
  it("lists every path a range changed, odd names included", async () => {
    expect(await changedFiles(dir, first, second)).toEqual([{ status: "A", path: GLOB }]);
  });
});

describe("the batch object reader (one git cat-file --batch for every read)", () => {
  /** Every read the grant makes, answered once per process and once through the batch reader. */
  async function answers(): Promise<unknown[]> {
    const revs = [first, second, side];
    const paths = [
      GLOB,
      LITERAL_MATCH,
      "requests/ec2-admin",
      "requests",
      "other.txt",
      "missing.yaml",
      "requests/ec2-admin/link.yaml",
      "requests/ec2-admin/nested/deep.yaml",
      "./other.txt",
      "requests//ec2-admin/a-x.yaml",
      "odd\nname.yaml",
    ];
    const out: unknown[] = [];
    // Errors are answers too: a missing revision fails both ways alike.
    const settle = <T>(p: Promise<T>) => p.catch((e: Error) => ({ error: e.message }));
    for (const rev of [...revs, "f".repeat(40), tagged]) {
      out.push(await commitExists(dir, rev));
      out.push(await settle(listFilesAt(dir, rev, "requests")));
      out.push(await settle(listFilesAt(dir, rev, "other.txt")));
      out.push(await settle(listFilesAt(dir, rev, "absent")));
      for (const path of paths) {
        out.push(await settle(blobIdAt(dir, rev, path)), (await readBytesAt(dir, rev, path))?.toString("hex"));
      }
    }
    return out;
  }
  let tagged: string;

  beforeAll(() => {
    run("checkout", "-q", "main");
    execFileSync("mkdir", ["-p", join(dir, "requests/ec2-admin/nested")]);
    writeFileSync(join(dir, "requests/ec2-admin/nested/deep.yaml"), Buffer.from([0xff, 0x00, 0x0a, 0x41]));
    execFileSync("ln", ["-s", "a-x.yaml", join(dir, "requests/ec2-admin/link.yaml")]);
    writeFileSync(join(dir, "odd\nname.yaml"), "odd\n");
    run("add", "-A");
    run("commit", "-q", "-m", "three");
    run("tag", "-a", "-m", "t", "v1");
    tagged = run("rev-parse", "v1");
  });

  it("answers exactly as one process per read, and falls back when closed", async () => {
    const perProcess = await answers();
    const close = openObjectReader(dir);
    let batched: unknown[];
    try {
      batched = await answers();
    } finally {
      close();
    }
    expect(batched).toEqual(perProcess);
    expect(await answers()).toEqual(perProcess);
    // The walk lists nested files, symlinks and binary files in ls-tree's order.
    expect(perProcess).toContainEqual([
      "requests/ec2-admin/[a]*?.yaml",
      "requests/ec2-admin/a-x.yaml",
      "requests/ec2-admin/link.yaml",
      "requests/ec2-admin/nested/deep.yaml",
    ]);
  });
});
