import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_YAML_BYTES, parseStrictYaml } from "../../src/domain/strict-yaml.js";

function problems(input: string | Uint8Array) {
  const result = parseStrictYaml(input);
  if (result.ok) throw new Error(`expected problems, got ${JSON.stringify(result.document.value)}`);
  return result.problems;
}

function load(input: string) {
  const result = parseStrictYaml(input);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.document;
}

describe("parseStrictYaml: values", () => {
  it("keeps every scalar as its source text (no YAML 1.1 or core-schema coercion)", () => {
    const doc = load("a: yes\nb: on\nc: 0123\nd: 1e3\ne: true\nf: ~\ng: null\nh: 0x1F\ni: 12:30\nj: '0123'\n");
    expect(doc.value).toEqual({
      a: "yes",
      b: "on",
      c: "0123",
      d: "1e3",
      e: "true",
      f: "~",
      g: "null",
      h: "0x1F",
      i: "12:30",
      j: "0123",
    });
  });

  it("turns an empty value into null, and reads lists, flow maps and block scalars", () => {
    const doc = load("a:\nb: [x, y]\nc: {k: v}\nd: |\n  one\n  two\n");
    expect(doc.value).toEqual({ a: null, b: ["x", "y"], c: { k: "v" }, d: "one\ntwo\n" });
  });

  it("treats __proto__ as an ordinary key", () => {
    const doc = load("__proto__: polluted\n");
    expect(Object.getPrototypeOf(doc.value)).toBeNull();
    expect(Object.getOwnPropertyDescriptor(doc.value, "__proto__")?.value).toBe("polluted");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("loads an empty file as null", () => {
    expect(load("").value).toBeNull();
    expect(load("# only a comment\n").value).toBeNull();
  });
});

describe("parseStrictYaml: locations", () => {
  const doc = load("roles:\n  ec2-admin:\n    arn: x\n    requesters: [alice, bob]\n  empty:\n");

  it("maps a path to the 1-based line and column of its value", () => {
    expect(doc.locate(["roles", "ec2-admin", "arn"])).toEqual({ line: 3, col: 10 });
    expect(doc.locate(["roles", "ec2-admin", "requesters", 1])).toEqual({ line: 4, col: 25 });
  });

  it("maps a path to its key, and an empty value to its key", () => {
    expect(doc.locateKey(["roles", "ec2-admin", "arn"])).toEqual({ line: 3, col: 5 });
    expect(doc.locate(["roles", "empty"])).toEqual({ line: 5, col: 3 });
  });

  it("resolves a missing path to its nearest existing ancestor", () => {
    expect(doc.locate(["roles", "ec2-admin", "missing"])).toEqual(doc.locate(["roles", "ec2-admin"]));
    expect(doc.locate(["nothing", "here"])).toEqual({ line: 1, col: 1 });
  });
});

describe("parseStrictYaml: refusals, each located", () => {
  it.each([
    ["anchor", "a: &x 1\n", 1, 7, /anchors \(&x\)/],
    ["alias", "a: 1\nb: *x\n", 2, 4, /aliases/],
    ["local tag", "a: !foo x\n", 1, 4, /tags/],
    ["core tag !!str", "a: !!str 1\n", 1, 10, /tags \(!!str\)/],
    ["non-specific tag", "a: ! x\n", 1, 6, /tags/],
    ["tag on a map", "a: !!map {b: c}\n", 1, 10, /tags \(!!map\)/],
    ["merge key", "base: {x: 1}\nb:\n  <<: {y: 2}\n", 3, 3, /merge keys/],
    ["duplicate key", "a: 1\nb: 2\na: 3\n", 3, 1, /duplicate key "a" \(first defined at line 1\)/],
    ["nested duplicate key", "m:\n  k: 1\n  k: 2\n", 3, 3, /duplicate key "k"/],
    ["two documents", "a: 1\n---\nb: 2\n", 2, 1, /more than one YAML document/],
    ["document end then more", "a: 1\n...\n---\nb: 2\n", 3, 1, /more than one YAML document/],
    ["directive", "%YAML 1.1\n---\na: 1\n", 1, 1, /directives/],
    ["BOM", "\ufeffa: 1\n", 1, 1, /byte order mark.*without a BOM/],
    ["NUL byte", "a: b\u0000c\n", 1, 5, /NUL byte/],
    ["escape character", "a: \u001b[31mred\n", 1, 4, /control character \(U\+001B\)/],
    ["DEL", "a: \u007f\n", 1, 4, /control character/],
    ["C1 control (NEL)", "a: x\u0085y\n", 1, 5, /control character \(U\+0085\)/],
    ["bidi override", "a: safe\u202eevil\n", 1, 8, /bidirectional control/],
    ["complex key", "? [a]\n: b\n", 1, 3, /map keys/],
    ["unclosed flow list", "a: [1\n", 2, 1, /a \[ … \] or \{ … \} list is not closed; close it with \] or \}/],
  ])("%s", (_name, text, line, col, message) => {
    const found = problems(text);
    expect(found[0]).toMatchObject({ line, col });
    expect(found[0]?.message).toMatch(message);
  });

  it("refuses files over 8 KiB, before parsing", () => {
    const nine = `a: "${"x".repeat(9 * 1024)}"\n`;
    expect(problems(nine)).toEqual([
      { line: 1, col: 1, message: `file is ${9 * 1024 + 6} bytes; the limit is ${MAX_YAML_BYTES} bytes (8 KiB)` },
    ]);
    // Exactly at the limit is fine; the size counts UTF-8 bytes, not characters.
    const atLimit = `a: ${"x".repeat(MAX_YAML_BYTES - 4)}\n`;
    expect(parseStrictYaml(atLimit).ok).toBe(true);
    expect(problems(`a: ${"é".repeat(4095)}\n`)[0]?.message).toMatch(/8194 bytes/);
  });

  it("refuses bytes that are not UTF-8, with the position of the bad byte", () => {
    const bytes = new Uint8Array([0x61, 0x3a, 0x20, 0x62, 0x0a, 0x63, 0x3a, 0x20, 0xc3, 0x28, 0x0a]);
    expect(problems(bytes)).toEqual([{ line: 2, col: 4, message: "file is not valid UTF-8 (invalid byte 0xc3)" }]);
    // Overlong encoding of "/" and an encoded surrogate are refused too.
    expect(problems(new Uint8Array([0x61, 0x3a, 0x20, 0xc0, 0xaf]))[0]?.message).toMatch(/not valid UTF-8/);
    expect(problems(new Uint8Array([0x61, 0x3a, 0x20, 0xed, 0xa0, 0x80]))[0]?.message).toMatch(/not valid UTF-8/);
    expect(problems("a: \ud800\n")[0]?.message).toMatch(/not valid UTF-8/);
  });

  it("finds a BOM in raw bytes too (the decoder does not strip it)", () => {
    expect(problems(new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0x3a, 0x20, 0x31]))[0]?.message).toMatch(/byte order mark/);
  });

  it("refuses a billion-laughs document without expanding it", () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(",")}]`);
    }
    // Expanded, the document would hold 9^10 strings: a loader that expanded it would not return.
    const found = problems(`${lines.join("\n")}\n`);
    expect(found.some((p) => /aliases/.test(p.message))).toBe(true);
    expect(found.length).toBeLessThanOrEqual(50);
  });

  it("never throws, and every problem is located at line >= 1, col >= 1", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 300 }), fc.string({ maxLength: 300 })), (text) => {
        const result = parseStrictYaml(text);
        if (!result.ok) {
          for (const p of result.problems) {
            expect(p.line).toBeGreaterThanOrEqual(1);
            expect(p.col).toBeGreaterThanOrEqual(1);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("YAML syntax errors in our words, at the line and column to fix", () => {
  const problems = (text: string) => {
    const result = parseStrictYaml(text);
    return result.ok ? [] : result.problems;
  };
  it.each([
    [
      "a key indented under the line above (points at the indented line)",
      "requester: alice\nrole: ec2-admin\n  duration: 1h\n",
      3,
      3,
      'this line is indented under "role"; start it in the same column as the key above',
    ],
    [
      "a mapping item out of line with its siblings",
      "a:\n    b: 1\n  c: 2\n",
      3,
      1,
      "this line is not indented like the lines before it; keys of one map start in the same column",
    ],
    [
      "a tab as indentation",
      "requester: alice\n\trole: x\n",
      2,
      1,
      "a tab indents this line; YAML indents with spaces only",
    ],
    [
      "an unclosed quote",
      'reason: "abc\nrole: x\n',
      3,
      1,
      "a quoted value is not closed; end it with the same quote (\" or ') on its line",
    ],
    [
      "a value containing ': '",
      "reason: fix: the thing\n",
      1,
      9,
      'the value contains ": "; put it in quotes, e.g. reason: "fix: the thing"',
    ],
    [
      "no space after the colon",
      "role:x\nduration: 1h\n",
      1,
      1,
      '"role:x" is not a "key: value" line; put a space after the colon',
    ],
    ["a line with no colon", "a\nb: 1\n", 1, 1, '"a" is not a "key: value" line'],
    [
      "a reserved first character",
      "reason: @alice fix\n",
      1,
      9,
      "a plain value cannot start with @; put the value in quotes",
    ],
    [
      "a bad escape",
      'reason: "a\\qb"\n',
      1,
      11,
      "invalid escape \\q in a double-quoted value; write \\\\ for a backslash, or use single quotes",
    ],
    ["a list item among keys", "- a\nrole: x\n", 2, 1, 'unexpected text here; expected "key: value" lines'],
  ])("%s", (_name, text, line, col, message) => {
    const found = problems(text);
    expect(found).toEqual([{ line, col, message }]);
    expect(message).not.toMatch(/compact mappings|implicit key|invalid YAML/i);
  });
});
