import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CODEOWNERS_MAX_BYTES,
  compilePattern,
  formatOwner,
  type Owner,
  ownersOf,
  parseCodeowners,
  sameLogin,
} from "../../src/domain/codeowners.js";

/** Owners of `path` as CODEOWNERS would write them, e.g. ["@octocat"]. */
function owners(text: string, path: string): string[] {
  const { rules, errors } = parseCodeowners(text);
  expect(errors).toEqual([]);
  return ownersOf(rules, path).owners.map(formatOwner);
}

function matches(pattern: string, path: string): boolean {
  return compilePattern(pattern).test(path);
}

// The example file from GitHub Docs, "About code owners" ("Example of a CODEOWNERS file"),
// comments shortened; line numbers below refer to this text.
const DOCS_EXAMPLE = [
  "# This is a comment.", // 1
  "# Each line is a file pattern followed by one or more owners.", // 2
  "", // 3
  "# These owners will be the default owners for everything in the repo.", // 4
  "*       @global-owner1 @global-owner2", // 5
  "", // 6
  "# Order is important; the last matching pattern takes the most precedence.", // 7
  "*.js    @js-owner #This is an inline comment.", // 8
  "", // 9
  "# You can also use email addresses if you prefer.", // 10
  "*.go docs@example.com", // 11
  "", // 12
  "# Teams can be specified as code owners as well.", // 13
  "*.txt @octo-org/octocats", // 14
  "", // 15
  "# @doctocat owns any files in the build/logs directory at the root and its subdirectories.", // 16
  "/build/logs/ @doctocat", // 17
  "", // 18
  "# The `docs/*` pattern will match files like `docs/getting-started.md`", // 19
  "# but not further nested files like `docs/build-app/troubleshooting.md`.", // 20
  "docs/*  docs@example.com", // 21
  "", // 22
  "# @octocat owns any file in an apps directory anywhere in your repository.", // 23
  "apps/ @octocat", // 24
  "", // 25
  "# @doctocat owns any file in the `/docs` directory in the root and its subdirectories.", // 26
  "/docs/ @doctocat", // 27
  "", // 28
  "# Any change inside the `/scripts` directory will require approval from @doctocat or @octocat.", // 29
  "/scripts/ @doctocat @octocat", // 30
  "", // 31
  "# @octocat owns any file in a `/logs` directory such as `/build/logs`, `/scripts/logs`,", // 32
  "# and `/deeply/nested/logs`.", // 33
  "**/logs @octocat", // 34
  "", // 35
  "# @octocat owns any file in `/apps` except for the `/apps/github` subdirectory,", // 36
  "# as its owners are left empty.", // 37
  "/apps/ @octocat", // 38
  "/apps/github", // 39
  "", // 40
  "# @octocat owns any file in `/apps` except for `/apps/github`, which has its own owner @doctocat.", // 41
  "/apps/ @octocat", // 42
  "/apps/github @doctocat", // 43
].join("\n");

