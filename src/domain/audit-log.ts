/**
 * The audit log (docs/requester.md "What the record shows"): git history is the record. One row per
 * request file added to the branch, assembled from
 *   - the first-parent history of `requests/` (who added, edited, renamed or
 *     deleted which request file, when, through which PR), and
 *   - the grant evidence the grant workflow writes as JSON lines in git notes
 *     (`refs/notes/elevate`, see grant-report.ts): requester, IAM user,
 *     approvers, window, execution id or the reason nothing was granted.
 *
 * Pure: parses text that `git log`, `git notes list` and `git cat-file --batch`
 * printed, and formats rows. The mode (modes/audit.ts) runs the processes.
 */
import { type GrantEvidence, parseEvidenceNote } from "./grant-report.js";
import { mdEscape } from "./markdown.js";
import { looksLikeRequestFile, REQUESTS_DIR, requestIdOf } from "./request-path.js";
import { parseStrictYaml } from "./strict-yaml.js";

// --- git log ----------------------------------------------------------------------------------

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

// --- Notes and objects --------------------------------------------------------------------------

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

// --- Rows -------------------------------------------------------------------------------------

export interface AuditChange {
  commit: string;
  /** Committer date (when it landed on the branch), `YYYY-MM-DDTHH:MM:SSZ`. */
  at: string;
  /** Commit author, `Name <email>`. */
  author: string;
  /** Commit committer, `Name <email>` (on GitHub, the merge is committed by GitHub itself). */
  committer: string;
  /** Pull request number from the commit message, when it names one. */
  pr: number | null;
}

export interface AuditRewrite extends AuditChange {
  change: "modified" | "renamed";
  /** Renames: the new path. */
  to: string | null;
}

export type AuditStatus = "granted" | "refused" | "no-evidence";

/** One request. Field names and order are stable (the JSON format is a contract for scripts). */
export interface AuditRow {
  id: string;
  file: string;
  role: string;
  requester: string | null;
  iamUser: string | null;
  reason: string | null;
  ticket: string | null;
  pr: number | null;
  prUrl: string | null;
  /** The commit that added the file on this branch (the merge, squash or rebased commit). */
  commit: string;
  mergedAt: string;
  approvers: string[];
  window: { notBefore: string; notAfter: string } | null;
  status: AuditStatus;
  executionId: string | null;
  /** Why nothing was granted (status "refused"). */
  refusal: string | null;
  /** The commit that deleted the request file, whatever the reason. */
  removed: AuditChange | null;
  /** Removed while its grant could still be in use (before notAfter, or when no window is known). */
  revokedEarly: boolean;
  /** Edits and renames after the add: they grant nothing and are flagged. */
  rewrites: AuditRewrite[];
}

/** `2026-11-30T09:00:00+09:00` → `2026-11-30T00:00:00Z`; unparsable text is kept as is. */
export function utcSeconds(text: string): string {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/**
 * The PR a commit message names: GitHub's merge commits ("Merge pull request
 * #12 from owner/branch") and squash commits ("Title (#12)") on the first line.
 */
export function prNumberFromMessage(message: string): number | null {
  const subject = message.split("\n", 1)[0] ?? "";
  const match = /^Merge pull request #(\d{1,9})\b/.exec(subject) ?? /\(#(\d{1,9})\)\s*$/.exec(subject);
  return match ? Number(match[1]) : null;
}

function signature(person: GitSignature): string {
  return person.email ? `${person.name} <${person.email}>` : person.name;
}

function changeOf(commit: HistoryCommit): AuditChange {
  return {
    commit: commit.sha,
    at: utcSeconds(commit.committer.date),
    author: signature(commit.author),
    committer: signature(commit.committer),
    pr: prNumberFromMessage(commit.message),
  };
}

/** The request file's own fields (used when there is no evidence), read leniently: any string field is taken. */
function requestFields(text: string | undefined): Record<string, string> {
  const fields: Record<string, string> = Object.create(null);
  if (text === undefined) return fields;
  const parsed = parseStrictYaml(text);
  if (!parsed.ok) return fields;
  const value = parsed.document.value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) return fields;
  for (const key of ["requester", "reason", "ticket"]) {
    const field = value[key];
    if (typeof field === "string") fields[key] = field;
  }
  return fields;
}

