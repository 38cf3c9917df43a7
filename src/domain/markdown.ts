/**
 * The one way text from outside (a pull request, a request file, a workflow
 * dispatch, a review, an AWS approver's comment, an error message quoting any
 * of them) enters the Markdown the bot writes: PR comments, review issues,
 * step summaries, the audit log (docs/threat-model.md invariant 10). Pure: no I/O.
 */

/**
 * Control characters, line and paragraph separators, and the Unicode bidi
 * controls (which can make text display in another order than it reads, as in
 * "Trojan Source"). All become white space.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * What can start Markdown anywhere in a line: escape, code span, emphasis and
 * strikethrough, link and image brackets, HTML and autolinks, entities (an
 * entity such as `&#64;` would turn into an `@` after rendering), table column
 * breaks, headings and issue references, GitHub's `$` math.
 */
const INLINE_SPECIAL = /[\\`*_~[\]<>&|#$@]/g;

/** A zero-width space: invisible, but no GitHub reference or autolink pattern crosses it. */
const BREAK = "\u200b";

/**
 * `text` as inline Markdown that renders as exactly that text, on one line,
 * and as nothing else. Safe anywhere inline: in a paragraph, at the start of a
 * line or list item, in a table cell, in bold text. Never inside a code span (a
 * code span shows its content raw, backslashes included), so the bot writes
 * outside text as escaped text, not as code.
 *
 * - `\ ` * _ ~ [ ] < > & | # $ @` are backslash-escaped wherever they are
 *   (CommonMark 0.31 "Backslash escapes": any ASCII punctuation may be): no
 *   code span opens or ends (a backtick in a file name included), no emphasis,
 *   link, image, footnote, raw HTML, autolink, entity, table column break
 *   (GFM honours `\|` in cells) or math can start.
 * - A leading punctuation character is escaped too, and the `.` or `)` after
 *   leading digits: the value cannot open a list, quote, heading, thematic
 *   break, setext underline or fence where a line or list item starts.
 * - GitHub's text filters run after Markdown, on the rendered text, so they
 *   would still see an escaped `@` or `#`. A zero-width space goes after every
 *   `@` (user and team mentions, e-mail autolinks) and `#` (issue references,
 *   `owner/repo#1`), inside `://` (URL autolinks) and after a `www` that starts
 *   a host (`www.` autolinks).
 * - Line breaks, control characters and bidi controls become spaces; runs of
 *   white space collapse to one; the result is trimmed. A value cannot start a
 *   new line, block or table row.
 */
export function mdEscape(text: string): string {
  const line = text
    .replace(INVISIBLE, " ")
    .replace(/\s+/g, " ")
    .trim()
    .replace(/:\/\//g, `:${BREAK}//`)
    .replace(/www\./gi, (www) => `${www.slice(0, 3)}${BREAK}.`)
    .replace(INLINE_SPECIAL, (ch) => `\\${ch}${ch === "@" || ch === "#" ? BREAK : ""}`);
  // Block starts: `1.` / `1)` lists after leading digits, else a leading punctuation character.
  return line.replace(/^(\d+)([.)])/, "$1\\$2").replace(/^[!-/:-@[-`{-~]/, (ch) => (ch === "\\" ? ch : `\\${ch}`));
}
