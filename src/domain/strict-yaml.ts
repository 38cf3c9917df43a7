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
 *
 * The raw file's size, encoding and characters are checked first
 * (./yaml-decode.ts); syntax errors are restated in our words by
 * ./yaml-syntax-errors.ts.
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
import { decodeStrict, MAX_YAML_BYTES, oversizeMessage, positionOfOffset } from "./yaml-decode.js";
import { yamlSyntaxProblem } from "./yaml-syntax-errors.js";

// The size limit belongs to the decoding step; callers keep importing it from here.
export { MAX_YAML_BYTES, oversizeMessage };

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

/** `tag:yaml.org,2002:str` is written `!!str` in a file; show it the way the user wrote it. */
function shortTag(tag: string): string {
  return tag.startsWith("tag:yaml.org,2002:") ? `!!${tag.slice("tag:yaml.org,2002:".length)}` : tag;
}

/** At most this many problems per file: enough to fix a file, not enough to flood a terminal. */
export const MAX_YAML_PROBLEMS = 50;

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
