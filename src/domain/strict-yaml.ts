/**
 * Strict YAML loading for files that come from pull requests (request files)
 * and from the platform team (the config). docs/request-file.md fixes the
 * rules: one document; no anchors, aliases, merge keys, tags or duplicate keys;
 * at most 8 KiB; strings stay strings.
 *
 * Why so strict: a request file is attacker-controlled input that decides who
 * gets which role. Every YAML feature that makes one text mean something other
 * than what a reviewer reads in the diff (aliases, merges, tags, a second
 * document, duplicate keys where the last one silently wins, invisible or
 * bidirectional control characters) is refused, with the line and column of
 * the offending node.
 *
 * Scalars: the document is composed with the YAML 1.2 *failsafe* schema, so
 * every scalar reaches the schema layer as its source text (`yes`, `on`,
 * `0123`, `1e3` all stay exactly what was written). Fields that want a number
 * or a boolean convert that text themselves, with their own strict grammar
 * (see `config.ts`). The only non-string scalar is an empty value (`key:`),
 * which becomes `null` so that "missing value" errors read naturally.
 * Spec: https://yaml.org/spec/1.2.2/#101-failsafe-schema
 */
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  Parser,
  parseAllDocuments,
  Scalar,
} from "yaml";
import type { SourcePosition } from "./errors.js";

/** docs/request-file.md: "at most 8 KiB". */
export const MAX_YAML_BYTES = 8192;

/** The message for a file over the size limit (also used by callers that refuse to read such a file at all). */
export function oversizeMessage(size: number, maxBytes = MAX_YAML_BYTES): string {
  const kib = maxBytes % 1024 === 0 ? ` (${maxBytes / 1024} KiB)` : "";
  return `file is ${size} bytes; the limit is ${maxBytes} bytes${kib}`;
}

export interface StrictYamlOptions {
  /** Size limit in UTF-8 bytes; default `MAX_YAML_BYTES` (request files). */
  maxBytes?: number;
}

/** What a strict YAML document loads to: strings, `null` (empty value), lists and maps. */
export type YamlValue = string | null | YamlValue[] | YamlMap;
export interface YamlMap {
  [key: string]: YamlValue;
}

/** A path into a loaded document, e.g. `["roles", "ec2-admin", "arn"]` or `["requesters", 0]`. */
export type YamlPath = readonly (string | number)[];

/** A problem found while loading, before any schema applies. */
export interface YamlProblem extends SourcePosition {
  message: string;
}

export interface StrictYamlDocument {
  /** The loaded value. Maps are prototype-less objects, so a `__proto__` key is just a key. */
  value: YamlValue;
  /**
   * Where the value at `path` starts. A path that does not exist (a missing
   * key) resolves to its nearest existing ancestor, so that "missing key"
   * errors point at the map that should hold it.
   */
  locate(path: YamlPath): SourcePosition;
  /** Where the key of the last path segment is (the item itself for list indexes). */
  locateKey(path: YamlPath): SourcePosition;
}

export type StrictYamlResult = { ok: true; document: StrictYamlDocument } | { ok: false; problems: YamlProblem[] };

interface NodeLocation {
  value: SourcePosition;
  key: SourcePosition;
}

const pathKey = (path: YamlPath): string => JSON.stringify(path);

/**
 * Characters refused anywhere in the file. YAML itself allows only its
 * "printable" set (https://yaml.org/spec/1.2.2/#51-character-set); on top of
 * that we refuse NEL (U+0085, a C1 control), the byte order mark anywhere,
 * and the Unicode bidirectional controls that can make a diff read differently
 * from what is parsed ("Trojan Source", CVE-2021-42574).
 */
const FORBIDDEN_CHARACTER =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function describeCharacter(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  if (code === 0) return `NUL byte (${hex})`;
  if (code === 0xfeff) return `byte order mark (${hex})`;
  if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) {
    return `bidirectional control character (${hex})`;
  }
  if (code === 0xfffe || code === 0xffff) return `non-character (${hex})`;
  return `control character (${hex})`;
}

/** 1-based line and column (in UTF-16 code units, as the YAML library counts) of a string offset. */
function positionOfOffset(text: string, offset: number): SourcePosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}

/**
 * Byte offset of the first byte that breaks UTF-8 (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), or -1 when the bytes are valid.
 */
