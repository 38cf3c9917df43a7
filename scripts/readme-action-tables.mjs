#!/usr/bin/env node
// Generates the action's Inputs and Outputs tables in README.md from action/action.yml,
// so that the documentation cannot drift from the metadata GitHub actually reads.
//
//   node scripts/readme-action-tables.mjs            rewrite the tables in place
//   node scripts/readme-action-tables.mjs --check    exit 1 when README.md is stale
//   options: --readme PATH, --action PATH (default: README.md, action/action.yml at the repo root)
//
// Only the text between the marker comments is generated:
//   <!-- action-inputs:start --> … <!-- action-inputs:end -->
//   <!-- action-outputs:start --> … <!-- action-outputs:end -->
// Exit codes: 0 up to date (or rewritten), 1 stale (--check), 2 usage or input error.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parse } from "yaml";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

export class TablesError extends Error {}

const NOTICE =
  "<!-- Generated from action/action.yml by scripts/readme-action-tables.mjs; edit action.yml, not this table. -->";

/** Text for one table cell: one line, pipes escaped (GitHub Flavored Markdown tables). */
function cell(text) {
  return text.replace(/\s+/g, " ").trim().replaceAll("|", "\\|");
}

/** A code span that survives backticks inside the value (CommonMark "Code spans"). */
function codeSpan(text) {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longestRun + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** Reads `inputs` or `outputs` of action.yml as [name, definition] pairs, checking each has a description. */
function entries(metadata, section, file) {
  const value = metadata[section];
  if (value === undefined || value === null) return [];
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new TablesError(`${file}: '${section}' must be a mapping`);
  }
  return Object.entries(value).map(([name, definition]) => {
    if (typeof definition !== "object" || definition === null || Array.isArray(definition)) {
      throw new TablesError(`${file}: ${section}.${name} must be a mapping`);
    }
    if (typeof definition.description !== "string" || definition.description.trim() === "") {
      throw new TablesError(`${file}: ${section}.${name} has no description`);
    }
    return [name, definition];
  });
}

/**
 * Renders the two tables from the text of action.yml.
 * @param {string} actionYaml
 * @param {string} [file] name used in error messages
 * @returns {{ inputs: string, outputs: string }}
 */
export function renderTables(actionYaml, file = "action/action.yml") {
  let metadata;
  try {
    metadata = parse(actionYaml);
  } catch (error) {
    throw new TablesError(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    throw new TablesError(`${file}: not a mapping`);
  }
  const inputRows = entries(metadata, "inputs", file).map(([name, definition]) => {
    const required = definition.required === true ? "yes" : "no";
    const fallback =
      definition.default === undefined || definition.default === null || definition.default === ""
        ? ""
        : codeSpan(String(definition.default));
    return [codeSpan(name), required, cell(fallback), cell(definition.description)];
  });
  const outputRows = entries(metadata, "outputs", file).map(([name, definition]) => [
    codeSpan(name),
    cell(definition.description),
  ]);
  return {
    inputs: [NOTICE, "", table(["Input", "Required", "Default", "Description"], inputRows)].join("\n"),
    outputs: [NOTICE, "", table(["Output", "Description"], outputRows)].join("\n"),
  };
}

/**
 * A GitHub Flavored Markdown table with padded, aligned columns: the layout Biome's
 * Markdown formatter gives tables (`npm run lint` checks README.md), so that the
 * generated text is already formatted and `--check` and the linter agree.
 */
function table(header, rows) {
  const length = (text) => [...text].length;
  const widths = header.map((title, column) =>
    Math.max(3, length(title), ...rows.map((row) => length(row[column] ?? ""))),
  );
  const line = (cells) =>
    `| ${cells.map((text, column) => text + " ".repeat(widths[column] - length(text))).join(" | ")} |`;
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

/** Replaces what lies between `<!-- NAME:start -->` and `<!-- NAME:end -->` with `content`. */
function replaceBetween(readme, name, content, file) {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const startAt = readme.indexOf(start);
  const endAt = readme.indexOf(end);
  if (startAt === -1 || endAt === -1) {
    throw new TablesError(`${file}: missing the marker comments ${start} and ${end}`);
  }
  if (readme.indexOf(start, startAt + 1) !== -1 || readme.indexOf(end, endAt + 1) !== -1) {
    throw new TablesError(`${file}: the markers ${start} / ${end} must appear exactly once`);
  }
  if (endAt < startAt) throw new TablesError(`${file}: ${end} comes before ${start}`);
  return `${readme.slice(0, startAt + start.length)}\n${content}\n${readme.slice(endAt)}`;
}

/**
 * README text with both tables regenerated.
 * @param {string} readme
 * @param {{ inputs: string, outputs: string }} tables
 * @param {string} [file] name used in error messages
 */
export function updateReadme(readme, tables, file = "README.md") {
  return replaceBetween(
    replaceBetween(readme, "action-inputs", tables.inputs, file),
    "action-outputs",
    tables.outputs,
    file,
  );
}

function parseArgs(argv) {
  const options = { check: false, readme: join(repoRoot, "README.md"), action: join(repoRoot, "action", "action.yml") };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--check") options.check = true;
    else if ((arg === "--readme" || arg === "--action") && argv[i + 1] !== undefined) {
      options[arg.slice(2)] = resolve(argv[++i]);
    } else {
      throw new TablesError(
        `unknown or incomplete argument '${arg}' (usage: [--check] [--readme PATH] [--action PATH])`,
      );
    }
  }
  return options;
}

function readText(path) {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new TablesError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function main(argv) {
  const options = parseArgs(argv);
  const readmeName = relative(process.cwd(), options.readme) || options.readme;
  const actionName = relative(process.cwd(), options.action) || options.action;
  const current = readText(options.readme);
  const wanted = updateReadme(current, renderTables(readText(options.action), actionName), readmeName);
  if (wanted === current) {
    console.log(`${readmeName}: action tables are up to date`);
    return 0;
  }
  if (options.check) {
    console.error(
      `${readmeName}: the Inputs/Outputs tables differ from ${actionName}; run 'node scripts/readme-action-tables.mjs'`,
    );
    return 1;
  }
  writeFileSync(options.readme, wanted);
  console.log(`${readmeName}: action tables rewritten from ${actionName}`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof TablesError)) throw error;
    console.error(`error: ${error.message}`);
    process.exitCode = 2;
  }
}
