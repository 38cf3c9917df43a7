/**
 * The people-facing docs stay true:
 *   - every `npx elevate …` command in a ```sh block of docs/ runs, as written, in a
 *     fresh repository seeded with the example config and request, with the exit
 *     status it documents (0 unless the line ends in `# exit N`); `init` runs in an
 *     empty repository, and `doctor` in the one the documented `init` wrote, with the
 *     describe-stacks JSON the docs save as stack.json;
 *   - every troubleshooting entry quotes a message that exists in src/;
 *   - relative links between the docs point at files that exist.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { git, makeRepo, makeSandbox, runCli, type Sandbox, useSandboxEnvironment } from "../e2e/cli-request-support.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DOCS = join(ROOT, "docs");
const PEOPLE_DOCS = [
  "adoption.md",
  "requester.md",
  "approver.md",
  "threat-model.md",
  "troubleshooting.md",
  "config.md",
  "request-file.md",
];
/** Commands an adopter runs in a new access repository rather than in a clone of this one. */
const ACCESS_REPOSITORY_COMMANDS = new Set(["init", "doctor"]);
const EXAMPLE_REQUEST = "requests/ec2-admin/resize-web-asg.yaml";

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((p) => p.endsWith(".md"))
    .map((p) => join(dir, p));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((p) => p.endsWith(".ts"))
    .map((p) => join(dir, p));
}

/** Splits one shell command line into words: single and double quotes, backslash escapes; stops at `#` and `>`. */
function shellWords(line: string): { words: string[]; comment: string } {
  const words: string[] = [];
  let word: string | undefined;
  let i = 0;
  while (i < line.length) {
    const ch = line[i] as string;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${line}`);
      word = (word ?? "") + line.slice(i + 1, end);
      i = end + 1;
    } else if (ch === '"') {
      let j = i + 1;
      let text = "";
      while (j < line.length && line[j] !== '"') {
        if (line[j] === "\\" && /["\\$`]/.test(line[j + 1] ?? "")) j++;
        if (line[j] === "$" || line[j] === "`") throw new Error(`expansion in a documented command: ${line}`);
        text += line[j];
        j++;
      }
      if (j >= line.length) throw new Error(`unterminated " in: ${line}`);
      word = (word ?? "") + text;
      i = j + 1;
    } else if (ch === "\\") {
      word = (word ?? "") + (line[i + 1] ?? "");
      i += 2;
    } else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      i++;
    } else if ((ch === "#" && word === undefined) || ch === ">" || ch === "|" || ch === ";" || ch === "&") {
      if (word !== undefined) words.push(word);
      return { words, comment: line.slice(i) };
    } else {
      word = (word ?? "") + ch;
      i++;
    }
  }
  if (word !== undefined) words.push(word);
  return { words, comment: "" };
}

interface DocumentedCommand {
  file: string;
  line: string;
  argv: string[];
  expectedExit: number;
}