describe("parseCodeowners on the GitHub Docs example", () => {
  const parsed = parseCodeowners(DOCS_EXAMPLE);

  it("parses every rule without errors, keeping line numbers and owners as written", () => {
    expect(parsed.errors).toEqual([]);
    expect(parsed.rules.map((r) => [r.line, r.pattern, r.owners.map(formatOwner)])).toEqual([
      [5, "*", ["@global-owner1", "@global-owner2"]],
      [8, "*.js", ["@js-owner"]],
      [11, "*.go", ["docs@example.com"]],
      [14, "*.txt", ["@octo-org/octocats"]],
      [17, "/build/logs/", ["@doctocat"]],
      [21, "docs/*", ["docs@example.com"]],
      [24, "apps/", ["@octocat"]],
      [27, "/docs/", ["@doctocat"]],
      [30, "/scripts/", ["@doctocat", "@octocat"]],
      [34, "**/logs", ["@octocat"]],
      [38, "/apps/", ["@octocat"]],
      [39, "/apps/github", []],
      [42, "/apps/", ["@octocat"]],
      [43, "/apps/github", ["@doctocat"]],
    ]);
  });

  it("types owners: users, teams and emails", () => {
    const byLine = (line: number): Owner[] => parsed.rules.find((r) => r.line === line)!.owners;
    expect(byLine(5)).toEqual([
      { kind: "user", login: "global-owner1" },
      { kind: "user", login: "global-owner2" },
    ]);
    expect(byLine(11)).toEqual([{ kind: "email", email: "docs@example.com" }]);
    expect(byLine(14)).toEqual([{ kind: "team", org: "octo-org", slug: "octocats" }]);
  });

  // Whole file: the last matching line wins.
  it.each([
    ["README.md", 5, ["@global-owner1", "@global-owner2"]],
    ["src/index.js", 8, ["@js-owner"]],
    ["cmd/main.go", 11, ["docs@example.com"]],
    ["notes/todo.txt", 14, ["@octo-org/octocats"]],
    ["build/logs/run.log", 34, ["@octocat"]], // line 17 matches too, line 34 is later
    ["build/output.bin", 5, ["@global-owner1", "@global-owner2"]],
    ["docs/getting-started.md", 27, ["@doctocat"]],
    ["docs/build-app/troubleshooting.md", 27, ["@doctocat"]],
    ["src/apps/main.rb", 24, ["@octocat"]],
    ["scripts/deploy.sh", 30, ["@doctocat", "@octocat"]],
    ["scripts/logs/today.log", 34, ["@octocat"]],
    ["deeply/nested/logs/x.log", 34, ["@octocat"]],
    ["apps/web/server.rb", 42, ["@octocat"]],
    ["apps/github/hooks.rb", 43, ["@doctocat"]],
  ])("owners of %s come from line %i", (path, line, expected) => {
    const result = ownersOf(parsed.rules, path);
    expect(result.line).toBe(line);
    expect(result.owners.map(formatOwner)).toEqual(expected);
  });
});

describe("each commented example of the docs, on its own", () => {
  it("`*` owns everything", () => {
    for (const path of ["README.md", "a/b/c.txt", ".github/CODEOWNERS"]) {
      expect(owners("* @global-owner1 @global-owner2", path)).toEqual(["@global-owner1", "@global-owner2"]);
    }
  });

  it("a later `*.js` takes precedence over `*` for JS files only", () => {
    const text = "* @global\n*.js @js-owner";
    expect(owners(text, "src/app.js")).toEqual(["@js-owner"]);
    expect(owners(text, "app.js")).toEqual(["@js-owner"]);
    expect(owners(text, "src/app.ts")).toEqual(["@global"]);
    expect(owners(text, "src/app.jsx")).toEqual(["@global"]);
  });

  it("`/build/logs/` owns files in the root build/logs directory and its subdirectories only", () => {
    const text = "/build/logs/ @doctocat";
    expect(owners(text, "build/logs/a.log")).toEqual(["@doctocat"]);
    expect(owners(text, "build/logs/2026/a.log")).toEqual(["@doctocat"]);
    expect(owners(text, "src/build/logs/a.log")).toEqual([]);
    expect(owners(text, "build/logs")).toEqual([]); // a file named logs, not the directory
  });

  it("`docs/*` owns files directly in docs/, not nested ones", () => {
    const text = "docs/* docs@example.com";
    expect(owners(text, "docs/getting-started.md")).toEqual(["docs@example.com"]);
    expect(owners(text, "docs/build-app/troubleshooting.md")).toEqual([]);
    // a slash in the middle anchors the pattern to the root
    expect(owners(text, "src/docs/getting-started.md")).toEqual([]);
  });

  it("`apps/` owns any file in an apps directory anywhere", () => {
    const text = "apps/ @octocat";
    expect(owners(text, "apps/x.rb")).toEqual(["@octocat"]);
    expect(owners(text, "src/apps/x.rb")).toEqual(["@octocat"]);
    expect(owners(text, "a/b/apps/c/d.rb")).toEqual(["@octocat"]);
    expect(owners(text, "apps")).toEqual([]); // a file, not a directory
    expect(owners(text, "myapps/x.rb")).toEqual([]);
  });

  it("`/docs/` owns the root docs directory and its subdirectories", () => {
    const text = "/docs/ @doctocat";
    expect(owners(text, "docs/a.md")).toEqual(["@doctocat"]);
    expect(owners(text, "docs/a/b/c.md")).toEqual(["@doctocat"]);
    expect(owners(text, "src/docs/a.md")).toEqual([]);
  });

  it("`**/logs` owns any file in a logs directory at any depth", () => {
    const text = "**/logs @octocat";
    for (const path of ["logs/a", "build/logs/a", "scripts/logs/a", "deeply/nested/logs/a", "logs"]) {
      expect(owners(text, path)).toEqual(["@octocat"]);
    }
    expect(owners(text, "catalogs/a")).toEqual([]);
  });

  it("a line without owners clears ownership for its paths", () => {
    const text = "/apps/ @octocat\n/apps/github";
    expect(owners(text, "apps/web/x")).toEqual(["@octocat"]);
    const cleared = ownersOf(parseCodeowners(text).rules, "apps/github/x");
    expect(cleared).toEqual({ owners: [], line: 2 });
  });

  it("a later line with its own owner overrides the directory owner", () => {
    const text = "/apps/ @octocat\n/apps/github @doctocat";
    expect(owners(text, "apps/github/x")).toEqual(["@doctocat"]);
    expect(owners(text, "apps/gitlab/x")).toEqual(["@octocat"]);
  });
});

