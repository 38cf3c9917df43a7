/**
 * The audit log (docs/requester.md "What the record shows"): git history is the record. One row per
 * request file added to the branch, assembled from
 *   - the first-parent history of `requests/` (who added, edited, renamed or
 *     deleted which request file, when, through which PR), and
 *   - the grant evidence the grant workflow writes as JSON lines in git notes
 *     (`refs/notes/elevate`, see grant-report.ts): requester, IAM user,
 *     approvers, window, execution id or the reason nothing was granted.
 *
 * Pure. Here: assembling and filtering the rows. What git printed is parsed by
 * ./audit-git-output.ts; the rows are formatted by ./audit-format.ts. The mode
 * (modes/audit.ts) runs the processes.
 */
import type { GitSignature, HistoryCommit } from "./audit-git-output.js";
import type { GrantEvidence } from "./grant-report.js";
import { looksLikeRequestFile, requestIdOf } from "./request-path.js";
import { parseStrictYaml } from "./strict-yaml.js";

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
  /** The requester's Identity Center user (a permission-set grant), from the evidence. */
  identityCenterUser: string | null;
  /** What was granted or refused, from the evidence: an IAM role, or a permission set in an account. */
  target: AuditTarget | null;
}

export type AuditTarget =
  | { kind: "role"; roleArn: string }
  | { kind: "permissionSet"; permissionSetArn: string; accountId: string };

/** The target the evidence names, if it names one of either kind. */
export function auditTargetOf(
  evidence: Pick<GrantEvidence, "roleArn" | "permissionSetArn" | "accountId">,
): AuditTarget | null {
  if (evidence.permissionSetArn && evidence.accountId) {
    return { kind: "permissionSet", permissionSetArn: evidence.permissionSetArn, accountId: evidence.accountId };
  }
  return evidence.roleArn ? { kind: "role", roleArn: evidence.roleArn } : null;
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
      identityCenterUser: null,
      target: null,
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
    row.identityCenterUser = chosen.identityCenterUser ?? null;
    row.target = auditTargetOf(chosen);
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
