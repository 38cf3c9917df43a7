/**
 * `elevate request ROLE --duration D --reason R [--ticket T] [--start ISO]`
 * (README.md "CLI"): writes `requests/<role>/<id>.yaml` for the current GitHub
 * user, after validating it with the same `validateRequest` the PR check and
 * the grant use, so a file this command writes is one the grant accepts (as
 * far as anything but the approvals goes).
 *
 * Every subprocess (git, gh) is started with execFile and an argv array, never
 * through a shell: the reason and the ticket are user text and must not be
 * able to run anything.
 */
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { parse as parseYaml, Scalar, Document as YamlDocument } from "yaml";
import { defaultBranch } from "../adapters/git.js";
import { listRequestFiles } from "../adapters/repo.js";
import { DEFAULT_CONFIG_PATH, findUser, GITHUB_LOGIN } from "../domain/config.js";
import { formatLocatedError, type LocatedError, quote, UserInputError } from "../domain/errors.js";
import { REQUEST_KEYS, type RequestKey, ticketRequiredMessage, validateRequest } from "../domain/request.js";
import { REQUEST_ID, REQUESTS_DIR } from "../domain/request-path.js";
import { parseStrictYaml } from "../domain/strict-yaml.js";
import type { CommandIo, CommandOutcome } from "./command-io.js";
import { loadWorkspaceConfig, openWorkspace } from "./validate.js";

/** How to tell Elevate who you are, printed when no login can be found. */
export const NO_LOGIN_MESSAGE =
  "no GitHub login found: pass --requester YOUR_LOGIN, sign in with `gh auth login`, or run `git config --global github.user YOUR_LOGIN`";

export const DIRTY_TREE_MESSAGE =
  "--open-pr needs a clean working tree (git status --porcelain is not empty); commit or stash your changes first, or run without --open-pr";

// --- Subprocesses ------------------------------------------------------------------------------

interface ProcessResult {
  ok: boolean;
  /** The program is not installed (ENOENT). */
  missing: boolean;
  stdout: string;
  stderr: string;
}