describe("matching semantics", () => {
  it("is case sensitive on paths", () => {
    const text = "/requests/prod-admin/ @acme/prod-approvers";
    expect(owners(text, "requests/prod-admin/a.yaml")).toEqual(["@acme/prod-approvers"]);
    expect(owners(text, "Requests/prod-admin/a.yaml")).toEqual([]);
    expect(owners(text, "requests/Prod-Admin/a.yaml")).toEqual([]);
    expect(owners("*.YAML @a", "x.yaml")).toEqual([]);
  });

  it("`/*` matches files directly in the root only (not recursive)", () => {
    expect(matches("/*", "README.md")).toBe(true);
    expect(matches("/*", "docs/README.md")).toBe(false);
    expect(matches("/requests/*", "requests/a.yaml")).toBe(true);
    expect(matches("/requests/*", "requests/prod-admin/a.yaml")).toBe(false);
  });

  it("`*` alone owns every file at every depth", () => {
    expect(matches("*", "a")).toBe(true);
    expect(matches("*", "a/b/c")).toBe(true);
  });

  it("a single-segment name matches a file or directory at any depth", () => {
    expect(matches("foo", "foo")).toBe(true);
    expect(matches("foo", "foo/bar")).toBe(true);
    expect(matches("foo", "bar/foo/baz")).toBe(true);
    expect(matches("foo", "foo.txt")).toBe(false);
    expect(matches("foo", "xfoo")).toBe(false);
  });

  it("a slash in the middle anchors to the root; a leading slash does too", () => {
    for (const pattern of ["foo/bar", "/foo/bar"]) {
      expect(matches(pattern, "foo/bar")).toBe(true);
      expect(matches(pattern, "foo/bar/baz")).toBe(true);
      expect(matches(pattern, "x/foo/bar")).toBe(false);
      expect(matches(pattern, "foo/bart")).toBe(false);
    }
    expect(matches("/foo", "foo/x")).toBe(true);
    expect(matches("/foo", "bar/foo")).toBe(false);
  });

  it("`**` semantics: leading, middle and trailing", () => {
    expect(matches("**/foo/bar", "foo/bar")).toBe(true);
    expect(matches("**/foo/bar", "a/b/foo/bar")).toBe(true);
    expect(matches("**/foo/bar", "foo/x/bar")).toBe(false);
    expect(matches("foo/**/bar", "foo/bar")).toBe(true);
    expect(matches("foo/**/bar", "foo/a/b/bar/c")).toBe(true);
    expect(matches("foo/**/bar", "x/foo/bar")).toBe(false);
    expect(matches("foo/**", "foo")).toBe(false);
    expect(matches("foo/**", "foo/a/b")).toBe(true);
    expect(matches("**", "a/b")).toBe(true);
  });

  it("`*` and `?` do not cross directory separators", () => {
    expect(matches("/src/*.ts", "src/a.ts")).toBe(true);
    expect(matches("/src/*.ts", "src/a/b.ts")).toBe(false);
    expect(matches("f?o", "foo")).toBe(true);
    expect(matches("f?o", "fo")).toBe(false);
    expect(matches("a?b", "a/b")).toBe(false);
  });

  it("`*.js` matches anywhere, including a directory named like it", () => {
    expect(matches("*.js", "a.js")).toBe(true);
    expect(matches("*.js", "x/y/a.js")).toBe(true);
    expect(matches("*.js", "lib.js/index.ts")).toBe(true);
    expect(matches("*.js", "a.json")).toBe(false);
  });

  it("regex metacharacters in names are literal", () => {
    expect(matches("a+b.(c)", "a+b.(c)")).toBe(true);
    expect(matches("a+b.(c)", "aab.(c)")).toBe(false);
    expect(matches("a.b", "axb")).toBe(false);
    expect(matches("$x^", "$x^")).toBe(true);
  });

  it("escaped wildcards and escaped spaces are literal", () => {
    expect(matches("f\\*o", "f*o")).toBe(true);
    expect(matches("f\\*o", "foo")).toBe(false);
    expect(matches("f\\?o", "f?o")).toBe(true);
    expect(matches("f\\?o", "fxo")).toBe(false);
    const { rules, errors } = parseCodeowners("/my\\ docs/ @writer");
    expect(errors).toEqual([]);
    expect(rules[0]!.pattern).toBe("/my\\ docs/");
    expect(ownersOf(rules, "my docs/a.md").owners).toEqual([{ kind: "user", login: "writer" }]);
    expect(ownersOf(rules, "my/a.md").owners).toEqual([]);
  });

  it("the last matching line wins, even if an earlier line is more specific", () => {
    const text = "/requests/prod-admin/ @acme/prod-approvers\n/requests/ @acme/platform";
    const result = ownersOf(parseCodeowners(text).rules, "requests/prod-admin/x.yaml");
    expect(result).toEqual({ owners: [{ kind: "team", org: "acme", slug: "platform" }], line: 2 });
  });

  it("no matching line means no owners and no line", () => {
    expect(ownersOf(parseCodeowners("/docs/ @a").rules, "src/x.ts")).toEqual({ owners: [] });
    expect(ownersOf([], "x")).toEqual({ owners: [] });
  });

  it("matches file names that contain newlines (git allows them)", () => {
    expect(matches("/docs/", "docs/a\nb.md")).toBe(true);
    expect(matches("*.md", "x\ny/a.md")).toBe(true);
  });

  it("tolerates a leading slash on the queried path", () => {
    expect(ownersOf(parseCodeowners("/docs/ @a").rules, "/docs/x.md").line).toBe(1);
  });
});

