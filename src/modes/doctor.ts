/**
 * `elevate doctor`: checks an access repository before its first real pull request.
 * Offline (always): the config, CODEOWNERS against the config, the three workflows and
 * the request files. Online, on request: `--github` (branch rules, team owners, the
 * OIDC subject), `--aws` (the stack against the config) and `--smoke` (a live
 * grant → assume → revoke round trip on the stack's canary, src/modes/doctor-smoke.ts).
 * Each check is a pure function over gathered facts (src/domain/doctor-*.ts).
 *
 * Outcome: ok (no errors; warnings allowed) or problems (errors found); bad input is a UserInputError.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { findRepoRoot, listRequestFiles } from "../adapters/repo.js";
import { DEFAULT_CONFIG_PATH, type ElevateConfig, loadConfig, MAX_CONFIG_BYTES } from "../domain/config.js";
import { memberRolePathFindings } from "../domain/doctor-accounts.js";
import { awsFindings, type Locate } from "../domain/doctor-aws.js";
import { codeownersFindings } from "../domain/doctor-codeowners.js";
import { type Finding, finding, formatFinding, hasErrors, sortFindings } from "../domain/doctor-findings.js";
import { expectedSubjects, githubFindings } from "../domain/doctor-github.js";
import { roleKindFindings } from "../domain/doctor-role-kinds.js";
import { formatSmokeStep, smokeFindings, smokeTarget } from "../domain/doctor-smoke.js";
import { WORKFLOW_FILES, type WorkflowFile, workflowFindings } from "../domain/doctor-workflows.js";
import { FILE_START, UserInputError } from "../domain/errors.js";
import { parseTimestamp, validateRequest } from "../domain/request.js";
import { duplicateIdMessage, findDuplicateRequestIds, looksLikeRequestFile } from "../domain/request-path.js";
import { MAX_YAML_BYTES, parseStrictYaml } from "../domain/strict-yaml.js";
import type { CommandContext, CommandOutcome } from "./command-io.js";
import { gatherAwsFacts } from "./doctor-aws.js";
import { gatherGitHubFacts, githubAccess, repositoryOf } from "./doctor-github.js";
import { runSmokeTest } from "./doctor-smoke.js";
import { readStackOutputs } from "./init.js";
import { CODEOWNERS_LOCATIONS } from "./pr-review.js";

/** The branch the stack's roles trust (infra/template.yaml pins refs/heads/main). */
export const TRUSTED_BRANCH = "main";

async function readText(path: string, maxBytes: number): Promise<string | undefined> {
  const bytes = await readFile(path).catch(() => undefined);
  if (bytes === undefined) return undefined;
  return bytes.length > maxBytes ? undefined : bytes.toString("utf8");
}

/**
 * The time a merged request file is judged at: its own `start` when it has one (so a
 * window long closed, or a start far from today, is history rather than a problem), else
 * any time at all (no rule of a request without `start` depends on the clock).
 */
function judgedAt(bytes: Uint8Array): Date {
  const parsed = parseStrictYaml(bytes);
  const value = parsed.ok ? parsed.document.value : null;
  const start = value && typeof value === "object" && !Array.isArray(value) ? value.start : undefined;
  const at = typeof start === "string" ? parseTimestamp(start) : undefined;
  return at?.ok ? at.date : new Date(0);
}

export interface OfflineFacts {
  root: string;
  configFile: string;
  config: ElevateConfig | undefined;
  findings: Finding[];
  requestFiles: number;
  codeowners: { path: string; text: string } | undefined;
  /** Where each config key is, for findings about the config made by the online checks. */
  locateInConfig: Locate;
}

/** Config, CODEOWNERS, workflows and request files of the repository at `root`. */
export async function offlineChecks(root: string, configFile = DEFAULT_CONFIG_PATH): Promise<OfflineFacts> {
  const findings: Finding[] = [];

  const configText = await readFile(join(root, configFile)).catch(() => undefined);
  let config: ElevateConfig | undefined;
  if (configText === undefined) {
    findings.push(
      finding(configFile, FILE_START, "error", "missing: the Elevate config (run 'elevate init' to write one)"),
    );
  } else {
    const loaded = loadConfig(configText, configFile);
    if (loaded.errors) findings.push(...loaded.errors.map((e) => finding(e.file, e, "error", e.message)));
    else config = loaded.config;
  }

  let locateInConfig: Locate = () => FILE_START;
  if (config && configText) {
    const parsed = parseStrictYaml(configText, { maxBytes: MAX_CONFIG_BYTES });
    if (parsed.ok) locateInConfig = (path) => parsed.document.locate(path);
    findings.push(...roleKindFindings(config, configFile, locateInConfig));
    findings.push(...memberRolePathFindings(config, configFile, locateInConfig));
  }

  const codeownersPath = CODEOWNERS_LOCATIONS.find((path) => existsSync(join(root, path)));
  let codeowners: OfflineFacts["codeowners"];
  if (codeownersPath === undefined) {
    findings.push(
      finding(".github/CODEOWNERS", FILE_START, "error", "missing: without CODEOWNERS no request can ever be approved"),
    );
  } else {
    const text = (await readText(join(root, codeownersPath), 3 * 1024 * 1024)) ?? "";
    codeowners = { path: codeownersPath, text };
    findings.push(...codeownersFindings(text, codeownersPath, config));
  }

  const workflows: WorkflowFile[] = await Promise.all(
    (Object.entries(WORKFLOW_FILES) as [WorkflowFile["mode"], string][]).map(async ([mode, path]) => ({
      mode,
      path,
      text: await readText(join(root, path), 1024 * 1024),
    })),
  );
  findings.push(
    ...workflowFindings(workflows, {
      branch: TRUSTED_BRANCH,
      hasLocalAction: existsSync(join(root, "action", "action.yml")),
    }).findings,
  );

  // Merged request files stay as the record; they are judged for shape, not for time.
  const files = (await listRequestFiles(root)).filter(looksLikeRequestFile);
  const duplicates = findDuplicateRequestIds(files);
  for (const path of files) {
    const others = duplicates.get(path);
    if (others) findings.push(finding(path, FILE_START, "error", duplicateIdMessage(path, others)));
    if (!config) continue;
    const bytes = await readFile(join(root, path)).catch(() => undefined);
    if (bytes === undefined || bytes.length > MAX_YAML_BYTES) {
      findings.push(finding(path, FILE_START, "warning", "cannot be read as a request file (missing or over 8 KiB)"));
      continue;
    }
    const result = validateRequest({ text: bytes, path, config, now: judgedAt(bytes) });
    for (const error of result.errors) {
      findings.push(finding(path, error, "warning", `${error.message} (a request file in this state grants nothing)`));
    }
  }
  return { root, configFile, config, findings, requestFiles: files.length, codeowners, locateInConfig };
}