/** Runs a program with an argv array (no shell) and never throws. */
function runProgram(
  program: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<ProcessResult> {
  return new Promise((resolvePromise) => {
    execFile(
      program,
      [...args],
      {
        cwd: options.cwd,
        env: { ...options.env, GIT_TERMINAL_PROMPT: "0", GH_PROMPT_DISABLED: "1" },
        encoding: "utf8",
        maxBuffer: 16 * 1024 * 1024,
        timeout: options.timeoutMs ?? 60_000,
      },
      (error, stdout, stderr) => {
        const code = (error as NodeJS.ErrnoException | null)?.code;
        resolvePromise({ ok: !error, missing: code === "ENOENT", stdout, stderr: stderr || (error?.message ?? "") });
      },
    );
  });
}

// --- Requester --------------------------------------------------------------------------------

export type RequesterSource = "--requester" | "gh" | "git config github.user";

/**
 * The requester's GitHub login: `--requester`, else the account `gh` is signed
 * in to (`gh api user`, https://cli.github.com/manual/gh_api), else
 * `git config github.user` (the convention hub and other tools use).
 */
export async function resolveRequester(input: {
  flag: string | undefined;
  cwd: string;
  env: NodeJS.ProcessEnv;
}): Promise<{ login: string; source: RequesterSource } | undefined> {
  if (input.flag !== undefined) return { login: input.flag, source: "--requester" };
  const gh = await runProgram("gh", ["api", "user", "--jq", ".login"], {
    cwd: input.cwd,
    env: input.env,
    timeoutMs: 20_000,
  });
  const ghLogin = gh.stdout.trim();
  if (gh.ok && GITHUB_LOGIN.test(ghLogin)) return { login: ghLogin, source: "gh" };
  const configured = await runProgram("git", ["config", "--get", "github.user"], { cwd: input.cwd, env: input.env });
  const gitLogin = configured.stdout.trim();
  if (configured.ok && GITHUB_LOGIN.test(gitLogin)) return { login: gitLogin, source: "git config github.user" };
  return undefined;
}

// --- Request ids ------------------------------------------------------------------------------

const ID_SUFFIX_CHARS = 4;

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * A readable id: `<login>-<role>-<yyyymmdd>-<4 random base36>`, lower-cased,
 * with the login and role part cut so the whole fits `REQUEST_ID` (at most 63).
 * The date is the UTC day the request is written.
 */
export function generateRequestId(input: { login: string; role: string; now: Date; random: () => number }): string {
  let suffixChars = "";
  for (let i = 0; i < ID_SUFFIX_CHARS; i++) suffixChars += Math.floor(input.random() * 36).toString(36);
  const day = input.now.toISOString().slice(0, 10).replace(/-/g, "");
  const suffix = `-${day}-${suffixChars}`;
  const head = slug(`${input.login}-${input.role}`)
    .slice(0, 63 - suffix.length)
    .replace(/-+$/, "");
  const id = `${head || "request"}${suffix}`;
  if (!REQUEST_ID.test(id))
    throw new Error(`generateRequestId produced ${JSON.stringify(id)}, which breaks the id rule`);
  return id;
}

// --- YAML -------------------------------------------------------------------------------------

export interface RequestFields {
  requester: string;
  role: string;
  duration: string;
  reason: string;
  ticket?: string | undefined;
  start?: string | undefined;
}

/**
 * True when `text` written as a plain YAML scalar reads back as exactly the
 * same string under both YAML 1.2 (core schema) and YAML 1.1, whose booleans
 * (`on`, `yes`), octals (`0123`) and timestamps other tools still apply
 * (https://yaml.org/type/bool.html). Anything else is double-quoted.
 */
function staysStringWhenPlain(text: string): boolean {
  if (text === "" || text !== text.trim()) return false;
  for (const version of ["1.1", "1.2"] as const) {
    try {
      if (parseYaml(text, { version, logLevel: "error" }) !== text) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * The request file's text. Field order follows docs/request-file.md; every value is a
 * string, plain where that is unambiguous and double-quoted otherwise. The
 * output is loaded back with the strict loader and compared field by field,
 * so a quoting mistake can never write a file that means something else.
 */
export function requestYaml(fields: RequestFields): string {
  const ordered: [string, string][] = [
    ["requester", fields.requester],
    ["role", fields.role],
    ["duration", fields.duration],
    ["reason", fields.reason],
  ];
  if (fields.ticket !== undefined) ordered.push(["ticket", fields.ticket]);
  if (fields.start !== undefined) ordered.push(["start", fields.start]);
  const document = new YamlDocument({});
  for (const [key, value] of ordered) {
    const scalar = new Scalar(value);
    scalar.type = staysStringWhenPlain(value) ? Scalar.PLAIN : Scalar.QUOTE_DOUBLE;
    document.set(key, scalar);
  }
  const text = document.toString({ lineWidth: 0 });
  const check = parseStrictYaml(text);
  const loaded = check.ok ? check.document.value : undefined;
  const same =
    loaded !== undefined &&
    loaded !== null &&
    typeof loaded === "object" &&
    !Array.isArray(loaded) &&
    Object.keys(loaded).length === ordered.length &&
    ordered.every(([key, value]) => loaded[key] === value);
  if (!same) {
    throw new Error(`requestYaml: the written YAML does not load back to the same fields:\n${text}`);
  }
  return text;
}

// --- Shell text for instructions ----------------------------------------------------------------

/** POSIX shell single-quoting, for commands we print (never run) for the user to copy. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

function commandLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}

/** `https://github.com/OWNER/REPO` for a GitHub remote URL (https, ssh or scp-like), else undefined. */
export function githubWebUrl(remoteUrl: string): string | undefined {
  const url = remoteUrl.trim();
  const scp = /^(?:[\w.-]+@)?([\w.-]+):(?!\/)([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/.exec(url);
  const full = /^(?:https?|ssh|git):\/\/(?:[^@/]+@)?([\w.-]+)(?::\d+)?\/([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/.exec(url);
  const match = full ?? scp;
  if (!match) return undefined;
  const [, host, owner, repo] = match;
  return `https://${host}/${owner}/${repo}`;
}

// --- The command ------------------------------------------------------------------------------

/** What `elevate request` was asked for (argv already parsed). */
export interface RequestOptions {
  role: string;
  duration: string;
  reason: string;
  ticket?: string | undefined;
  start?: string | undefined;
  requester?: string | undefined;
  /** `--id`: the request id to use instead of a generated one. */
  id?: string | undefined;
  /** `--config`, relative to the current directory. */
  config?: string | undefined;
  openPr?: boolean;
  dryRun?: boolean;
}

/** The command-line spelling of each request field, for errors in the terms the user typed. */
const FIELD_FLAGS: Record<RequestKey, string> = {
  requester: "--requester",
  role: "ROLE",
  duration: "--duration",
  reason: "--reason",
  ticket: "--ticket",
  start: "--start",
};

/**
 * Restates the validator's errors about the file `request` generated in the
 * terms of its command line: `--duration -1h: duration "-1h" has a sign …`
 * rather than a line and column in a file that was never written. The file
 * has one key per line in `fields` order, so an error's line names its field;
 * errors about the file as a whole (its path) are about the role or the id.
 */
export function flagTermErrors(input: {
  errors: readonly LocatedError[];
  keys: readonly RequestKey[];
  values: Partial<Record<RequestKey, string | undefined>>;
  requesterSource: RequesterSource;
  role: string;
  idFlag: boolean;
}): string[] {
  return input.errors.map((error) => {
    const key = error.col > 1 ? input.keys[error.line - 1] : undefined;
    if (key === undefined) {
      if (error.message === ticketRequiredMessage(input.role)) {
        return `--ticket: role ${quote(input.role)} requires a ticket; pass e.g. --ticket INC-1234`;
      }
      return `${input.idFlag ? "ROLE or --id" : "ROLE"}: ${error.message}`;
    }
    const value = input.values[key];
    let label = FIELD_FLAGS[key];
    if (key === "requester" && input.requesterSource !== "--requester") {
      label = `your login from ${input.requesterSource} (or --requester)`;
    } else if (key !== "reason" && value !== undefined) {
      label = `${label} ${shellQuote(value)}`;
    }
    return `${label}: ${error.message}`;
  });
}

/** Why `--open-pr` cannot work here (checked before anything is touched), or undefined when it can. */
async function openPrObstacle(proc: { cwd: string; env: NodeJS.ProcessEnv }): Promise<string | undefined> {
  // `git var` applies the same strict rule as `git commit`, env (GIT_AUTHOR_*, EMAIL) and config alike.
  for (const ident of ["GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"]) {
    const who = await runProgram("git", ["var", ident], proc);
    if (!who.ok) {
      return '--open-pr commits, and git does not know who you are; run `git config --global user.name "Your Name"` and `git config --global user.email you@example.com`, or run without --open-pr';
    }
  }
  const status = await runProgram("git", ["status", "--porcelain"], proc);
  if (!status.ok) return `git status failed: ${status.stderr.trim()}`;
  if (status.stdout.trim() !== "") return DIRTY_TREE_MESSAGE;
  const remote = await runProgram("git", ["remote", "get-url", "origin"], proc);
  if (!remote.ok)
    return "--open-pr pushes to the remote origin, and this clone has none; add it (git remote add origin URL) or run without --open-pr";
  return undefined;
}

/** Runs `elevate request`: `ok` written (or printed), `problems` invalid request, `failed` usage or environment error. */
export async function runRequest(options: RequestOptions, io: CommandIo): Promise<CommandOutcome> {
  const proc = { cwd: io.cwd, env: io.env };
  if (options.openPr && options.dryRun) throw new UserInputError("--dry-run and --open-pr cannot be combined");
  if (options.id !== undefined && !REQUEST_ID.test(options.id)) {
    throw new UserInputError(
      `--id ${shellQuote(options.id)}: a request id is 3 to 63 lower-case letters, digits and dashes, starting with a letter or digit`,
    );
  }

  const workspace = await openWorkspace(io.cwd);
  if (!workspace.inGit) {
    io.stderr(
      `${PROGRAM_REQUEST}: ${io.cwd} is not inside a git repository; run it in a clone of the repository that holds ${DEFAULT_CONFIG_PATH}\n`,
    );
    return "failed";
  }
  // Everything --open-pr needs is checked before anything is written.
  if (options.openPr) {
    const obstacle = await openPrObstacle(proc);
    if (obstacle) {
      io.stderr(`${PROGRAM_REQUEST}: ${obstacle}; nothing was written\n`);
      return "failed";
    }
  }
  const loaded = await loadWorkspaceConfig(workspace, options.config);
  if (!loaded.ok) {
    for (const e of loaded.errors) io.stderr(`${formatLocatedError(e)}\n`);
    io.stderr(`${PROGRAM_REQUEST}: the config is invalid or missing; nothing was written\n`);
    return "failed";
  }
  const { config } = loaded;

  const found = await resolveRequester({ flag: options.requester, cwd: io.cwd, env: io.env });
  if (!found) {
    io.stderr(`${PROGRAM_REQUEST}: ${NO_LOGIN_MESSAGE}\n`);
    return "failed";
  }
  if (!GITHUB_LOGIN.test(found.login)) {
    throw new UserInputError(`--requester ${JSON.stringify(found.login)} is not a GitHub login`);
  }
  // Written as listed in the config when listed (logins ignore case; the file then matches the config verbatim).
  const requester = findUser(config, found.login)?.login ?? found.login;

  const now = io.now();
  const random = io.random ?? Math.random;
  const onDisk = await listRequestFiles(workspace.root);
  const idOf = (path: string) => /([^/]+)\.ya?ml$/.exec(path)?.[1];
  const taken = new Set(onDisk.flatMap((path) => idOf(path) ?? []));
  let id: string;
  if (options.id !== undefined) {
    if (taken.has(options.id)) {
      const holder = onDisk.find((path) => idOf(path) === options.id);
      io.stderr(
        `${PROGRAM_REQUEST}: --id ${options.id}: the id is already used by ${holder}; ids are unique across requests/, pick another (or leave out --id)\n`,
      );
      return "failed";
    }
    id = options.id;
  } else {
    id = generateRequestId({ login: requester, role: options.role, now, random });
    for (let attempt = 1; taken.has(id); attempt++) {
      if (attempt >= 20) {
        io.stderr(`${PROGRAM_REQUEST}: could not find an unused request id after 20 attempts; pass one with --id\n`);
        return "failed";
      }
      id = generateRequestId({ login: requester, role: options.role, now, random });
    }
  }

  const repoPath = `${REQUESTS_DIR}/${options.role}/${id}.yaml`;
  const absolutePath = join(workspace.root, ...repoPath.split("/"));
  const shownPath = toPosix(relative(io.cwd, absolutePath));
  const fields: RequestFields = {
    requester,
    role: options.role,
    duration: options.duration,
    reason: options.reason,
    ticket: options.ticket,
    start: options.start,
  };
  const text = requestYaml(fields);

  // validateRequest refuses a role that is not a plain folder name, so nothing below can write outside requests/.
  const validated = validateRequest({ text, path: repoPath, file: shownPath, config, author: requester, now });
  const problems = flagTermErrors({
    errors: validated.errors,
    keys: REQUEST_KEYS.filter((key) => fields[key] !== undefined),
    values: fields,
    requesterSource: found.source,
    role: options.role,
    idFlag: options.id !== undefined,
  });
  if (problems.length > 0 || !validated.request) {
    for (const problem of problems) io.stderr(`${PROGRAM_REQUEST}: ${problem}\n`);
    io.stderr(
      `${PROGRAM_REQUEST}: the request is invalid (${problems.length} error${problems.length === 1 ? "" : "s"}); nothing was written\n`,
    );
    return "problems";
  }

  if (options.dryRun) {
    io.stderr(`${PROGRAM_REQUEST}: dry run: would write ${shownPath}\n`);
    io.stdout(text);
    return "ok";
  }

  const branch = `elevate/${id}`;
  const base = await defaultBranch(io.cwd);
  if (options.openPr) {
    // A request PR must add only its file: branch from the default branch, not from whatever is checked out.
    const created = await runProgram("git", ["checkout", "-q", "-b", branch, ...(base ? [base] : [])], proc);
    if (!created.ok) {
      io.stderr(
        `${PROGRAM_REQUEST}: could not create branch ${branch}${base ? ` from ${base}` : ""}: ${created.stderr.trim()}; nothing was written\n`,
      );
      return "failed";
    }
  }

  // Suggested only where it would have worked: checked before this run dirties the tree.
  const openPrWouldWork = !options.openPr && (await openPrObstacle(proc)) === undefined;
  await mkdir(dirname(absolutePath), { recursive: true });
  await writeFile(absolutePath, text, { flag: "wx" });
  io.stdout(`wrote ${shownPath}\n`);

  const title = `Elevate request: ${options.role} for ${validated.request.duration} (${id})`;
  const body = pullRequestBody({ repoPath, fields: validated.request, start: options.start });
  if (!options.openPr) {
    io.stdout(
      [
        "",
        "Next: open a pull request that adds only this file:",
        `  ${commandLine(["git", "switch", "-c", branch, ...(base ? [base] : [])])}`,
        `  ${commandLine(["git", "add", "--", repoPath])}`,
        `  ${commandLine(["git", "commit", "-m", title, "--", repoPath])}`,
        `  ${commandLine(["git", "push", "-u", "origin", branch])}`,
        `  ${commandLine(["gh", "pr", "create", "--head", branch, "--title", title, "--body", body])}`,
        ...(openPrWouldWork ? ["(Next time, --open-pr does these steps for you.)"] : []),
        "",
      ].join("\n"),
    );
    return "ok";
  }
  return openPullRequest({ io, proc, repoPath, branch, title, body, reason: options.reason });
}

const PROGRAM_REQUEST = "elevate request";

function toPosix(path: string): string {
  return path.split(sep).join("/");
}

function pullRequestBody(input: {
  repoPath: string;
  fields: { role: string; duration: string; reason: string; ticket?: string; iamUser: string };
  start: string | undefined;
}): string {
  const { fields } = input;
  return [
    `Temporary access to role \`${fields.role}\` for ${fields.duration} as IAM user \`${fields.iamUser}\`.`,
    "",
    `- Request: \`${input.repoPath}\``,
    `- Reason: ${fields.reason}`,
    `- Ticket: ${fields.ticket ?? "none"}`,
    `- Start: ${input.start ?? "at merge"}`,
    "",
    "Created with `npx elevate request`. The role's code owners approve; the grant runs when this is merged.",
  ].join("\n");
}

async function openPullRequest(input: {
  io: CommandIo;
  proc: { cwd: string; env: NodeJS.ProcessEnv };
  repoPath: string;
  branch: string;
  title: string;
  body: string;
  reason: string;
}): Promise<CommandOutcome> {
  const { io, proc, repoPath, branch, title, body } = input;
  const add = await runProgram("git", ["add", "--", repoPath], proc);
  const commit = add.ok
    ? await runProgram("git", ["commit", "-q", "-m", title, "-m", `Reason: ${input.reason}`, "--", repoPath], proc)
    : add;
  if (!commit.ok) {
    io.stderr(
      `elevate request: could not commit ${repoPath} on ${branch}: ${commit.stderr.trim()}\nThe file is written and you are on branch ${branch}; commit it yourself, then push and open the PR.\n`,
    );
    return "failed";
  }
  io.stdout(`committed ${repoPath} on new branch ${branch} (git switch - returns to your previous branch)\n`);

  const push = ["git", "push", "-u", "origin", branch];
  const prCreate = ["gh", "pr", "create", "--head", branch, "--title", title, "--body", body];
  const gh = await runProgram("gh", ["--version"], proc);
  if (gh.missing || !gh.ok) {
    const remote = await runProgram("git", ["remote", "get-url", "origin"], proc);
    const web = remote.ok ? githubWebUrl(remote.stdout) : undefined;
    io.stdout(
      [
        "gh (GitHub CLI) is not installed; push the branch and open the pull request yourself:",
        `  ${commandLine(push)}`,
        web
          ? `  then open ${web}/compare/${encodeURIComponent(branch).replace(/%2F/g, "/")}?expand=1`
          : `  ${commandLine(prCreate)}`,
        "",
      ].join("\n"),
    );
    return "ok";
  }
  const pushed = await runProgram(push[0] as string, push.slice(1), { ...proc, timeoutMs: 120_000 });
  if (!pushed.ok) {
    io.stderr(
      `elevate request: ${commandLine(push)} failed: ${pushed.stderr.trim()}\nThe request is committed on ${branch}; once the push works, run:\n  ${commandLine(push)}\n  ${commandLine(prCreate)}\n`,
    );
    return "failed";
  }
  const pr = await runProgram(prCreate[0] as string, prCreate.slice(1), { ...proc, timeoutMs: 120_000 });
  if (!pr.ok) {
    io.stderr(
      `elevate request: ${commandLine(prCreate.slice(0, 3))} failed: ${pr.stderr.trim()}\nThe branch ${branch} is pushed; open the pull request with:\n  ${commandLine(prCreate)}\n`,
    );
    return "failed";
  }
  io.stdout(`opened ${pr.stdout.trim()}\n`);
  return "ok";
}