describe("lexical details", () => {
  it("skips comments, indented comments and blank lines; counts lines from 1", () => {
    const text = "# header\n\n   # indented comment\n\t\n/x @a";
    expect(parseCodeowners(text).rules.map((r) => r.line)).toEqual([5]);
  });

  it("handles Windows line endings, old Mac line endings and a byte-order mark", () => {
    const crlf = parseCodeowners("\uFEFF* @a\r\n/docs/ @b\r\n");
    expect(crlf.errors).toEqual([]);
    expect(crlf.rules.map((r) => [r.line, r.pattern, r.owners.map(formatOwner)])).toEqual([
      [1, "*", ["@a"]],
      [2, "/docs/", ["@b"]],
    ]);
    expect(ownersOf(crlf.rules, "docs/x").owners.map(formatOwner)).toEqual(["@b"]);
    expect(parseCodeowners("* @a\r/docs/ @b").rules.map((r) => r.line)).toEqual([1, 2]);
  });

  it("ignores trailing whitespace and separates tokens by spaces or tabs", () => {
    const { rules, errors } = parseCodeowners("/docs/\t@a   @org/team \t ");
    expect(errors).toEqual([]);
    expect(rules[0]!.owners.map(formatOwner)).toEqual(["@a", "@org/team"]);
    expect(rules[0]!.pattern).toBe("/docs/");
  });

  it("an inline comment ends the owners; a comment right after the pattern leaves no owners", () => {
    expect(parseCodeowners("*.js @js-owner #comment @not-an-owner").rules[0]!.owners).toEqual([
      { kind: "user", login: "js-owner" },
    ]);
    const rule = parseCodeowners("/apps/github # owners left empty on purpose").rules[0]!;
    expect(rule.owners).toEqual([]);
  });

  it("keeps owners as written and compares logins case-insensitively", () => {
    const rule = parseCodeowners("* @Alice @ACME/Prod-Approvers").rules[0]!;
    expect(rule.owners).toEqual([
      { kind: "user", login: "Alice" },
      { kind: "team", org: "ACME", slug: "Prod-Approvers" },
    ]);
    expect(sameLogin("Alice", "alice")).toBe(true);
    expect(sameLogin("alice", "alice2")).toBe(false);
  });

  it("accepts Enterprise Managed User logins (with _shortcode) and plus-addressed emails", () => {
    const rule = parseCodeowners("* @mona_acme first.last+ops@example.co.uk").rules[0]!;
    expect(rule.owners).toEqual([
      { kind: "user", login: "mona_acme" },
      { kind: "email", email: "first.last+ops@example.co.uk" },
    ]);
  });
});

