/**
 * `elevate audit [--format md|json|csv] [--since DATE] [--until DATE]`
 * (docs/requester.md "What the record shows"): the audit log rebuilt from git alone.
 *
 * Three git processes whatever the size of the history, so 10,000 requests
 * take about as long as git needs to print them:
 *   1. `git log` over `requests/` (first parent, name-status, NUL-separated);
 *   2. `git notes --ref=refs/notes/elevate list`;
 *   3. one `git cat-file --batch` reading every note and every added request file.
 */
import { execFile } from "node:child_process";
import { NOTES_REF } from "../adapters/git.js";
import { AUDIT_FORMATS, type AuditFormat, formatAuditRows } from "../domain/audit-format.js";
import {
  auditLogArgs,
  collectEvidence,
  parseAuditLog,
  parseCatFileBatch,
  parseNotesList,
} from "../domain/audit-git-output.js";
import { type AuditRow, addedBlobIds, buildAuditRows, filterAuditRows, parseAuditDate } from "../domain/audit-log.js";
import { UserInputError } from "../domain/errors.js";
import type { CommandIo, CommandOutcome } from "./command-io.js";

/** Printed when the evidence notes are absent (a fresh clone does not fetch them). */
export const FETCH_NOTES_HINT = `git fetch origin ${NOTES_REF}:${NOTES_REF}`;

export const NO_NOTES_MESSAGE = `no grant evidence found (${NOTES_REF} is missing or empty), so approvers, windows and results are blank`;

class GitCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
  ) {
    super(`git ${args.join(" ")} failed: ${stderr.trim()}`);
  }
}

/** git with an argv array (no shell), bytes out, optional bytes in. */
function gitBytes(cwd: string, env: NodeJS.ProcessEnv, args: readonly string[], input?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      [...args],
      {
        cwd,
        env: { ...env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
        encoding: "buffer",
        maxBuffer: 2 * 1024 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) reject(new GitCommandError(args, stderr.toString("utf8") || error.message));
        else resolve(stdout);
      },
    );
    child.stdin?.on("error", () => {
      // git exited before reading all input; the exit callback reports why.
    });
    child.stdin?.end(input ?? "");
  });
}

export interface AuditHistory {
  rows: AuditRow[];
  /** False when the notes ref is absent or empty (a clone that did not fetch it). */
  notesFound: boolean;
}

/** Reads the branch's request history and evidence notes and assembles the rows (oldest first). */
export async function readAuditHistory(topLevel: string, env: NodeJS.ProcessEnv): Promise<AuditHistory> {
  let logOutput: string;
  try {
    logOutput = (await gitBytes(topLevel, env, auditLogArgs())).toString("utf8");
  } catch (error) {
    // A repository without commits has no history to audit.
    if (error instanceof GitCommandError && /does not have any commits|bad default revision/.test(error.stderr)) {
      return { rows: [], notesFound: false };
    }
    throw error;
  }
  const commits = parseAuditLog(logOutput);
  const notes = parseNotesList((await gitBytes(topLevel, env, ["notes", `--ref=${NOTES_REF}`, "list"])).toString());
  const blobIds = addedBlobIds(commits);
  const names = [...notes.map((n) => n.note), ...blobIds];
  const objects =
    names.length === 0
      ? []
      : parseCatFileBatch(
          await gitBytes(topLevel, env, ["cat-file", "--batch"], `${names.join("\n")}\n`),
          names.length,
        );
  const decoder = new TextDecoder();
  const noteTexts: string[] = [];
  const texts = new Map<string, string>();
  names.forEach((name, index) => {
    const bytes = objects[index];
    if (bytes === undefined) return;
    if (index < notes.length) noteTexts.push(decoder.decode(bytes));
    else texts.set(name, decoder.decode(bytes));
  });
  return {
    rows: buildAuditRows({ commits, evidence: collectEvidence(noteTexts), texts }),
    notesFound: notes.length > 0,
  };
}

export interface AuditOptions {
  format?: AuditFormat | undefined;
  /** `--since` / `--until` as typed: YYYY-MM-DD (UTC) or RFC 3339. */
  since?: string | undefined;
  until?: string | undefined;
}

/** Runs `elevate audit`: `ok` printed, `failed` not a git repository or git failed. */
export async function runAudit(options: AuditOptions, io: CommandIo): Promise<CommandOutcome> {
  const format = options.format ?? "md";
  if (!AUDIT_FORMATS.includes(format)) {
    throw new UserInputError(`--format must be one of ${AUDIT_FORMATS.join(", ")}, not ${JSON.stringify(format)}`);
  }
  const range: { since?: Date; until?: Date } = {};
  for (const bound of ["since", "until"] as const) {
    const text = options[bound];
    if (text === undefined) continue;
    const parsed = parseAuditDate(text, bound);
    if (!parsed.ok) throw new UserInputError(parsed.message);
    range[bound] = parsed.date;
  }
  if (range.since && range.until && range.since > range.until) {
    throw new UserInputError(`--since ${options.since} is after --until ${options.until}`);
  }

  let topLevel: string;
  try {
    topLevel = (await gitBytes(io.cwd, io.env, ["rev-parse", "--show-toplevel"])).toString("utf8").replace(/\n$/, "");
  } catch {
    io.stderr(
      `${PROGRAM_AUDIT}: ${io.cwd} is not inside a git repository; run it in a clone of the Elevate repository\n`,
    );
    return "failed";
  }

  let history: AuditHistory;
  try {
    history = await readAuditHistory(topLevel, io.env);
  } catch (error) {
    io.stderr(`${PROGRAM_AUDIT}: ${(error as Error).message}\n`);
    return "failed";
  }
  const rows = filterAuditRows(history.rows, range);
  io.stdout(formatAuditRows(rows, format));
  if (history.rows.length > 0 && !history.notesFound) {
    io.stderr(`${PROGRAM_AUDIT}: ${NO_NOTES_MESSAGE}; fetch them with:\n  ${FETCH_NOTES_HINT}\n`);
  } else {
    const missing = rows.filter((row) => row.status === "no-evidence").length;
    if (missing > 0) {
      io.stderr(
        `${PROGRAM_AUDIT}: ${missing} request(s) have no grant evidence (not granted yet, the grant workflow did not run, or your notes are stale: ${FETCH_NOTES_HINT})\n`,
      );
    }
  }
  return "ok";
}

const PROGRAM_AUDIT = "elevate audit";
