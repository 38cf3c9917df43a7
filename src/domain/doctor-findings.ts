/**
 * What `elevate doctor` reports: located findings, printed one per line as
 * `FILE:LINE:COL: error: MESSAGE` (or `warning:`), the format of every other
 * Elevate command. Errors fail the run; warnings are advice.
 */
import { escapeMessage, type SourcePosition } from "./errors.js";

export type Severity = "error" | "warning";

export interface Finding {
  file: string;
  line: number;
  col: number;
  severity: Severity;
  message: string;
}

export function finding(file: string, at: SourcePosition, severity: Severity, message: string): Finding {
  return { file, line: at.line, col: at.col, severity, message };
}

export function formatFinding(f: Finding): string {
  return `${escapeMessage(f.file)}:${f.line}:${f.col}: ${f.severity}: ${escapeMessage(f.message)}`;
}

/** By file, then position; stable otherwise. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col));
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === "error");
}
