/**
 * Parsers for what an action leaves behind, following the runner's own rules:
 *   - file commands (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STATE): `name=value` lines or the
 *     heredoc form `name<<DELIMITER` … `DELIMITER` that @actions/core writes
 *     ("Workflow commands for GitHub Actions", "Setting an output parameter" / "Multiline strings",
 *     https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/workflow-commands-for-github-actions);
 *   - stdout workflow commands `::name k=v,k=v::data` with @actions/core's escaping
 *     (data: %25 %0D %0A; properties additionally %3A %2C), `::group::`/`::endgroup::`,
 *     `::add-mask::`, and `::stop-commands::TOKEN` … `::TOKEN::`, during which nothing is
 *     a command.
 */

export type AnnotationLevel = "error" | "warning" | "notice";

export interface Annotation {
  level: AnnotationLevel;
  message: string;
  title?: string;
  file?: string;
  line?: number;
  endLine?: number;
  col?: number;
  endColumn?: number;
}

export interface WorkflowCommand {
  command: string;
  properties: Record<string, string>;
  data: string;
}

export interface LogGroup {
  name: string;
  lines: string[];
}

export interface StdoutAnalysis {
  commands: WorkflowCommand[];
  annotations: Annotation[];
  logGroups: LogGroup[];
  masks: string[];
  debug: string[];
  /** Lines that are not commands (what the log shows as plain text). */
  plainLines: string[];
}

/** Parses a GITHUB_OUTPUT / GITHUB_ENV / GITHUB_STATE file. Throws on a malformed file, as the runner fails the step. */
export function parseFileCommand(content: string, fileLabel = "file command"): Record<string, string> {
  const result: Record<string, string> = {};
  const lines = content.split(/\r?\n/);
  let index = 0;
  while (index < lines.length) {
    const line = lines[index++]!;
    if (line === "") continue;
    const equals = line.indexOf("=");
    const heredoc = line.indexOf("<<");
    if (equals >= 0 && (heredoc < 0 || equals < heredoc)) {
      const name = line.slice(0, equals);
      if (name === "") throw new Error(`${fileLabel}:${index}: empty name in ${JSON.stringify(line)}`);
      result[name] = line.slice(equals + 1);
      continue;
    }
    if (heredoc < 0) throw new Error(`${fileLabel}:${index}: invalid format ${JSON.stringify(line)}`);
    const name = line.slice(0, heredoc);
    const delimiter = line.slice(heredoc + 2);
    if (name === "" || delimiter === "")
      throw new Error(`${fileLabel}:${index}: invalid heredoc ${JSON.stringify(line)}`);
    const value: string[] = [];
    let closed = false;
    while (index < lines.length) {
      const next = lines[index++]!;
      if (next === delimiter) {
        closed = true;
        break;
      }
      value.push(next);
    }
    if (!closed) throw new Error(`${fileLabel}: matching delimiter not found ${JSON.stringify(delimiter)}`);
    result[name] = value.join("\n");
  }
  return result;
}

/** Inverse of @actions/core escapeData. */
export function unescapeData(value: string): string {
  return value.replace(/%0D/gi, "\r").replace(/%0A/gi, "\n").replace(/%25/g, "%");
}

/** Inverse of @actions/core escapeProperty (%25 last, so "%253A" stays "%3A"). */
export function unescapeProperty(value: string): string {
  return value
    .replace(/%0D/gi, "\r")
    .replace(/%0A/gi, "\n")
    .replace(/%3A/gi, ":")
    .replace(/%2C/gi, ",")
    .replace(/%25/g, "%");
}

/** Parses one stdout line as `::command props::data`; null if it is not a command. */
export function parseWorkflowCommand(line: string): WorkflowCommand | null {
  const trimmed = line.replace(/\r$/, "");
  if (!trimmed.startsWith("::")) return null;
  const end = trimmed.indexOf("::", 2);
  if (end < 0) return null;
  const head = trimmed.slice(2, end);
  const data = unescapeData(trimmed.slice(end + 2));
  const space = head.indexOf(" ");
  const command = space < 0 ? head : head.slice(0, space);
  if (command === "") return null;
  const properties: Record<string, string> = {};
  if (space >= 0) {
    for (const pair of head.slice(space + 1).split(",")) {
      if (pair.trim() === "") continue;
      const equals = pair.indexOf("=");
      if (equals <= 0) continue;
      properties[pair.slice(0, equals)] = unescapeProperty(pair.slice(equals + 1));
    }
  }
  return { command, properties, data };
}

function annotationFrom(command: WorkflowCommand): Annotation {
  const annotation: Annotation = { level: command.command as AnnotationLevel, message: command.data };
  const { file, title, line, endLine, col, endColumn } = command.properties;
  if (title !== undefined) annotation.title = title;
  if (file !== undefined) annotation.file = file;
  const number = (value: string | undefined) =>
    value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
  const lineNumber = number(line);
  if (lineNumber !== undefined) annotation.line = lineNumber;
  const endLineNumber = number(endLine);
  if (endLineNumber !== undefined) annotation.endLine = endLineNumber;
  const colNumber = number(col);
  if (colNumber !== undefined) annotation.col = colNumber;
  const endColumnNumber = number(endColumn);
  if (endColumnNumber !== undefined) annotation.endColumn = endColumnNumber;
  return annotation;
}

export function analyzeStdout(stdout: string): StdoutAnalysis {
  const analysis: StdoutAnalysis = {
    commands: [],
    annotations: [],
    logGroups: [],
    masks: [],
    debug: [],
    plainLines: [],
  };
  let group: LogGroup | null = null;
  let stopToken: string | null = null;
  const lines = stdout.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (const rawLine of lines) {
    const line = rawLine.replace(/\r$/, "");
    if (stopToken !== null) {
      if (line === `::${stopToken}::`) stopToken = null;
      else {
        analysis.plainLines.push(line);
        group?.lines.push(line);
      }
      continue;
    }
    const command = parseWorkflowCommand(line);
    if (!command) {
      analysis.plainLines.push(line);
      group?.lines.push(line);
      continue;
    }
    analysis.commands.push(command);
    switch (command.command) {
      case "error":
      case "warning":
      case "notice":
        analysis.annotations.push(annotationFrom(command));
        break;
      case "group":
        group = { name: command.data, lines: [] };
        analysis.logGroups.push(group);
        break;
      case "endgroup":
        group = null;
        break;
      case "add-mask":
        analysis.masks.push(command.data);
        break;
      case "debug":
        analysis.debug.push(command.data);
        break;
      case "stop-commands":
        stopToken = command.data;
        break;
      default:
        break;
    }
  }
  return analysis;
}
