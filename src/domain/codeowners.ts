/**
 * CODEOWNERS parsing and matching with GitHub's semantics (docs/threat-model.md invariant 1:
 * "code owners of that file (last matching CODEOWNERS line on the base branch)").
 *
 * Source of truth: GitHub Docs, "About code owners"
 * (https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners):
 *   - patterns follow "most of the same rules used in gitignore files", except that
 *     escaping a leading `#` with `\`, `!` negation and `[ ]` character ranges do not work;
 *   - "the last matching pattern takes the most precedence";
 *   - a matching line with no owners leaves the path without owners (`/apps/github`);
 *   - `docs/*` matches `docs/getting-started.md` but not `docs/build-app/troubleshooting.md`
 *     (unlike gitignore, where the directory match would cover nested files);
 *   - paths are case sensitive ("GitHub uses a case sensitive file system");
 *   - owners are `@username`, `@org/team-name` or an email address; an inline `#` comment
 *     may follow the owners;
 *   - a line with invalid syntax is skipped (and listed by the "List CODEOWNERS errors"
 *     REST endpoint with its line and column); a file of 3 MB or more is not loaded at all.
 *
 * Because a skipped line silently changes who owns what, callers that enforce approvals
 * should treat any parse error as a failure rather than act on the remaining rules.
 */

export type Owner =
  | { kind: "user"; login: string }
  | { kind: "team"; org: string; slug: string }
  | { kind: "email"; email: string };

export interface CodeownersRule {
  /** 1-based line number in the CODEOWNERS file. */
  line: number;
  /** The pattern as written (escapes kept). */
  pattern: string;
  /** Owners as written, in order; empty means the line clears ownership. */
  owners: Owner[];
  /** Compiled matcher for repository-relative paths (`requests/x/y.yaml`, no leading slash). */
  regex: RegExp;
}

/** Mirrors the `kind` strings of GitHub's "List CODEOWNERS errors" endpoint where one exists. */
export type CodeownersErrorKind = "Invalid pattern" | "Invalid owner" | "File too large";

export interface CodeownersError {
  /** 1-based line and column (UTF-16 code units), as GitHub's errors endpoint reports them. */
  line: number;
  col: number;
  kind: CodeownersErrorKind;
  message: string;
  /** The offending line without its line terminator. */
  source: string;
}

export interface ParsedCodeowners {
  rules: CodeownersRule[];
  errors: CodeownersError[];
}

export interface OwnersOfPath {
  owners: Owner[];
  /** Line of the last matching rule; absent when no rule matches. */
  line?: number;
}

/** "CODEOWNERS files must be under 3 MB in size" (About code owners, "CODEOWNERS file size"). */
export const CODEOWNERS_MAX_BYTES = 3 * 1024 * 1024;

// GitHub logins: alphanumerics and hyphens (up to 39 characters); Enterprise Managed
// Users add an `_shortcode` suffix, so underscores are allowed and the length is generous.
const USER_OWNER = /^@([A-Za-z0-9][A-Za-z0-9_-]{0,99})$/;
// Team slugs are derived from team names: lowercase letters, digits, `-`, `_`, `.`;
// CODEOWNERS compares them case-insensitively, so mixed case is accepted as written.
const TEAM_OWNER = /^@([A-Za-z0-9][A-Za-z0-9_-]{0,99})\/([A-Za-z0-9_][A-Za-z0-9_.-]{0,254})$/;
const EMAIL_OWNER = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/;

const isBlank = (ch: string | undefined): boolean => ch === " " || ch === "\t";

interface Token {
  text: string;
  /** 0-based index of the token's first character in the line. */
  start: number;
}

interface LineTokens {
  pattern?: Token;
  owners: Token[];
  error?: { index: number; message: string; kind: CodeownersErrorKind };
}

/**
 * Splits one non-comment line into a pattern token and owner tokens.
 * Blanks separate tokens; in the pattern, `\` escapes the next character (so `\ `
 * is a literal space, as in gitignore); a token that starts with `#` begins an
 * inline comment that runs to the end of the line.
 */