/** The blobs of the request files the commits added: what `git cat-file --batch` reads. */
export function addedBlobIds(commits: readonly HistoryCommit[]): string[] {
  const ids = new Set<string>();
  for (const commit of commits) {
    for (const change of commit.changes) {
      const added = change.status === "A" || change.status === "C" || change.status === "R";
      if (added && looksLikeRequestFile(change.path)) ids.add(change.blob);
    }
  }
  return [...ids];
}

/** The evidence that decides a row: the latest "granted" if any (re-runs append), else the latest "refused". */
function decidingEvidence(list: readonly GrantEvidence[]): GrantEvidence | undefined {
  const latest = (event: GrantEvidence["event"]) =>
    list
      .filter((e) => e.event === event)
      .reduce<GrantEvidence | undefined>(
        (best, e) => (best === undefined || String(e.recordedAt) >= String(best.recordedAt) ? e : best),
        undefined,
      );
  return latest("granted") ?? latest("refused");
}

export interface BuildAuditRowsInput {
  /** `parseAuditLog` output: newest first, as git prints it. */
  commits: readonly HistoryCommit[];
  evidence: readonly GrantEvidence[];
  /** Request file texts by blob id (`addedBlobIds`). */
  texts: ReadonlyMap<string, string>;
}

/** Assembles one row per added request file, oldest first. */
export function buildAuditRows(input: BuildAuditRowsInput): AuditRow[] {
  const rows: AuditRow[] = [];
  /** Rows whose file is still present, by current path (a rename moves the row). */
  const open = new Map<string, AuditRow>();

  /** Blob of each row's file as added, read only for rows the evidence does not describe. */
  const addedBlob = new Map<AuditRow, string>();

  const addRow = (commit: HistoryCommit, path: string, blob: string, renamedFrom?: string) => {
    const change = changeOf(commit);
    const row: AuditRow = {
      id: requestIdOf(path) ?? path,
      file: path,
      role: path.split("/")[1] ?? "",
      requester: null,
      iamUser: null,
      reason: null,
      ticket: null,
      pr: change.pr,
      prUrl: null,
      commit: commit.sha,
      mergedAt: change.at,
      approvers: [],
      window: null,
      status: "no-evidence",
      executionId: null,
      refusal: null,
      removed: null,
      revokedEarly: false,
      rewrites: [],
    };
    if (renamedFrom !== undefined) row.rewrites.push({ ...change, change: "renamed", to: path });
    rows.push(row);
    open.set(path, row);
    addedBlob.set(row, blob);
  };

  for (let c = input.commits.length - 1; c >= 0; c--) {
    const commit = input.commits[c] as HistoryCommit;
    for (const change of commit.changes) {
      switch (change.status) {
        case "A":
        case "C":
          if (looksLikeRequestFile(change.path)) addRow(commit, change.path, change.blob);
          break;
        case "M":
        case "T": {
          const row = open.get(change.path);
          if (row) row.rewrites.push({ ...changeOf(commit), change: "modified", to: null });
          break;
        }
        case "R": {
          const from = change.oldPath ?? "";
          const row = open.get(from);
          if (row) {
            open.delete(from);
            row.rewrites.push({ ...changeOf(commit), change: "renamed", to: change.path });
            if (looksLikeRequestFile(change.path)) open.set(change.path, row);
            else row.removed = changeOf(commit);
          } else if (looksLikeRequestFile(change.path)) {
            // Renamed into a request file from something that was not one: it appears here, flagged.
            addRow(commit, change.path, change.blob, from);
          }
          break;
        }
        case "D": {
          const row = open.get(change.path);
          if (row) {
            open.delete(change.path);
            row.removed = changeOf(commit);
          }
          break;
        }
      }
    }
  }

  attachEvidence(rows, input.evidence);
  for (const row of rows) {
    // Without evidence that names them (no notes, or refused before validation), the file says who and why.
    if (row.requester === null || row.reason === null) {
      const fields = requestFields(input.texts.get(addedBlob.get(row) ?? ""));
      row.requester ??= fields.requester ?? null;
      row.reason ??= fields.reason ?? null;
      row.ticket ??= fields.ticket ?? null;
    }
    if (!row.removed) continue;
    const notAfter = row.window ? Date.parse(row.window.notAfter) : Number.NaN;
    row.revokedEarly = row.status !== "refused" && (Number.isNaN(notAfter) || Date.parse(row.removed.at) < notAfter);
  }
  return rows;
}

