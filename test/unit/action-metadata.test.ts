// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${{ }}" here is GitHub Actions expression syntax, not a JS template.
/**
 * action/action.yml: valid for GitHub's own action-metadata parser, on the runtime
 * and bundle README.md "The action" fixes (node24, dist/index.js), every input and output
 * documented, and README.md's generated tables in step with it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NoOperationTraceWriter } from "@actions/workflow-parser";
import { type ActionTemplate, convertActionTemplate, parseAction } from "@actions/workflow-parser/actions/index";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { getInputs } from "../../src/action/inputs.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const actionDir = join(repoRoot, "action");
const actionYmlPath = join(actionDir, "action.yml");
const actionYml = readFileSync(actionYmlPath, "utf8");
const tablesScript = join(repoRoot, "scripts", "readme-action-tables.mjs");

function parseWithGitHubParser(content: string): { errors: string[]; template: ActionTemplate | undefined } {
  const result = parseAction({ name: "action.yml", content }, new NoOperationTraceWriter());
  const errors = result.context.errors.getErrors().map((error) => error.message);
  if (errors.length > 0 || result.value === undefined) return { errors, template: undefined };
  return { errors, template: convertActionTemplate(result.context, result.value) };
}

/** The same file as plain YAML, for the values the typed template keeps as tokens. */
const raw = parseYaml(actionYml) as {
  inputs: Record<string, { description?: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description?: string }>;
};

const INPUTS = [
  "mode",
  "config",
  "github-token",
  "members-token",
  "timeout-seconds",
  "request",
  "drift",
  "dry-run",
] as const;
const OUTPUTS = ["request-ids", "granted", "refused", "revoked", "execution-ids", "drift", "summary"] as const;

describe("action/action.yml", () => {
  const { errors, template } = parseWithGitHubParser(actionYml);

  it("parses with GitHub's action metadata parser without errors", () => {
    expect(errors).toEqual([]);
    expect(template?.name).toBe("Elevate");
    expect(template?.description.length).toBeGreaterThan(20);
    expect(template?.branding).toEqual({ icon: "unlock", color: "orange" });
  });

  it("the parser would reject a broken metadata file (the check above can fail)", () => {
    const broken = actionYml.replace("using: node24", "using: node99");
    expect(parseWithGitHubParser(broken).errors).not.toEqual([]);
  });

  it("runs on node24 from the committed bundle dist/index.js", () => {
    expect(template?.runs).toEqual({ using: "node24", main: "dist/index.js" });
    // `main` is relative to the action's directory (action/), where scripts/build.mjs writes the bundle.
    expect(existsSync(join(actionDir, "dist", "index.js"))).toBe(true);
  });

  it("declares exactly the documented inputs and outputs, each with a description", () => {
    expect(template?.inputs?.map((input) => input.id)).toEqual([...INPUTS]);
    expect(template?.outputs?.map((output) => output.id)).toEqual([...OUTPUTS]);
    for (const definition of [...(template?.inputs ?? []), ...(template?.outputs ?? [])]) {
      expect(definition.description?.trim().length, definition.id).toBeGreaterThan(20);
    }
  });

  it("requires mode and names the three modes in its description", () => {
    const mode = template?.inputs?.find((input) => input.id === "mode");
    expect(mode?.required).toBe(true);
    expect(raw.inputs.mode?.default).toBeUndefined();
    for (const name of ["check", "grant", "revoke"]) {
      expect(mode?.description).toContain(`\`${name}\``);
    }
  });

  it("has the defaults the workflows and the input reader rely on", () => {
    const defaults = Object.fromEntries(INPUTS.map((name) => [name, raw.inputs[name]?.default]));
    expect(defaults).toEqual({
      mode: undefined,
      config: ".github/elevate.yml",
      "github-token": "${{ github.token }}",
      "members-token": undefined,
      "timeout-seconds": "600",
      request: undefined,
      drift: "revoke",
      "dry-run": "false",
    });
    for (const name of INPUTS.filter((input) => input !== "mode")) {
      expect(raw.inputs[name]?.required, name).toBe(false);
    }
  });

  it("is what the action's input reader reads: the same names, and the defaults parse", () => {
    const read: string[] = [];
    // Feed the reader what the runner would: the declared default, or "" for an input
    // that has none and was not given (core.getInput returns "" for an unset INPUT_*).
    const inputs = getInputs((name) => {
      read.push(name);
      if (name === "mode") return "revoke";
      if (name === "github-token") return "ghs_example";
      return raw.inputs[name]?.default ?? "";
    });
    expect([...new Set(read)].sort()).toEqual([...INPUTS].sort());
    expect(inputs).toEqual({
      mode: "revoke",
      configPath: ".github/elevate.yml",
      githubToken: "ghs_example",
      timeoutSeconds: 600,
      drift: "revoke",
      dryRun: false,
    });
  });

  it("describes every output as JSON except the summary", () => {
    for (const name of OUTPUTS.filter((output) => output !== "summary")) {
      expect(raw.outputs[name]?.description, name).toMatch(/^JSON array of /);
    }
  });
});