function tokenize(line: string): LineTokens {
  const result: LineTokens = { owners: [] };
  let i = 0;
  while (i < line.length) {
    while (isBlank(line[i])) i++;
    if (i >= line.length || line[i] === "#") break;
    const start = i;
    const isPattern = result.pattern === undefined;
    while (i < line.length && !isBlank(line[i])) {
      if (isPattern && line[i] === "\\") {
        if (i + 1 >= line.length) {
          result.error = {
            index: i,
            kind: "Invalid pattern",
            message: "the pattern ends with an unfinished `\\` escape",
          };
          return result;
        }
        i += 2;
        continue;
      }
      i++;
    }
    const token = { text: line.slice(start, i), start };
    if (isPattern) result.pattern = token;
    else result.owners.push(token);
  }
  return result;
}

/** Rejects the gitignore features that GitHub documents as not working in CODEOWNERS. */
function checkPattern(pattern: string): { offset: number; message: string } | undefined {
  if (pattern.startsWith("\\#")) {
    return {
      offset: 0,
      message:
        "escaping a leading `#` with `\\` is not supported in CODEOWNERS (GitHub does not treat `\\#` as a literal `#`)",
    };
  }
  if (pattern.startsWith("!")) {
    return { offset: 0, message: "negation with `!` is not supported in CODEOWNERS" };
  }
  if (pattern === "/") {
    return { offset: 0, message: "the pattern `/` never matches anything; use `*` to match every file" };
  }
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\") {
      i++;
      continue;
    }
    if (ch === "[" || ch === "]") {
      return { offset: i, message: "character ranges with `[ ]` are not supported in CODEOWNERS" };
    }
    if (ch === "#") {
      // `#` only starts a comment at the start of a token; inside a pattern GitHub's
      // treatment is undocumented, so it is refused rather than guessed.
      return { offset: i, message: "`#` inside a pattern is ambiguous in CODEOWNERS; rename the path or use `?`" };
    }
  }
  return undefined;
}

function parseOwner(text: string): Owner | string {
  const team = TEAM_OWNER.exec(text);
  if (team) return { kind: "team", org: team[1]!, slug: team[2]! };
  const user = USER_OWNER.exec(text);
  if (user) return { kind: "user", login: user[1]! };
  if (EMAIL_OWNER.test(text)) return { kind: "email", email: text };
  if (text.startsWith("@") && text.split("/").length > 2) {
    return `invalid owner \`${text}\`: nested team paths are not supported; use @org/team-name`;
  }
  return `invalid owner \`${text}\`: expected @username, @org/team-name or an email address`;
}

type Segment = { kind: "globstar" } | { kind: "name"; atoms: string[] };

/** Splits a pattern on unescaped `/` into segments of atoms: a literal character, `*` or `?`. */
function segmentsOf(pattern: string): { segments: Segment[]; anchored: boolean; contentsOnly: boolean } {
  const raw: { atoms: string[]; text: string }[] = [{ atoms: [], text: "" }];
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    const current = raw[raw.length - 1]!;
    if (ch === "\\" && i + 1 < pattern.length) {
      const next = pattern[i + 1]!;
      i++;
      if (next === "/") {
        raw.push({ atoms: [], text: "" });
      } else {
        current.atoms.push(`\\${next}`);
        current.text += `\\${next}`;
      }
    } else if (ch === "/") {
      raw.push({ atoms: [], text: "" });
    } else {
      current.atoms.push(ch);
      current.text += ch;
    }
  }
  const leadingSlash = raw.length > 1 && raw[0]!.atoms.length === 0;
  const trailingSlash = raw.length > 1 && raw[raw.length - 1]!.atoms.length === 0;
  const nonEmpty = raw.filter((s) => s.atoms.length > 0);
  // gitignore: a separator at the beginning or in the middle anchors the pattern to the
  // root; a pattern without one (ignoring a trailing slash) matches at any depth.
  const anchored = leadingSlash || nonEmpty.length > 1;
  const segments: Segment[] = nonEmpty.map((s) =>
    s.text === "**" ? { kind: "globstar" } : { kind: "name", atoms: s.atoms },
  );
  if (!anchored && segments[0]?.kind !== "globstar") segments.unshift({ kind: "globstar" });
  return { segments, anchored, contentsOnly: trailingSlash };
}