function summary(findings: readonly Finding[], what: string): string {
  const errors = findings.filter((f) => f.severity === "error").length;
  const warnings = findings.length - errors;
  if (findings.length === 0) return `elevate doctor: clean (${what})\n`;
  return `elevate doctor: ${errors} error(s), ${warnings} warning(s) (${what})\n`;
}

/** What `elevate doctor` was asked to check besides the offline checks. */
export interface DoctorOptions {
  /** The config file, relative to the repository root (default: .github/elevate.yml). */
  config?: string | undefined;
  github?: boolean;
  aws?: boolean;
  smoke?: boolean;
  /** describe-stacks JSON of the stack: a file relative to cwd, or `-` for standard input. */
  stackOutputs?: string | undefined;
  /** OWNER/NAME (default: from the origin remote). */
  repo?: string | undefined;
}

/** Runs `elevate doctor`: `ok` no errors (warnings allowed), `problems` errors found. */
export async function runDoctor(context: CommandContext, options: DoctorOptions): Promise<CommandOutcome> {
  const { root, inGit } = await findRepoRoot(context.cwd);
  if (!inGit) throw new UserInputError("not inside a git repository; run it in the access repository");
  const online = options.github === true;
  const checkAws = options.aws === true;
  const smoke = options.smoke === true;
  const stackSource = options.stackOutputs;
  if (stackSource !== undefined && !checkAws && !smoke) {
    throw new UserInputError("--stack-outputs is read only with --aws or --smoke");
  }
  if (smoke && stackSource === undefined) {
    throw new UserInputError(
      "--smoke needs --stack-outputs (describe-stacks JSON of a stack with CreateSmokeTestCanary=true)",
    );
  }
  const access = online ? githubAccess(process.env) : undefined;
  const repository =
    online || options.repo !== undefined
      ? await repositoryOf(root, options.repo)
      : checkAws
        ? await repositoryOf(root, undefined).catch(() => undefined)
        : undefined;
  const stack = stackSource === undefined ? undefined : await readStackOutputs(context, stackSource);
  const facts = await offlineChecks(root, options.config ?? DEFAULT_CONFIG_PATH);
  const all = [...facts.findings];
  const checked = ["config", "CODEOWNERS", "3 workflows"];
  if (access && repository) {
    const github = await gatherGitHubFacts(access, repository, facts.codeowners);
    all.push(...githubFindings(github));
    checked.push(`GitHub ${repository}`);
    context.stderr.write(
      `elevate doctor: GitHub issues OIDC tokens for main of ${repository} with sub ${expectedSubjects(github).join(" or ")}\n`,
    );
  }
  if (checkAws) {
    if (!facts.config) {
      context.stderr.write("elevate doctor: --aws skipped: the config has errors\n");
    } else {
      const aws = await gatherAwsFacts(facts.config, stack, repository);
      all.push(...awsFindings(aws, facts.config, facts.configFile, facts.locateInConfig));
      checked.push(
        `AWS ${facts.config.aws.accountId} ${facts.config.aws.region}${stack ? " and the stack's outputs" : ""}`,
      );
    }
  }
  if (smoke) {
    if (!facts.config) {
      context.stderr.write("elevate doctor: --smoke skipped: the config has errors\n");
    } else {
      const read = smokeTarget(facts.config, stack);
      if (!read.ok) {
        all.push(finding(facts.configFile, FILE_START, "error", `smoke test: ${read.message}`));
      } else {
        const steps = await runSmokeTest(read.target, {
          region: facts.config.aws.region,
          onStep: (s) => context.stderr.write(`${formatSmokeStep(s)}\n`),
        });
        all.push(...smokeFindings(steps, facts.configFile));
      }
      checked.push("smoke test");
    }
  }
  const findings = sortFindings(all);
  for (const f of findings) context.stdout.write(`${formatFinding(f)}\n`);
  const roles = facts.config ? Object.keys(facts.config.roles).length : 0;
  context.stderr.write(
    summary(findings, `${checked.join(", ")}, ${roles} role(s), ${facts.requestFiles} request file(s)`),
  );
  return hasErrors(findings) ? "problems" : "ok";
}