/**
 * Evidence names the file it is about (and the merge it was written on). A
 * path added once (the usual case) takes all of that path's evidence; a path
 * reused after a deletion gives each piece to the add it was recorded on,
 * else to the latest add recorded before it.
 */
function attachEvidence(rows: AuditRow[], evidence: readonly GrantEvidence[]): void {
  const rowsByFile = new Map<string, AuditRow[]>();
  for (const row of rows) {
    const list = rowsByFile.get(row.file) ?? [];
    list.push(row);
    rowsByFile.set(row.file, list);
  }
  const byRow = new Map<AuditRow, GrantEvidence[]>();
  for (const e of evidence) {
    const candidates = rowsByFile.get(String(e.file));
    if (!candidates) continue;
    let row = candidates.find((r) => r.commit === e.mergeSha);
    if (!row) {
      const recorded = Date.parse(String(e.recordedAt));
      row = candidates.filter((r) => Date.parse(r.mergedAt) <= recorded).at(-1) ?? candidates[0];
    }
    if (!row) continue;
    const list = byRow.get(row) ?? [];
    list.push(e);
    byRow.set(row, list);
  }
  for (const [row, list] of byRow) {
    const chosen = decidingEvidence(list);
    if (!chosen) continue;
    row.status = chosen.event === "granted" ? "granted" : "refused";
    row.requester = chosen.requester ?? null;
    row.iamUser = chosen.iamUser ?? null;
    row.reason = chosen.reason ?? null;
    row.ticket = chosen.ticket ?? null;
    if (chosen.pr) {
      row.pr = chosen.pr.number;
      row.prUrl = chosen.pr.url ?? null;
      if (chosen.pr.mergedAt) row.mergedAt = utcSeconds(chosen.pr.mergedAt);
    }
    row.approvers = (chosen.approvals ?? []).map((a) => a.login);
    row.window = chosen.window ? { notBefore: chosen.window.notBefore, notAfter: chosen.window.notAfter } : null;
    row.executionId = chosen.execution?.id ?? null;
    row.refusal = chosen.event === "refused" ? (chosen.refusal ?? "refused (no reason recorded)") : null;
  }
}

// --- Dates and filtering ----------------------------------------------------------------------

export type AuditDateResult = { ok: true; date: Date } | { ok: false; message: string };

/**
 * `--since` / `--until`: a day (`2026-11-30`, UTC; `--until` includes the
 * whole day) or an RFC 3339 timestamp with a zone.
 */
export function parseAuditDate(text: string, bound: "since" | "until"): AuditDateResult {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const start = Date.UTC(y, m - 1, d);
    const check = new Date(start);
    if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) {
      return { ok: false, message: `--${bound} ${JSON.stringify(text)} is not a real date` };
    }
    return { ok: true, date: new Date(bound === "since" ? start : start + 86_400_000 - 1) };
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return { ok: true, date: new Date(ms) };
  }
  return {
    ok: false,
    message: `--${bound} ${JSON.stringify(text)} is not a date; write YYYY-MM-DD (UTC) or an RFC 3339 time such as 2026-11-30T09:00:00Z`,
  };
}

/** Rows merged inside `[since, until]` (either bound optional). */
export function filterAuditRows(rows: readonly AuditRow[], range: { since?: Date; until?: Date }): AuditRow[] {
  const since = range.since?.getTime() ?? Number.NEGATIVE_INFINITY;
  const until = range.until?.getTime() ?? Number.POSITIVE_INFINITY;
  return rows.filter((row) => {
    const at = Date.parse(row.mergedAt);
    return at >= since && at <= until;
  });
}

// --- Formats ----------------------------------------------------------------------------------

export type AuditFormat = "md" | "json" | "csv";
export const AUDIT_FORMATS: readonly AuditFormat[] = ["md", "json", "csv"];

/** JSON: an array of rows with the field names of `AuditRow`, pretty-printed. */
export function formatAuditJson(rows: readonly AuditRow[]): string {
  return `${JSON.stringify(rows, null, 2)}\n`;
}

