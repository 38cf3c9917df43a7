/** YAML syntax errors in our words, for strict YAML loading (./strict-yaml.ts). */
import type { SourcePosition } from "./errors.js";
import type { YamlProblem } from "./strict-yaml.js";

function firstLine(message: string): string {
  const line = message.split("\n")[0] ?? message;
  return line.replace(/ at line \d+, column \d+:?$/, "");
}

/**
 * A YAML syntax error in our words, from the library's error code and the text
 * around it: what is wrong in terms of the file (a key indented under the line
 * above, a value with ": " that needs quotes, a tab, an unclosed quote) rather
 * than the parser's vocabulary ("nested mappings are not allowed in compact
 * mappings"). Unknown codes keep the library's first line, marked as YAML.
 */
export function yamlSyntaxProblem(code: string, libraryMessage: string, text: string, at: SourcePosition): YamlProblem {
  const located = yamlSyntaxMessage(code, libraryMessage, text, at);
  return typeof located === "string" ? { ...at, message: located } : located;
}

function yamlSyntaxMessage(
  code: string,
  libraryMessage: string,
  text: string,
  at: SourcePosition,
): string | YamlProblem {
  const lines = text.split(/\r?\n/);
  const line = lines[at.line - 1] ?? "";
  const rest = line.slice(at.col - 1);
  const indent = (l: string) => l.length - l.trimStart().length;
  switch (code) {
    case "TAB_AS_INDENT":
      return "a tab indents this line; YAML indents with spaces only";
    case "BAD_INDENT":
      if (/flow/i.test(libraryMessage)) {
        return "a [ … ] or { … } list is not closed; close it with ] or } before the next key";
      }
      return "this line is not indented like the lines before it; keys of one map start in the same column";
    case "MISSING_CHAR":
      if (/quote/i.test(libraryMessage)) {
        return "a quoted value is not closed; end it with the same quote (\" or ') on its line";
      }
      return `a [ … ] or { … } list is missing a character: ${firstLine(libraryMessage).replace(/^Missing /, "missing ")}`;
    case "BLOCK_AS_IMPLICIT_KEY":
    case "MULTILINE_IMPLICIT_KEY": {
      const key = /^\s*([^:#]+?):\s/.exec(line)?.[1];
      if (/:\s/.test(rest)) {
        return `the value contains ": "; put it in quotes, e.g. ${key ?? "reason"}: "${rest.trim().replace(/"/g, '\\"')}"`;
      }
      const next = lines.slice(at.line).find((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));
      if (next !== undefined && indent(next) > indent(line)) {
        // Point at the indented line itself, not at the value the parser was reading.
        const nextLine = at.line + 1 + lines.slice(at.line).indexOf(next);
        return {
          line: nextLine,
          col: indent(next) + 1,
          message: `this line is indented under ${key ? JSON.stringify(key) : `line ${at.line}`}; start it in the same column as the key above`,
        };
      }
      if (!/:(\s|$)/.test(line)) {
        return line.includes(":")
          ? `${JSON.stringify(line.trim())} is not a "key: value" line; put a space after the colon`
          : `${JSON.stringify(line.trim())} is not a "key: value" line`;
      }
      return 'a key and its value belong on one line, as "key: value"';
    }
    case "BAD_SCALAR_START": {
      const ch = rest.trimStart()[0] ?? "";
      return `a plain value cannot start with ${ch}; put the value in quotes`;
    }
    case "BAD_DQ_ESCAPE":
      return `${firstLine(libraryMessage).replace(/^Invalid escape sequence/, "invalid escape")} in a double-quoted value; write \\\\ for a backslash, or use single quotes`;
    case "BLOCK_IN_FLOW":
      return "a list or map inside [ … ] or { … } must be written in [ … ] or { … } too";
    case "KEY_OVER_1024_CHARS":
      return "a key runs over 1024 characters; is a colon missing?";
    case "UNEXPECTED_TOKEN":
    case "MULTIPLE_DOCS":
      return 'unexpected text here; expected "key: value" lines';
    default:
      return `invalid YAML: ${firstLine(libraryMessage)}`;
  }
}
