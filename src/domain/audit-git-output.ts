/**
 * What `elevate audit` asks git for, and the parsers for what git printed:
 * the first-parent history of `requests/`, the evidence notes list, and a
 * `git cat-file --batch` of notes and request files. Pure: the mode
 * (modes/audit.ts) runs the processes; ./audit-log.ts assembles the rows.
 */
import { type GrantEvidence, parseEvidenceNote } from "./grant-report.js";
import { REQUESTS_DIR } from "./request-path.js";

/**
 * Every field NUL-terminated: NUL is the one byte git never puts in a commit
 * message, a name or an e-mail address, so a hostile commit message cannot
 * forge fields or rows. The message (%B) is last; its field count is fixed.
 * Placeholders: https://git-scm.com/docs/pretty-formats
 */
export const AUDIT_LOG_FORMAT = "%H%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B%x00";
const FIELDS_PER_COMMIT = 9;

/**
 * One `git log` over `requests/` of the current branch. `--first-parent` walks
 * the branch's own line (one commit per merged PR, squash or rebase commit)
 * and `-m` diffs a merge against its first parent only, so a merged PR shows
 * as the merge commit that added the file; `-M` reports renames as renames.
 * `--raw --no-abbrev` names each file's new blob, so `git cat-file` can read it
 * by object id without walking a tree per file.
 */
export function auditLogArgs(): string[] {
  return [
    "log",
    "--first-parent",
    "-m",
    "-M",
    "--raw",
    "--no-abbrev",
    "-z",
    "--no-color",
    "--no-ext-diff",
    "--no-show-signature",
    `--format=${AUDIT_LOG_FORMAT}`,
    "--",
    `${REQUESTS_DIR}/`,
  ];
}

export interface GitSignature {
  name: string;
  email: string;
  /** Strict ISO 8601 as git prints it (`%aI`/`%cI`). */
  date: string;
}

export interface HistoryChange {
  /** A added, M modified, D deleted, R renamed, C copied, T type changed. */
  status: "A" | "M" | "D" | "R" | "C" | "T";
  path: string;
  /** Renames and copies: the path before. */
  oldPath?: string;
  /** The file's blob after the change (all zeros for a deletion). */
  blob: string;
}

export interface HistoryCommit {
  sha: string;
  parents: string[];
  author: GitSignature;
  committer: GitSignature;
  message: string;
  changes: HistoryChange[];
}

const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** `--raw` change header: `:<old mode> <new mode> <old blob> <new blob> <status><score>`. */
const RAW_CHANGE = /^:[0-7]{6} [0-7]{6} ([0-9a-f]{40}|[0-9a-f]{64}) ([0-9a-f]{40}|[0-9a-f]{64}) ([ACDMRTUXB])\d{0,3}$/;

/** Parses `git log` output made with `auditLogArgs()`, in the order git printed it (newest first). */
export function parseAuditLog(output: string): HistoryCommit[] {
  const tokens = output.split("\0");
  const commits: HistoryCommit[] = [];
  // Between the message and the name-status list, and between commits, git puts
  // separators ("\0", "\n") whose exact placement varies by version; they are skipped.
  const clean = (token: string) => token.replace(/^\n+/, "");
  let i = 0;
  while (i < tokens.length) {
    const head = clean(tokens[i] as string);
    if (head === "") {
      i++;
      continue;
    }
    if (!OBJECT_ID.test(head) || i + FIELDS_PER_COMMIT > tokens.length) {
      throw new Error(`unexpected git log output at field ${i}: ${JSON.stringify(head.slice(0, 60))}`);
    }
    const field = (offset: number) => tokens[i + offset] as string;
    const commit: HistoryCommit = {
      sha: head,
      parents: field(1).split(" ").filter(Boolean),
      author: { name: field(2), email: field(3), date: field(4) },
      committer: { name: field(5), email: field(6), date: field(7) },
      message: field(8),
      changes: [],
    };
    i += FIELDS_PER_COMMIT;
    while (i < tokens.length) {
      const token = clean(tokens[i] as string);
      if (token === "") {
        i++;
        continue;
      }
      const raw = RAW_CHANGE.exec(token);
      if (!raw) break; // the next commit
      const blob = raw[2] as string;
      const letter = raw[3] as string;
      if (letter === "R" || letter === "C") {
        const oldPath = tokens[i + 1] ?? "";
        const path = tokens[i + 2] ?? "";
        commit.changes.push({ status: letter, path, oldPath, blob });
        i += 3;
      } else {
        const path = tokens[i + 1] ?? "";
        // U (unmerged), X (unknown), B (broken pair) cannot appear in a log of commits; treat as edits.
        const known = letter === "A" || letter === "D" || letter === "M" || letter === "T";
        commit.changes.push({ status: known ? (letter as HistoryChange["status"]) : "M", path, blob });
        i += 2;
      }
    }
    commits.push(commit);
  }
  return commits;
}

/** `git notes list` lines: `<note blob> <annotated object>`. */
export function parseNotesList(output: string): { note: string; object: string }[] {
  const notes: { note: string; object: string }[] = [];
  for (const line of output.split("\n")) {
    const [note, object] = line.trim().split(/\s+/);
    if (note && object && OBJECT_ID.test(note) && OBJECT_ID.test(object)) notes.push({ note, object });
  }
  return notes;
}

/**
 * Splits `git cat-file --batch` output into one entry per requested name, in
 * order: the object's bytes, or undefined for a missing object. Sizes are in
 * bytes, so this works on bytes, not decoded text.
 * Format: https://git-scm.com/docs/git-cat-file#_batch_output
 */
export function parseCatFileBatch(output: Uint8Array, count: number): (Uint8Array | undefined)[] {
  const objects: (Uint8Array | undefined)[] = [];
  const decoder = new TextDecoder();
  let pos = 0;
  for (let n = 0; n < count; n++) {
    const eol = output.indexOf(10, pos);
    if (eol < 0) throw new Error(`git cat-file --batch output ended after ${n} of ${count} objects`);
    const header = decoder.decode(output.subarray(pos, eol));
    pos = eol + 1;
    if (/ (missing|ambiguous)$/.test(header)) {
      objects.push(undefined);
      continue;
    }
    const match = /^[0-9a-f]+ [a-z]+ (\d+)$/.exec(header);
    if (!match) throw new Error(`unexpected git cat-file --batch header: ${JSON.stringify(header.slice(0, 100))}`);
    const size = Number(match[1]);
    if (pos + size > output.length) throw new Error("git cat-file --batch output is truncated");
    objects.push(output.subarray(pos, pos + size));
    pos += size + 1; // the object is followed by a newline
  }
  return objects;
}

/** Every piece of grant evidence in the notes' texts. */
export function collectEvidence(noteTexts: Iterable<string>): GrantEvidence[] {
  const evidence: GrantEvidence[] = [];
  for (const text of noteTexts) evidence.push(...parseEvidenceNote(text));
  return evidence;
}