function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b0 = bytes[i] as number;
    if (b0 < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let cp: number;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      need = 1;
      min = 0x80;
      cp = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      min = 0x800;
      cp = b0 & 0x0f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      min = 0x10000;
      cp = b0 & 0x07;
    } else {
      return i;
    }
    for (let k = 1; k <= need; k++) {
      const b = bytes[i + k];
      if (b === undefined || (b & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Decodes and checks the raw file: size, encoding, characters. Returns the
 * text or the problems (all located; the size problem at 1:1).
 */
function decodeStrict(input: string | Uint8Array, maxBytes: number): { text: string } | { problems: YamlProblem[] } {
  const size = typeof input === "string" ? utf8Length(input) : input.byteLength;
  if (size > maxBytes) return { problems: [{ line: 1, col: 1, message: oversizeMessage(size, maxBytes) }] };
  let text: string;
  if (typeof input === "string") {
    const lone = LONE_SURROGATE.exec(input);
    if (lone) {
      return { problems: [{ ...positionOfOffset(input, lone.index), message: "file is not valid UTF-8" }] };
    }
    text = input;
  } else {
    const bad = firstInvalidUtf8Offset(input);
    if (bad >= 0) {
      const prefix = new TextDecoder("utf-8").decode(input.subarray(0, bad));
      return {
        problems: [
          {
            ...positionOfOffset(prefix, prefix.length),
            message: `file is not valid UTF-8 (invalid byte 0x${(input[bad] as number).toString(16).padStart(2, "0")})`,
          },
        ],
      };
    }
    // ignoreBOM keeps a leading BOM in the text so that it is reported below, not silently dropped.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(input);
  }
  const problems: YamlProblem[] = [];
  const forbidden = new RegExp(FORBIDDEN_CHARACTER.source, "g");
  for (const match of text.matchAll(forbidden)) {
    const ch = match[0];
    const where = positionOfOffset(text, match.index);
    const hint = ch === "\ufeff" && match.index === 0 ? "; save the file as UTF-8 without a BOM" : "";
    problems.push({ ...where, message: `${describeCharacter(ch)} is not allowed${hint}` });
    if (problems.length >= 20) break;
  }
  return problems.length > 0 ? { problems } : { text };
}

/** `tag:yaml.org,2002:str` is written `!!str` in a file; show it the way the user wrote it. */
function shortTag(tag: string): string {
  return tag.startsWith("tag:yaml.org,2002:") ? `!!${tag.slice("tag:yaml.org,2002:".length)}` : tag;
}

/** At most this many problems per file: enough to fix a file, not enough to flood a terminal. */
export const MAX_YAML_PROBLEMS = 50;

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

function dedupe(problems: YamlProblem[]): YamlProblem[] {
  const seen = new Set<string>();
  const out: YamlProblem[] = [];
  for (const p of problems) {
    const key = `${p.line}:${p.col}:${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
    if (out.length >= MAX_YAML_PROBLEMS) break;
  }
  return out;
}

/**
 * Parses `input` (text, or raw bytes to also check the UTF-8 encoding) as one
 * strict YAML document. Never throws on any input.
 */
export function parseStrictYaml(input: string | Uint8Array, options: StrictYamlOptions = {}): StrictYamlResult {
  const decoded = decodeStrict(input, options.maxBytes ?? MAX_YAML_BYTES);
  if ("problems" in decoded) return { ok: false, problems: decoded.problems };
  const { text } = decoded;

  const lineCounter = new LineCounter();
  const at = (offset: number): SourcePosition => {
    const pos = lineCounter.linePos(offset);
    return { line: Math.max(1, pos.line), col: Math.max(1, pos.col) };
  };
  const problems: YamlProblem[] = [];

  // Directives (%YAML, %TAG) change how the rest of the file is read; refuse them.
  for (const token of new Parser().parse(text)) {
    if (token.type === "directive") {
      problems.push({ ...positionOfOffset(text, token.offset), message: "YAML directives (%…) are not allowed" });
    }
  }

  const documents = parseAllDocuments(text, {
    lineCounter,
    version: "1.2",
    schema: "failsafe",
    merge: false,
    // Duplicate keys are detected below, with a message that names the key and its first occurrence.
    uniqueKeys: false,
    prettyErrors: false,
    strict: true,
    keepSourceTokens: false,
  });
  const list = Array.isArray(documents) ? documents : [];
  if (list.length > 1) {
    const second = list[1];
    problems.push({
      ...at(second?.range[0] ?? 0),
      message: "more than one YAML document (---) in the file; a file holds exactly one",
    });
  }
  // The library's syntax errors come several to one mistake; the first on a line says it.
  const linesWithSyntaxError = new Set<number>();
  for (const doc of list) {
    for (const issue of [...doc.errors, ...doc.warnings]) {
      const pos = at(issue.pos[0]);
      // The library reports unknown tags and dangling aliases in its own words; say what the rule is.
      if (issue.code === "TAG_RESOLVE_FAILED") {
        problems.push({ ...pos, message: "tags (!…) are not allowed; write a plain value" });
      } else if (issue.code === "BAD_ALIAS") {
        problems.push({ ...pos, message: "aliases (*…) are not allowed; write the value out" });
      } else if (!linesWithSyntaxError.has(pos.line)) {
        linesWithSyntaxError.add(pos.line);
        problems.push(yamlSyntaxProblem(issue.code, issue.message, text, pos));
      }
    }
  }
  if (problems.length > 0) return { ok: false, problems: dedupe(problems) };

  const doc = list[0];
  const locations = new Map<string, NodeLocation>();
  const origin: SourcePosition = { line: 1, col: 1 };

  const visit = (node: Node | null, path: (string | number)[], keyPos: SourcePosition | undefined): YamlValue => {
    if (node === null) {
      const pos = keyPos ?? origin;
      locations.set(pathKey(path), { value: pos, key: pos });
      return null;
    }
    const pos = at(node.range?.[0] ?? 0);
    if (isAlias(node)) {
      problems.push({ ...pos, message: `aliases (*${node.source}) are not allowed; write the value out` });
      return null;
    }
    if (node.anchor) {
      problems.push({ ...pos, message: `anchors (&${node.anchor}) are not allowed` });
    }
    if (node.tag) {
      problems.push({ ...pos, message: `tags (${shortTag(node.tag)}) are not allowed; write a plain value` });
    }
    if (isScalar(node)) {
      const isEmpty = node.type === Scalar.PLAIN && node.source === "";
      // An empty value sits right after the colon; point at its key instead.
      const valuePos = isEmpty && keyPos ? keyPos : pos;
      locations.set(pathKey(path), { value: valuePos, key: keyPos ?? valuePos });
      if (isEmpty) return null;
      return String(node.value);
    }
    locations.set(pathKey(path), { value: pos, key: keyPos ?? pos });
    if (isSeq(node)) {
      const items: YamlValue[] = [];
      node.items.forEach((item, index) => {
        if (isPair(item)) {
          problems.push({ ...pos, message: "a single-pair map inside a flow list is not allowed" });
          return;
        }
        const itemNode = item as Node | null;
        const itemPos = itemNode ? at(itemNode.range?.[0] ?? 0) : pos;
        items.push(visit(itemNode, [...path, index], itemPos));
      });
      return items;
    }
    if (isMap(node)) {
      const map: YamlMap = Object.create(null);
      const firstSeen = new Map<string, SourcePosition>();
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const keyAt = keyNode ? at(keyNode.range?.[0] ?? 0) : pos;
        if (!keyNode || !isScalar(keyNode) || (keyNode.type === Scalar.PLAIN && keyNode.source === "")) {
          problems.push({ ...keyAt, message: "map keys must be plain, non-empty strings" });
          continue;
        }
        if (keyNode.anchor) problems.push({ ...keyAt, message: `anchors (&${keyNode.anchor}) are not allowed` });
        if (keyNode.tag) problems.push({ ...keyAt, message: `tags (${shortTag(keyNode.tag)}) are not allowed` });
        const key = String(keyNode.value);
        if (key === "<<") {
          problems.push({ ...keyAt, message: "merge keys (<<) are not allowed; write every key out" });
          continue;
        }
        const seen = firstSeen.get(key);
        if (seen) {
          problems.push({
            ...keyAt,
            message: `duplicate key ${JSON.stringify(key)} (first defined at line ${seen.line})`,
          });
          continue;
        }
        firstSeen.set(key, keyAt);
        map[key] = visit(pair.value as Node | null, [...path, key], keyAt);
      }
      return map;
    }
    problems.push({ ...pos, message: "unsupported YAML node" });
    return null;
  };

  const value = doc ? visit(doc.contents as Node | null, [], undefined) : null;
  if (!locations.has(pathKey([]))) locations.set(pathKey([]), { value: origin, key: origin });
  if (problems.length > 0) return { ok: false, problems: dedupe(problems) };

  const nearest = (path: YamlPath): NodeLocation => {
    for (let n = path.length; n >= 0; n--) {
      const found = locations.get(pathKey(path.slice(0, n)));
      if (found) return found;
    }
    return { value: origin, key: origin };
  };
  return {
    ok: true,
    document: {
      value,
      locate: (path) => nearest(path).value,
      locateKey: (path) => {
        const exact = locations.get(pathKey(path));
        return exact ? exact.key : nearest(path).value;
      },
    },
  };
}
