#!/usr/bin/env node
// Copies infra/runbooks/*.yaml into infra/template.yaml between the
// "# BEGIN runbook <path>" / "# END runbook <path>" markers, indented to the
// marker's column, so the template deploys exactly the runbook files.
//
//   node infra/sync-runbooks.mjs          rewrite the template
//   node infra/sync-runbooks.mjs --check  exit 1 (and name the runbooks) if it is stale
//
// Plain Node, no dependencies: it runs right after `npm ci` and in CI.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const infraDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = dirname(infraDir);
const templatePath = join(infraDir, "template.yaml");

const MARKER = /^( *)# BEGIN runbook (\S+)\n[\s\S]*?^\1# END runbook \2$/gm;

/** The template text with every marked block replaced by its runbook file. */
export function syncTemplate(templateText, readRunbook) {
  const stale = [];
  const seen = [];
  const text = templateText.replace(MARKER, (block, indent, path) => {
    seen.push(path);
    const body = readRunbook(path)
      .replace(/\n+$/, "")
      .split("\n")
      .map((line) => (line.length === 0 ? "" : indent + line))
      .join("\n");
    const fresh = `${indent}# BEGIN runbook ${path}\n${body}\n${indent}# END runbook ${path}`;
    if (fresh !== block) stale.push(path);
    return fresh;
  });
  return { text, stale, seen };
}

function main() {
  const check = process.argv.includes("--check");
  const before = readFileSync(templatePath, "utf8");
  const { text, stale, seen } = syncTemplate(before, (path) => {
    if (!/^infra\/runbooks\/[a-z0-9-]+\.yaml$/.test(path)) {
      throw new Error(`${relative(repoRoot, templatePath)}: marker names ${path}, expected infra/runbooks/<name>.yaml`);
    }
    return readFileSync(join(repoRoot, path), "utf8");
  });
  if (seen.length === 0) {
    console.error(`${relative(repoRoot, templatePath)}: no "# BEGIN runbook" markers found`);
    process.exit(2);
  }
  if (check) {
    if (stale.length > 0) {
      console.error(`infra/template.yaml is stale for: ${stale.join(", ")}; run node infra/sync-runbooks.mjs`);
      process.exit(1);
    }
    console.log(`infra/template.yaml embeds ${seen.length} runbooks, all up to date`);
    return;
  }
  if (text !== before) writeFileSync(templatePath, text);
  console.log(stale.length > 0 ? `updated: ${stale.join(", ")}` : "already up to date");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
