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
import { blobIdAt, changedFiles, isAncestor } from "../../src/adapters/git.js";

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
});

describe("changedFiles", () => {
  it("lists every path a range changed, odd names included", async () => {
    expect(await changedFiles(dir, first, second)).toEqual([{ status: "A", path: GLOB }]);
  });
});
