/** The audit log's output formats: Markdown, JSON and CSV (`elevate audit --format`). */
import type { AuditRow } from "./audit-log.js";
import { mdEscape } from "./markdown.js";

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

/** An IAM role's ARN, or `PERMISSION_SET_ARN in ACCOUNT for USER`: what the row granted, from the evidence. */
function targetText(row: AuditRow): string {
  const target = row.target;
  if (!target) return "";
  if (target.kind === "role") return target.roleArn;
  const user = row.identityCenterUser ? ` for Identity Center user ${row.identityCenterUser}` : "";
  return `${target.permissionSetArn} in ${target.accountId}${user}`;
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
  ["identity_center_user", (r) => r.identityCenterUser ?? ""],
  ["target_kind", (r) => r.target?.kind ?? ""],
  ["target", (r) => targetText(r)],
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
  ["Target", targetText],
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