function atomRegex(atom: string): string {
  if (atom === "*") return "[^/]*";
  if (atom === "?") return "[^/]";
  // Escaped atoms are stored as `\x`; a lone trailing backslash stays a literal backslash.
  const literal = atom.length === 2 && atom.startsWith("\\") ? atom.slice(1) : atom;
  return literal.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/**
 * Compiles a validated pattern into an anchored regular expression over
 * repository-relative file paths. Case sensitive, per GitHub Docs.
 */
export function compilePattern(pattern: string): RegExp {
  const { segments, contentsOnly } = segmentsOf(pattern);
  if (segments.length === 0) return /(?!)/;
  let source = "";
  const last = segments.length - 1;
  segments.forEach((segment, i) => {
    const separator = i === 0 ? "" : "/";
    if (segment.kind === "globstar") {
      if (segments.length === 1) source += ".+";
      else if (i === 0) source += "(?:.+/)?";
      else if (i === last) source += "/.+";
      else source += "(?:/.+)?";
      return;
    }
    // After a leading `**` the optional group already ends in `/`.
    const afterLeadingGlobstar = i === 1 && segments[0]!.kind === "globstar";
    source += afterLeadingGlobstar ? "" : separator;
    const loneStar = segment.atoms.length === 1 && segment.atoms[0] === "*";
    if (loneStar) {
      // A lone `*` segment names one entry; unlike gitignore it does not reach into
      // nested directories (`docs/*` does not own `docs/build-app/troubleshooting.md`).
      source += "[^/]+";
    } else {
      source += segment.atoms.map(atomRegex).join("");
    }
    if (i === last) {
      if (contentsOnly) source += "/.+";
      else if (!loneStar) source += "(?:/.+)?";
    }
  });
  // `s`: `.` must also match newlines, which git allows in file names.
  return new RegExp(`^${source}$`, "s");
}

const LINE_BREAK = /\r\n|\n|\r/;

export function parseCodeowners(text: string): ParsedCodeowners {
  const rules: CodeownersRule[] = [];
  const errors: CodeownersError[] = [];
  if (new TextEncoder().encode(text).length >= CODEOWNERS_MAX_BYTES) {
    errors.push({
      line: 1,
      col: 1,
      kind: "File too large",
      message: "CODEOWNERS files must be under 3 MB; GitHub does not load a larger file",
      source: "",
    });
    return { rules, errors };
  }
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  body.split(LINE_BREAK).forEach((source, index) => {
    const line = index + 1;
    const tokens = tokenize(source);
    const fail = (column: number, kind: CodeownersErrorKind, message: string) =>
      errors.push({ line, col: column + 1, kind, message, source });
    if (tokens.error) {
      fail(tokens.error.index, tokens.error.kind, tokens.error.message);
      return;
    }
    if (!tokens.pattern) return; // blank line or comment
    const patternProblem = checkPattern(tokens.pattern.text);
    if (patternProblem) {
      fail(tokens.pattern.start + patternProblem.offset, "Invalid pattern", patternProblem.message);
      return;
    }
    const owners: Owner[] = [];
    for (const token of tokens.owners) {
      const owner = parseOwner(token.text);
      if (typeof owner === "string") {
        fail(token.start, "Invalid owner", owner);
        return;
      }
      owners.push(owner);
    }
    rules.push({ line, pattern: tokens.pattern.text, owners, regex: compilePattern(tokens.pattern.text) });
  });
  return { rules, errors };
}

/** The owners of one repository-relative file path: the last matching rule wins. */
export function ownersOf(rules: readonly CodeownersRule[], path: string): OwnersOfPath {
  const relative = path.startsWith("/") ? path.slice(1) : path;
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i]!;
    if (rule.regex.test(relative)) return { owners: [...rule.owners], line: rule.line };
  }
  return { owners: [] };
}

/** GitHub logins are case-insensitive (`@Alice` and `@alice` are one account). */
export function sameLogin(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** The owner as it would be written in CODEOWNERS: `@user`, `@org/team`, `user@example.com`. */
export function formatOwner(owner: Owner): string {
  switch (owner.kind) {
    case "user":
      return `@${owner.login}`;
    case "team":
      return `@${owner.org}/${owner.slug}`;
    case "email":
      return owner.email;
  }
}