describe("README.md action tables", () => {
  const scratch = mkdtempSync(join(tmpdir(), "elevate-readme-tables-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  function runTables(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, [tablesScript, ...args], { cwd: repoRoot, encoding: "utf8" });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it("are up to date with action.yml (run 'node scripts/readme-action-tables.mjs' to fix)", () => {
    const result = runTables("--check");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  /** Biome's formatting of `text` as a Markdown file (`npm run lint` checks README.md). */
  function biomeFormatted(text: string): string {
    const biome = join(repoRoot, "node_modules", ".bin", "biome");
    const result = spawnSync(biome, ["format", "--stdin-file-path=README.md"], {
      cwd: repoRoot,
      input: text,
      encoding: "utf8",
    });
    expect(result.status).toBe(0);
    return result.stdout;
  }

  /** The generated parts of a README: the text between the two pairs of markers. */
  function generatedParts(readme: string): string[] {
    return ["action-inputs", "action-outputs"].map((name) => {
      const start = readme.indexOf(`<!-- ${name}:start -->`);
      const end = readme.indexOf(`<!-- ${name}:end -->`);
      expect(start, name).toBeGreaterThan(-1);
      expect(end, name).toBeGreaterThan(start);
      return readme.slice(start, end);
    });
  }

  it("are generated already formatted the way Biome formats Markdown, so lint and --check agree", () => {
    const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
    expect(generatedParts(biomeFormatted(readme))).toEqual(generatedParts(readme));
    // The formatter does change an unaligned table: the comparison above can fail.
    const unaligned = readme.replace(/\| `config` +\| no +\|/, "| `config` | no |");
    expect(generatedParts(unaligned)).not.toEqual(generatedParts(readme));
    expect(generatedParts(biomeFormatted(unaligned))).toEqual(generatedParts(readme));
  });

  it("list every input and output with its description", () => {
    const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
    for (const name of [...INPUTS, ...OUTPUTS]) {
      expect(readme).toMatch(new RegExp(`^\\| \`${name}\` +\\| `, "m"));
    }
    expect(readme).toMatch(/^\| `github-token` +\| no +\| `\$\{\{ github\.token \}\}` +\| Token for the GitHub API/m);
    expect(readme).toMatch(/^\| `mode` +\| yes +\| +\| What this run does/m);
  });

  it("--check fails on a stale table and a rewrite fixes it", () => {
    const readmePath = join(scratch, "README.md");
    const fresh = readFileSync(join(repoRoot, "README.md"), "utf8");
    writeFileSync(readmePath, fresh.replace(/\| `dry-run` +\|[^\n]*\n/, ""));

    const stale = runTables("--check", "--readme", readmePath);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain("differ from");

    execFileSync(process.execPath, [tablesScript, "--readme", readmePath], { cwd: repoRoot });
    expect(readFileSync(readmePath, "utf8")).toBe(fresh);
    expect(runTables("--check", "--readme", readmePath).status).toBe(0);
  });

  it("regenerates from a changed action.yml and escapes table syntax", () => {
    const actionPath = join(scratch, "action.yml");
    const readmePath = join(scratch, "README-changed.md");
    writeFileSync(actionPath, actionYml.replace("Path of the Elevate config file", "Path | with `pipe` of the config"));
    writeFileSync(readmePath, readFileSync(join(repoRoot, "README.md"), "utf8"));
    expect(runTables("--check", "--readme", readmePath, "--action", actionPath).status).toBe(1);
    expect(runTables("--readme", readmePath, "--action", actionPath).status).toBe(0);
    const regenerated = readFileSync(readmePath, "utf8");
    expect(regenerated).toContain("| Path \\| with `pipe` of the config");
    expect(generatedParts(biomeFormatted(regenerated))).toEqual(generatedParts(regenerated));
  });

  it("refuses a README without markers and an input without a description, exit 2", () => {
    const noMarkers = join(scratch, "NO-MARKERS.md");
    writeFileSync(noMarkers, "# Elevate\n");
    const missing = runTables("--check", "--readme", noMarkers);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("missing the marker comments <!-- action-inputs:start -->");

    const undocumented = join(scratch, "undocumented.yml");
    writeFileSync(
      undocumented,
      "name: x\ndescription: y\ninputs:\n  mode:\n    required: true\nruns:\n  using: node24\n",
    );
    const result = runTables("--check", "--action", undocumented);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("inputs.mode has no description");
  });
});