function resultText(row: AuditRow): string {
  if (row.status === "granted") return `granted${row.executionId ? ` (${row.executionId})` : ""}`;
  if (row.status === "refused") return `refused: ${row.refusal ?? ""}`;
  return "no evidence";
}

function removalText(row: AuditRow): string {
  const r = row.removed;
  if (!r) return "";
  const pr = r.pr === null ? "" : ` (PR #${r.pr})`;
  return `${row.revokedEarly ? "revoked early" : "removed"} by ${r.author} at ${r.at}${pr}`;
}

function rewritesText(row: AuditRow): string {
  return row.rewrites
    .map(
      (w) => `${w.change === "renamed" ? `renamed to ${w.to}` : "modified"} in ${w.commit.slice(0, 12)} by ${w.author}`,
    )
    .join("; ");
}

const CSV_COLUMNS: readonly [string, (row: AuditRow) => string][] = [
  ["id", (r) => r.id],
  ["file", (r) => r.file],
  ["role", (r) => r.role],
  ["requester", (r) => r.requester ?? ""],
  ["iam_user", (r) => r.iamUser ?? ""],
  ["reason", (r) => r.reason ?? ""],
  ["ticket", (r) => r.ticket ?? ""],
  ["pr", (r) => (r.pr === null ? "" : String(r.pr))],
  ["merged_at", (r) => r.mergedAt],
  ["commit", (r) => r.commit],
  ["approvers", (r) => r.approvers.join(" ")],
  ["not_before", (r) => r.window?.notBefore ?? ""],
  ["not_after", (r) => r.window?.notAfter ?? ""],
  ["status", (r) => r.status],
  ["execution_id", (r) => r.executionId ?? ""],
  ["refusal", (r) => r.refusal ?? ""],
  ["revoked_early", (r) => (r.revokedEarly ? "yes" : "no")],
  ["removed_by", (r) => r.removed?.author ?? ""],
  ["removed_at", (r) => r.removed?.at ?? ""],
  ["removed_pr", (r) => (r.removed?.pr == null ? "" : String(r.removed.pr))],
  ["rewritten", (r) => rewritesText(r)],
];

/**
 * One CSV field (RFC 4180 section 2: quote fields holding a comma, a quote or a
 * line break; double the quotes). A cell a spreadsheet would run as a formula
 * (starting with = + - @, tab or carriage return) gets a leading `'`
 * (OWASP "CSV Injection").
 */
export function csvField(value: string): string {
  const guarded = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

/** CSV with a header row and CRLF line ends (RFC 4180). */
export function formatAuditCsv(rows: readonly AuditRow[]): string {
  const lines = [CSV_COLUMNS.map(([name]) => name).join(",")];
  for (const row of rows) lines.push(CSV_COLUMNS.map(([, value]) => csvField(value(row))).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

const MD_COLUMNS: readonly [string, (row: AuditRow) => string][] = [
  ["Request", (r) => r.id],
  ["Requester", (r) => r.requester ?? ""],
  ["IAM user", (r) => r.iamUser ?? ""],
  ["Role", (r) => r.role],
  ["Reason", (r) => r.reason ?? ""],
  ["Ticket", (r) => r.ticket ?? ""],
  ["PR", (r) => (r.pr === null ? "" : `#${r.pr}`)],
  ["Merged at", (r) => r.mergedAt],
  ["Approvers", (r) => r.approvers.join(", ")],
  ["Window", (r) => (r.window ? `${r.window.notBefore} – ${r.window.notAfter}` : "")],
  ["Result", resultText],
  ["Revoked early", (r) => removalText(r)],
  ["Rewritten", rewritesText],
];

export function formatAuditMarkdown(rows: readonly AuditRow[]): string {
  const lines = [`| ${MD_COLUMNS.map(([name]) => name).join(" | ")} |`, `|${MD_COLUMNS.map(() => " --- |").join("")}`];
  for (const row of rows) lines.push(`| ${MD_COLUMNS.map(([, value]) => mdEscape(value(row))).join(" | ")} |`);
  return `${lines.join("\n")}\n`;
}

export function formatAuditRows(rows: readonly AuditRow[], format: AuditFormat): string {
  switch (format) {
    case "json":
      return formatAuditJson(rows);
    case "csv":
      return formatAuditCsv(rows);
    case "md":
      return formatAuditMarkdown(rows);
  }
}
