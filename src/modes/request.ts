/**
 * `elevate request ROLE --duration D --reason R [--ticket T] [--start ISO]`
 * (README.md "CLI"): writes `requests/<role>/<id>.yaml` for the current GitHub
 * user, after validating it with the same `validateRequest` the PR check and
 * the grant use, so a file this command writes is one the grant accepts (as
 * far as anything but the approvals goes).
 *
 * Every subprocess (git, gh) is started through runProgram
 * (src/adapters/program.ts), never through a shell: the reason and the ticket
 * are user text and must not be able to run anything. The parts: who is asking
 * (./requester.ts), the file's id and text (src/domain/request-yaml.ts), and
 * `--open-pr` (./request-pull-request.ts).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { defaultBranch } from "../adapters/git.js";
import { runProgram } from "../adapters/program.js";
import { listRequestFiles } from "../adapters/repo.js";
import { DEFAULT_CONFIG_PATH, findUser, GITHUB_LOGIN } from "../domain/config.js";
import { formatLocatedError, type LocatedError, quote, UserInputError } from "../domain/errors.js";
import { REQUEST_KEYS, type RequestKey, ticketRequiredMessage, validateRequest } from "../domain/request.js";
import { REQUEST_ID, REQUESTS_DIR } from "../domain/request-path.js";
import { generateRequestId, type RequestFields, requestYaml } from "../domain/request-yaml.js";
import { commandLine, shellQuote } from "../domain/shell-text.js";
import type { CommandIo, CommandOutcome } from "./command-io.js";
import { openPrObstacle, openPullRequest, pullRequestBody } from "./request-pull-request.js";
import { NO_LOGIN_MESSAGE, type RequesterSource, resolveRequester } from "./requester.js";
import { loadWorkspaceConfig, openWorkspace } from "./validate.js";

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