/** `npx elevate …` lines of every ```sh block (continuation lines joined). */
function documentedCommands(): DocumentedCommand[] {
  const commands: DocumentedCommand[] = [];
  for (const file of markdownFiles(DOCS)) {
    const text = readFileSync(file, "utf8");
    for (const block of text.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```/gm)) {
      const lines = (block[1] as string).replace(/\\\n\s*/g, " ").split("\n");
      for (const line of lines) {
        if (!/^\s*npx elevate\b/.test(line)) continue;
        const { words, comment } = shellWords(line.trim());
        const exit = /#\s*exit\s+(\d)\b/.exec(comment);
        commands.push({
          file: file.slice(ROOT.length + 1),
          line: line.trim(),
          argv: words.slice(2),
          expectedExit: exit ? Number(exit[1]) : 0,
        });
      }
    }
  }
  return commands;
}

let sandbox: Sandbox;
let counter = 0;
beforeAll(() => {
  sandbox = makeSandbox();
  useSandboxEnvironment(sandbox);
});

/** A repository like a fresh clone (an origin remote): the example config and request committed, the user's login configured. */
function seededRepo(): string {
  counter += 1;
  const repo = makeRepo(sandbox, `docs-${counter}`);
  mkdirSync(join(repo, dirname(EXAMPLE_REQUEST)), { recursive: true });
  copyFileSync(join(ROOT, EXAMPLE_REQUEST), join(repo, EXAMPLE_REQUEST));
  git(repo, ["add", EXAMPLE_REQUEST], sandbox.env);
  git(repo, ["commit", "-q", "-m", "Merge pull request #1 from alice/resize"], sandbox.env);
  git(repo, ["config", "github.user", "alice"], sandbox.env);
  const origin = join(sandbox.dir, `docs-${counter}-origin.git`);
  git(sandbox.dir, ["init", "-q", "--bare", origin], sandbox.env);
  git(repo, ["remote", "add", "origin", origin], sandbox.env);
  git(repo, ["push", "-q", "-u", "origin", "main"], sandbox.env);
  return repo;
}

/** What `aws cloudformation describe-stacks --output json` prints for a stack of infra/template.yaml. */
function describeStacksJson(): string {
  const outputs = {
    Region: "ap-northeast-1",
    AccountId: "123456789012",
    GrantRoleArn: "arn:aws:iam::123456789012:role/elevate-grant",
    RevokeRoleArn: "arn:aws:iam::123456789012:role/elevate-revoke",
    AutomationRoleArn: "arn:aws:iam::123456789012:role/elevate-automation",
    GrantDocumentName: "Elevate-Grant",
    RevokeDocumentName: "Elevate-Revoke",
  };
  const Outputs = Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue }));
  return JSON.stringify({ Stacks: [{ StackName: "elevate", Outputs }] });
}

/** An empty access repository (with the saved stack outputs); for `doctor`, after the documented `init`. */
async function accessRepo(command: DocumentedCommand): Promise<string> {
  counter += 1;
  const repo = join(sandbox.dir, `access-${counter}`);
  mkdirSync(repo, { recursive: true });
  git(repo, ["init", "-q", "-b", "main"], sandbox.env);
  writeFileSync(join(repo, "stack.json"), describeStacksJson());
  if (command.argv[0] === "doctor") {
    const init = documentedCommands().find((c) => c.argv[0] === "init");
    if (!init) throw new Error("the docs run doctor but document no init");
    const run = await runCli(init.argv, repo);
    if (run.code !== 0) throw new Error(`${init.line}: ${run.stderr}`);
  }
  return repo;
}

describe("people docs", () => {
  it("exist", () => {
    for (const name of PEOPLE_DOCS) expect(existsSync(join(DOCS, name)), name).toBe(true);
  });

  const commands = documentedCommands();

  it("document the request and audit commands", () => {
    const names = new Set(commands.map((c) => c.argv[0]));
    expect(names).toContain("request");
    expect(names).toContain("audit");
    expect(commands.length).toBeGreaterThanOrEqual(8);
  });

  it.each(commands.map((c) => [`${c.file}: ${c.line}`, c] as const))("%s", async (_name, command) => {
    const repo = ACCESS_REPOSITORY_COMMANDS.has(command.argv[0] ?? "") ? await accessRepo(command) : seededRepo();
    const run = await runCli(command.argv, repo);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(command.expectedExit);
  });
});

describe("troubleshooting", () => {
  // The runbooks' own refusals are messages people read too (in the failed execution).
  const runbooks = readdirSync(join(ROOT, "infra/runbooks"))
    .filter((name) => name.endsWith(".yaml"))
    .map((name) => join(ROOT, "infra/runbooks", name));
  const sources = [...sourceFiles(join(ROOT, "src")), ...runbooks].map((file) => readFileSync(file, "utf8"));
  const text = readFileSync(join(DOCS, "troubleshooting.md"), "utf8");
  const entries = [...text.matchAll(/^### `(.+)`$/gm)].map((m) => m[1] as string);

  it("has entries", () => {
    expect(entries.length).toBeGreaterThanOrEqual(15);
  });

  it.each(entries)("quotes a real message: %s", (message) => {
    expect(sources.some((source) => source.includes(message))).toBe(true);
  });
});

describe("links between the docs", () => {
  it("point at files that exist", () => {
    for (const name of PEOPLE_DOCS) {
      const file = join(DOCS, name);
      const text = readFileSync(file, "utf8");
      for (const match of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        const target = match[1] as string;
        if (/^[a-z]+:/.test(target)) continue;
        expect(existsSync(resolve(dirname(file), target)), `${name} → ${target}`).toBe(true);
      }
    }
  });
});
