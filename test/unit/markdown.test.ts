/**
 * src/domain/markdown.ts: text from outside renders as exactly that text and as
 * nothing else. Judged by rendering with micromark and its GFM extension
 * (CommonMark plus tables, autolink literals, strikethrough, footnotes: the
 * dialect of GitHub's comments), over hostile strings (fast-check), in every
 * position the bot puts such text: a paragraph, a table cell, a list item, the
 * line after a paragraph, bold text. GitHub's own text filters (mentions,
 * issue references) run on the rendered text; their triggers must not survive.
 */
import fc from "fast-check";
import { micromark } from "micromark";
import { gfm, gfmHtml } from "micromark-extension-gfm";
import { describe, expect, it } from "vitest";
import { mdEscape } from "../../src/domain/markdown.js";

function render(markdown: string): string {
  return micromark(markdown, { extensions: [gfm()], htmlExtensions: [gfmHtml()] }).trim();
}

/** What a reader sees: the text with white space collapsed, and the zero-width breaks. */
function seen(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

const ZWSP = "\u200b";

/** Pieces attackers use, mixed with ordinary text. */
const HOSTILE = [
  "@",
  "@alice",
  "@acme/admins",
  "#",
  "#12",
  "acme/elevate#3",
  "`",
  "``",
  "```",
  "\\",
  "|",
  "*",
  "**",
  "_",
  "__",
  "~",
  "~~",
  "[",
  "]",
  "[x](http://evil.example/a)",
  "![img](https://evil.example/p.png)",
  "[ref]: http://evil.example",
  "[^1]",
  "<",
  ">",
  "<img src=x onerror=alert(1)>",
  "<!-- hidden -->",
  "<https://evil.example>",
  "&",
  "&#64;bob",
  "&lt;",
  "https://evil.example/x",
  "http://a.b",
  "www.evil.example",
  "mailto:x@y.zz",
  "bob@example.com",
  "$x$",
  "$$",
  ":x:",
  "-",
  "- ",
  "+ ",
  "1. ",
  "2) ",
  "# ",
  "> ",
  "---",
  "===",
  "    ",
  "\n",
  "\r\n",
  "\t",
  "\u2028",
  "\u202e",
  "\u0000",
  " ",
  "a",
  "Z",
  "0",
  "9",
  ".",
  ":",
  "(",
  ")",
  "!",
  "=",
  "'",
  '"',
  "é",
  "日本",
  "🙂",
];

const hostile = fc.oneof(
  fc.array(fc.constantFrom(...HOSTILE), { maxLength: 12 }).map((parts) => parts.join("")),
  fc.string({ unit: "grapheme-ascii", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
);

/** Strings without the characters mdEscape turns into spaces, so the expected text is plain to state. */
const VISIBLE_ONLY =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the test states which characters are excluded.
  /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]*$/;
const visible = hostile.filter((s) => VISIBLE_ONLY.test(s));

/** The rendered text (tags stripped, entities decoded) without the zero-width breaks. */
function textOf(rendered: string): string {
  return rendered
    .replace(/<[^>]*>/g, "")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/\u200b/g, "");
}

/** No GitHub text filter can fire on what remains. */
function expectNoTriggers(rendered: string): void {
  const text = rendered.replace(/<[^>]*>/g, "");
  expect(text).not.toMatch(/@(?!\u200b)/);
  expect(text).not.toMatch(/#(?!\u200b)/);
  expect(text).not.toMatch(/:\/\//);
  expect(text).not.toMatch(/\bwww\./i);
}

describe("mdEscape renders as the text itself, and nothing else", () => {
  it("in a paragraph: one <p>, no other element, the same text", () => {
    fc.assert(
      fc.property(visible, (s) => {
        const rendered = render(mdEscape(s));
        const expected = seen(s);
        if (expected === "") {
          expect(rendered).toBe("");
          return;
        }
        expect(rendered).toMatch(/^<p>[^<]*<\/p>$/);
        expect(textOf(rendered)).toBe(expected);
        expectNoTriggers(rendered);
      }),
      { numRuns: 1000 },
    );
  });

  it("in a table cell: one row, one cell, no other element, the same text", () => {
    fc.assert(
      fc.property(visible, (s) => {
        const rendered = render(`| value | next |\n| --- | --- |\n| ${mdEscape(s)} | end |`);
        const cells = [...rendered.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((m) => m[1] ?? "");
        expect(cells).toHaveLength(2);
        expect(cells[0]).not.toMatch(/</);
        expect(textOf(cells[0] ?? "")).toBe(seen(s));
        expect(cells[1]).toBe("end");
        expectNoTriggers(rendered);
      }),
      { numRuns: 1000 },
    );
  });

  it("as a list item, after a paragraph line, and in bold: the structure around it holds", () => {
    fc.assert(
      fc.property(visible, (s) => {
        const text = seen(s);
        const escaped = mdEscape(s);
        if (text === "") return;
        const item = render(`- ${escaped}`);
        expect(item).toMatch(/^<ul>\n<li>[^<]*<\/li>\n<\/ul>$/);
        expect(textOf(/<li>([^<]*)<\/li>/.exec(item)?.[1] ?? "")).toBe(text);
        const after = render(`Refused:\n${escaped}`);
        expect(after).toMatch(/^<p>Refused:\n[^<]*<\/p>$/);
        const bold = render(`**${escaped}**: refused`);
        expect(bold).toMatch(/^<p><strong>[^<]*<\/strong>: refused<\/p>$/);
        expect(textOf(bold)).toBe(`${text}: refused`);
      }),
      { numRuns: 1000 },
    );
  });

  it("one line always: breaks, control and bidi characters become single spaces", () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const escaped = mdEscape(s);
        expect(escaped).not.toMatch(/[\r\n\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
        expect(escaped).not.toMatch(/\s{2}/);
        expect(escaped).toBe(escaped.trim());
        expect(render(escaped)).not.toMatch(/<(?!\/?p>)/);
      }),
      { numRuns: 1000 },
    );
    expect(mdEscape("line\nbreak\u2028x\u202eevil\u0000end")).toBe("line break x evil end");
  });

  it("examples: the Markdown it writes", () => {
    expect(mdEscape("a | b")).toBe("a \\| b");
    expect(mdEscape("requests/ec2-admin/`x`.yaml")).toBe("requests/ec2-admin/\\`x\\`.yaml");
    expect(mdEscape("![x](http://t/p.png) <img> **b**")).toBe(
      `\\!\\[x\\](http:${ZWSP}//t/p.png) \\<img\\> \\*\\*b\\*\\*`,
    );
    expect(mdEscape("ping @alice and #12")).toBe(`ping \\@${ZWSP}alice and \\#${ZWSP}12`);
    expect(mdEscape("see www.example.com")).toBe(`see www${ZWSP}.example.com`);
    expect(mdEscape("- not a list")).toBe("\\- not a list");
    expect(mdEscape("1. not a list")).toBe("1\\. not a list");
    expect(mdEscape("2026-11-30T09:00:00Z (PR 5): ok.")).toBe("2026-11-30T09:00:00Z (PR 5): ok.");
  });
});
