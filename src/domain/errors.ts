/**
 * Located errors: every complaint about a user-written file names the file and
 * the 1-based line and column of the offending YAML node, so that editors,
 * terminals and GitHub problem matchers can jump to it (README.md "CLI").
 */

export interface LocatedError {
  /** The file as the user named it (CLI: relative to the current directory). */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  col: number;
  message: string;
}

/** A position inside a file, both 1-based. */
export interface SourcePosition {
  line: number;
  col: number;
}

/** The start of a file, for errors about the file as a whole (size, encoding, path). */
export const FILE_START: SourcePosition = Object.freeze({ line: 1, col: 1 });

/**
 * Keeps a message on one line: line breaks and other control characters are
 * escaped so that one error is always exactly one output line, whatever a
 * user-controlled value quoted inside the message contains.
 */
export function escapeMessage(message: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return message.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (ch) => {
    switch (ch) {
      case "\n":
        return "\\n";
      case "\r":
        return "\\r";
      case "\t":
        return "\\t";
      default:
        return `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`;
    }
  });
}

/** `FILE:LINE:COL: error: MESSAGE`, one line. */
export function formatLocatedError(error: LocatedError): string {
  return `${escapeMessage(error.file)}:${error.line}:${error.col}: error: ${escapeMessage(error.message)}`;
}

export function locatedError(file: string, at: SourcePosition, message: string): LocatedError {
  return { file, line: at.line, col: at.col, message };
}

/** Orders errors by position so that output reads top to bottom. Stable for equal positions. */
export function sortLocatedErrors(errors: readonly LocatedError[]): LocatedError[] {
  return [...errors].sort((a, b) => a.line - b.line || a.col - b.col);
}

/**
 * Quotes a user-supplied value for a message. JSON quoting escapes control
 * characters; long values are cut so a hostile file cannot flood the output.
 */
export function quote(value: string, max = 80): string {
  const cut = [...value];
  const shown = cut.length > max ? `${cut.slice(0, max).join("")}…` : value;
  return JSON.stringify(shown);
}

/**
 * Bad input from the person running a command (a flag's value, a file they
 * named that cannot be read): raised before anything changes. Entry points
 * show the message with how to call the command; the CLI exits 2.
 */
export class UserInputError extends Error {
  override name = "UserInputError";
}
