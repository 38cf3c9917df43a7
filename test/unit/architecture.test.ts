// The layering rule (docs/architecture.md "Layers"), checked on every import of
// every file in src/: domain is pure, adapters do I/O, modes compose them, and
// the entry points (src/action/, src/cli/) only parse and dispatch. Nothing
// below an entry point imports one, and no file grows past the size limit.
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SRC = join(ROOT, "src");

/** A file in src/ may have at most this many lines. */
const MAX_LINES = 400;

/**
 * Files still over MAX_LINES while their owners split them. The list only
 * shrinks: the test fails when a listed file is at or under the limit (take it
 * off the list in the commit that brings it under), and when a file not on the
 * list is over it.
 */
const STILL_OVER_LIMIT: readonly string[] = [];

/** src/ layers, each allowed to import only the ones listed (and itself). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  domain: [],
  adapters: ["domain"],
  modes: ["domain", "adapters"],
  action: ["domain", "adapters", "modes"],
  cli: ["domain", "adapters", "modes"],
};

/**
 * Packages that do I/O or speak to AWS or GitHub: adapters and modes wrap them,
 * the domain never sees them (it gets their answers as plain data).
 */
const IO_PACKAGES = /^@(aws-sdk|smithy|actions|octokit)\//;

const NODE_BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(c|m)?ts$/.test(entry.name) ? [path] : [];
  });
}

/** `src/modes/grant.ts`, with forward slashes whatever the platform. */
function repoPath(path: string): string {
  return relative(ROOT, path).split(sep).join("/");
}

/** The layer of a file in src/ (`domain`, `modes`, …); undefined directly in src/ or outside it. */
function layerOf(path: string): string | undefined {
  const parts = relative(SRC, path).split(sep);
  return parts.length > 1 && parts[0] !== ".." ? parts[0] : undefined;
}

/**
 * Every module a file names: static imports (`import type` too), re-exports,
 * dynamic `import()` and `import("…")` types, as TypeScript itself finds them.
 */
function importedModules(text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map((file) => file.fileName);
}

function resolveRelative(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  return resolve(dirname(from), specifier.replace(/\.js$/, ".ts"));
}

const files = sourceFiles(SRC).map((path) => ({
  path,
  name: repoPath(path),
  layer: layerOf(path),
  text: readFileSync(path, "utf8"),
}));
const imports = files.flatMap((file) =>
  importedModules(file.text).map((specifier) => {
    const target = resolveRelative(file.path, specifier);
    return { file, specifier, target, targetLayer: target ? layerOf(target) : undefined };
  }),
);

describe("the import reader", () => {
  it("sees static, type-only, re-exported and dynamic imports, and import() types", () => {
    const text = [
      'import { a } from "../cli/args.js";',
      'import type { B } from "../action/context.js";',
      'import "./side-effect.js";',
      'export { c } from "./c.js";',
      'export * from "./d.js";',
      'const m = await import("../cli/main.js");',
      'let e: import("node:fs").Dirent;',
    ].join("\n");
    expect(importedModules(text).sort()).toEqual(
      [
        "../cli/args.js",
        "../action/context.js",
        "./side-effect.js",
        "./c.js",
        "./d.js",
        "../cli/main.js",
        "node:fs",
      ].sort(),
    );
  });

  it("finds the files of every layer", () => {
    for (const layer of Object.keys(MAY_IMPORT)) {
      expect(files.some((file) => file.layer === layer)).toBe(true);
    }
  });
});

describe("layers", () => {
  it("no file imports a layer above its own (domain < adapters < modes < action, cli)", () => {
    const violations = imports
      .filter(({ file, targetLayer }) => {
        if (!file.layer || !targetLayer || targetLayer === file.layer) return false;
        const allowed = MAY_IMPORT[file.layer];
        return allowed !== undefined && !allowed.includes(targetLayer);
      })
      .map(({ file, specifier }) => `${file.name} imports ${specifier}`);
    expect(violations).toEqual([]);
  });

  it("modes, domain and adapters import nothing from src/cli/ or src/action/", () => {
    const violations = imports
      .filter(
        ({ file, targetLayer }) =>
          ["modes", "domain", "adapters"].includes(file.layer ?? "") &&
          (targetLayer === "cli" || targetLayer === "action"),
      )
      .map(({ file, specifier }) => `${file.name} imports ${specifier}`);
    expect(violations).toEqual([]);
  });

  it("src/action/ and src/cli/ do not import each other", () => {
    const violations = imports
      .filter(
        ({ file, targetLayer }) =>
          (file.layer === "cli" && targetLayer === "action") || (file.layer === "action" && targetLayer === "cli"),
      )
      .map(({ file, specifier }) => `${file.name} imports ${specifier}`);
    expect(violations).toEqual([]);
  });

  it("src/domain/ imports no Node I/O module and no AWS SDK, Actions toolkit or Octokit package", () => {
    const violations = imports
      .filter(
        ({ file, specifier }) =>
          file.layer === "domain" && (NODE_BUILTINS.has(specifier) || IO_PACKAGES.test(specifier)),
      )
      .map(({ file, specifier }) => `${file.name} imports ${specifier}`);
    expect(violations).toEqual([]);
  });
});

describe(`files in src/ stay under ${MAX_LINES} lines`, () => {
  const lineCount = (text: string) => text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
  const sizes = new Map(files.map((file) => [file.name, lineCount(file.text)]));

  it(`no file over ${MAX_LINES} lines except those on STILL_OVER_LIMIT`, () => {
    const over = [...sizes]
      .filter(([name, lines]) => lines > MAX_LINES && !STILL_OVER_LIMIT.includes(name))
      .map(([name, lines]) => `${name}: ${lines} lines`);
    expect(over).toEqual([]);
  });

  it("every file on STILL_OVER_LIMIT exists and is still over the limit (the list only shrinks)", () => {
    const stale = STILL_OVER_LIMIT.filter((name) => (sizes.get(name) ?? 0) <= MAX_LINES).map(
      (name) =>
        `${name}: ${sizes.has(name) ? `${sizes.get(name)} lines` : "no such file"}; take it off STILL_OVER_LIMIT`,
    );
    expect(stale).toEqual([]);
  });
});
