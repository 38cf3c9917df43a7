/**
 * The first gate of strict YAML loading (./strict-yaml.ts): the raw file's
 * size, its UTF-8 encoding and its characters, before any YAML is parsed.
 */
import type { SourcePosition } from "./errors.js";
import type { YamlProblem } from "./strict-yaml.js";

/** docs/request-file.md: "at most 8 KiB". */
export const MAX_YAML_BYTES = 8192;

/** The message for a file over the size limit (also used by callers that refuse to read such a file at all). */
export function oversizeMessage(size: number, maxBytes = MAX_YAML_BYTES): string {
  const kib = maxBytes % 1024 === 0 ? ` (${maxBytes / 1024} KiB)` : "";
  return `file is ${size} bytes; the limit is ${maxBytes} bytes${kib}`;
}

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
export function positionOfOffset(text: string, offset: number): SourcePosition {
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
export function decodeStrict(
  input: string | Uint8Array,
  maxBytes: number,
): { text: string } | { problems: YamlProblem[] } {
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