describe("errors GitHub would flag (the line is skipped)", () => {
  it.each([
    ["!secrets/ @a", 1, "Invalid pattern", /negation/],
    ["src/*.[ch] @a", 7, "Invalid pattern", /character ranges/],
    ["src/a]b @a", 6, "Invalid pattern", /character ranges/],
    ["\\#notes @a", 1, "Invalid pattern", /escaping a leading `#`/],
    ["docs#1 @a", 5, "Invalid pattern", /`#` inside a pattern/],
    ["/ @a", 1, "Invalid pattern", /never matches/],
    ["foo\\", 4, "Invalid pattern", /unfinished/],
    ["* user", 3, "Invalid owner", /invalid owner `user`/],
    ["*  @a @", 7, "Invalid owner", /invalid owner `@`/],
    ["* @a/b/c", 3, "Invalid owner", /nested team/],
    ["* @-leading-hyphen", 3, "Invalid owner", /invalid owner/],
    ["* not-an-email@", 3, "Invalid owner", /invalid owner/],
    ["  * @a @b! ", 8, "Invalid owner", /invalid owner `@b!`/],
  ])("%j -> column %i: %s", (line, col, kind, message) => {
    const { rules, errors } = parseCodeowners(`# first line\n${line}`);
    expect(rules).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ line: 2, col, kind, source: line });
    expect(errors[0]!.message).toMatch(message);
  });

  it("skips only the invalid line; earlier and later rules still apply", () => {
    const text = "* @global\n/requests/ @a @b!\n/docs/ @docs";
    const { rules, errors } = parseCodeowners(text);
    expect(errors.map((e) => [e.line, e.col])).toEqual([[2, 15]]);
    expect(rules.map((r) => r.line)).toEqual([1, 3]);
    // Why callers must fail closed on errors: the skipped line no longer protects requests/.
    expect(ownersOf(rules, "requests/x.yaml").line).toBe(1);
  });

  it("reports every invalid line, in order", () => {
    const { errors } = parseCodeowners("!a @x\nb @y\n[c] @z\nd bad");
    expect(errors.map((e) => [e.line, e.kind])).toEqual([
      [1, "Invalid pattern"],
      [3, "Invalid pattern"],
      [4, "Invalid owner"],
    ]);
  });

  it("an escaped leading `!` is a literal name, not negation", () => {
    const { rules, errors } = parseCodeowners("\\!important @a");
    expect(errors).toEqual([]);
    expect(ownersOf(rules, "docs/!important").line).toBe(1);
  });

  it("refuses a file of 3 MB or more entirely, as GitHub does not load it", () => {
    const line = "/docs/ @a\n";
    const big = line.repeat(Math.ceil(CODEOWNERS_MAX_BYTES / line.length));
    const { rules, errors } = parseCodeowners(big);
    expect(rules).toEqual([]);
    expect(errors).toEqual([expect.objectContaining({ line: 1, col: 1, kind: "File too large" })]);
  });
});

describe("robustness", () => {
  it("never throws on arbitrary text, and every error is located inside the text", () => {
    const alphabet = fc.constantFrom(..."ab/*?!#[]\\@. \t\r\n-_+é".split(""));
    const arbitraryText = fc.oneof(fc.string(), fc.string({ unit: alphabet, maxLength: 200 }));
    fc.assert(
      fc.property(arbitraryText, (text) => {
        const { rules, errors } = parseCodeowners(text);
        const lines = text.split(/\r\n|\n|\r/);
        for (const error of errors) {
          expect(error.line).toBeGreaterThanOrEqual(1);
          expect(error.line).toBeLessThanOrEqual(lines.length);
          expect(error.col).toBeGreaterThanOrEqual(1);
          expect(error.col).toBeLessThanOrEqual(Math.max(1, error.source.length));
        }
        for (const rule of rules) ownersOf([rule], "a/b/c");
      }),
      { numRuns: 2000 },
    );
  });

  it("matching a path with arbitrary characters never throws", () => {
    const { rules } = parseCodeowners("* @a\n**/x/** @b\n/y/*.z @c");
    fc.assert(
      fc.property(fc.string(), (path) => {
        const result = ownersOf(rules, path);
        expect(result.line === undefined || result.owners.length > 0).toBe(true);
      }),
    );
  });
});
