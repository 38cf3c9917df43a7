/**
 * Runs a JavaScript action bundle as the GitHub Actions runner would: a child `node`
 * process with the runner's environment and nothing else of ours, the event payload in
 * GITHUB_EVENT_PATH, file commands in fresh files, inputs as INPUT_* variables.
 *
 * Environment variables: "Variables reference", "Default environment variables",
 * https://docs.github.com/en/actions/reference/workflows-and-actions/variables
 * Inputs: the runner exports each `with:` input as INPUT_<NAME>, NAME upper-cased with
 * spaces replaced by "_" (hyphens kept), which is how @actions/core's getInput reads it.
 *
 * The real runner runs `runs.using: node24` actions on its bundled Node 24; here the
 * current `node` runs the bundle (the product supports Node 20+).
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { OidcRequestConfig } from "../github/server.js";
import type { EventEnvelope } from "./events.js";
import { type Annotation, analyzeStdout, type LogGroup, parseFileCommand, type WorkflowCommand } from "./parse.js";

/** The committed action bundle. */
export const DEFAULT_BUNDLE_PATH = fileURLToPath(new URL("../../action/dist/index.js", import.meta.url));
/** Preload that gives the action's process the runner's clock (ELEVATE_NOW). */
const RUNNER_CLOCK_PRELOAD = new URL("./runner-clock.mjs", import.meta.url).href;

export interface RunActionOptions {
  bundlePath?: string;
  /** `with:` inputs. */
  inputs?: Record<string, string | number | boolean>;
  /** The triggering event (name, ref, sha, payload), e.g. from the events.ts builders. */
  event: EventEnvelope;
  /** "owner/repo" (GITHUB_REPOSITORY). */
  repository: string;
  repositoryId?: number;
  repositoryOwnerId?: number;
  /** GITHUB_WORKSPACE: a real git clone, checked out at the event's sha. */
  workspace: string;
  /** GITHUB_API_URL (the GitHub stand-in's url). */
  apiUrl: string;
  /** GITHUB_SERVER_URL; default https://github.com. */
  serverUrl?: string;
  /** When set, ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN (a job with `id-token: write`). */
  oidc?: OidcRequestConfig;
  /** Extra variables (AWS endpoints of the AWS stand-in, …); applied last. */
  env?: Record<string, string>;
  actor?: string;
  /** GITHUB_WORKFLOW (the workflow's name). */
  workflow?: string;
  /** Path of the workflow file, for GITHUB_WORKFLOW_REF; default .github/workflows/elevate.yml. */
  workflowPath?: string;
  job?: string;
  runId?: number;
  runNumber?: number;
  runAttempt?: number;
  /** Set RUNNER_DEBUG=1 (a re-run with debug logging). */
  debug?: boolean;
  /** Kill the action after this long; default 60 s. */
  timeoutMs?: number;
  /** Keep the runner temp directory (event file, file commands) for inspection. */
  keepRunnerDir?: boolean;
}

export interface ActionRun {
  /** Process exit code; null when killed (see timedOut / signal). */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  durationMs: number;
  stdout: string;
  stderr: string;
  /** Parsed GITHUB_OUTPUT. */
  outputs: Record<string, string>;
  /** GITHUB_STEP_SUMMARY contents. */
  summary: string;
  annotations: Annotation[];
  /** Parsed GITHUB_ENV and GITHUB_STATE, lines of GITHUB_PATH. */
  exportedEnv: Record<string, string>;
  state: Record<string, string>;
  addedPath: string[];
  logGroups: LogGroup[];
  masks: string[];
  commands: WorkflowCommand[];
  /** The complete environment the action saw. */
  environment: Record<string, string>;
  runnerDir: string;
}

/** INPUT_<NAME> as the runner derives it. */
export function inputVariableName(name: string): string {
  return `INPUT_${name.replace(/ /g, "_").toUpperCase()}`;
}

function refName(ref: string): string {
  // refs/heads/main → main; refs/tags/v1 → v1; refs/pull/7/merge → 7/merge
  return ref.replace(/^refs\/(heads|tags|pull)\//, "");
}

export async function runAction(options: RunActionOptions): Promise<ActionRun> {
  const bundlePath = options.bundlePath ?? DEFAULT_BUNDLE_PATH;
  if (!existsSync(bundlePath)) throw new Error(`runAction: no action bundle at ${bundlePath}`);
  if (!existsSync(options.workspace)) throw new Error(`runAction: workspace ${options.workspace} does not exist`);
  const [owner] = options.repository.split("/") as [string];

  const runnerDir = mkdtempSync(join(tmpdir(), "elevate-runner-"));
  const commandsDir = join(runnerDir, "_runner_file_commands");
  const runnerTemp = join(runnerDir, "_temp");
  const home = join(runnerDir, "home");
  for (const dir of [commandsDir, runnerTemp, home]) mkdirSync(dir, { recursive: true });
  const stepId = randomUUID();
  const files = {
    event: join(runnerDir, "event.json"),
    output: join(commandsDir, `set_output_${stepId}`),
    state: join(commandsDir, `save_state_${stepId}`),
    env: join(commandsDir, `set_env_${stepId}`),
    path: join(commandsDir, `add_path_${stepId}`),
    summary: join(commandsDir, `step_summary_${stepId}`),
  };
  writeFileSync(files.event, JSON.stringify(options.event.payload, null, 2));
  for (const file of [files.output, files.state, files.env, files.path, files.summary]) writeFileSync(file, "");

  const { event } = options;
  const isPullRequest = event.eventName === "pull_request" || event.eventName === "pull_request_target";
  const pullRequest = event.payload.pull_request as { head?: { ref?: string }; base?: { ref?: string } } | undefined;
  const actor = options.actor ?? (event.payload.sender as { login?: string } | undefined)?.login ?? "octocat";
  const workflowPath = options.workflowPath ?? ".github/workflows/elevate.yml";
  const runId = options.runId ?? 1_000_000_000 + Math.floor(Math.random() * 1_000_000);

  const environment: Record<string, string> = {
    // Only what a runner provides: PATH (node, git) and a private HOME; nothing else of
    // the parent (no AWS_*, GITHUB_*, credentials) leaks into the action.
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    LANG: "C.UTF-8",
    CI: "true",
    GITHUB_ACTIONS: "true",
    GITHUB_REPOSITORY: options.repository,
    GITHUB_REPOSITORY_OWNER: owner,
    GITHUB_SHA: event.sha,
    GITHUB_REF: event.ref,
    GITHUB_REF_NAME: refName(event.ref),
    GITHUB_REF_TYPE: event.ref.startsWith("refs/tags/") ? "tag" : "branch",
    GITHUB_REF_PROTECTED: "false",
    GITHUB_HEAD_REF: isPullRequest ? (pullRequest?.head?.ref ?? "") : "",
    GITHUB_BASE_REF: isPullRequest ? (pullRequest?.base?.ref ?? "") : "",
    GITHUB_EVENT_NAME: event.eventName,
    GITHUB_EVENT_PATH: files.event,
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_API_URL: options.apiUrl,
    GITHUB_SERVER_URL: options.serverUrl ?? "https://github.com",
    GITHUB_GRAPHQL_URL: `${options.apiUrl}/graphql`,
    GITHUB_RUN_ID: String(runId),
    GITHUB_RUN_NUMBER: String(options.runNumber ?? 1),
    GITHUB_RUN_ATTEMPT: String(options.runAttempt ?? 1),
    GITHUB_RETENTION_DAYS: "90",
    GITHUB_ACTOR: actor,
    GITHUB_TRIGGERING_ACTOR: actor,
    GITHUB_WORKFLOW: options.workflow ?? workflowPath,
    GITHUB_WORKFLOW_REF: `${options.repository}/${workflowPath}@${event.ref}`,
    GITHUB_WORKFLOW_SHA: event.sha,
    GITHUB_JOB: options.job ?? "elevate",
    // A local action (`uses: ./action`) has the step id as GITHUB_ACTION when unnamed.
    GITHUB_ACTION: "__self",
    GITHUB_ACTION_REPOSITORY: "",
    GITHUB_ACTION_REF: "",
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: files.state,
    GITHUB_ENV: files.env,
    GITHUB_PATH: files.path,
    GITHUB_STEP_SUMMARY: files.summary,
    RUNNER_OS: "Linux",
    RUNNER_ARCH: "X64",
    RUNNER_NAME: "GitHub Actions 1",
    RUNNER_ENVIRONMENT: "github-hosted",
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: join(runnerDir, "_tool"),
  };
  if (options.repositoryId !== undefined) environment.GITHUB_REPOSITORY_ID = String(options.repositoryId);
  if (options.repositoryOwnerId !== undefined)
    environment.GITHUB_REPOSITORY_OWNER_ID = String(options.repositoryOwnerId);
  if (options.debug) environment.RUNNER_DEBUG = "1";
  if (options.oidc) {
    environment.ACTIONS_ID_TOKEN_REQUEST_URL = options.oidc.requestUrl;
    environment.ACTIONS_ID_TOKEN_REQUEST_TOKEN = options.oidc.requestToken;
  }
  for (const [name, value] of Object.entries(options.inputs ?? {})) {
    environment[inputVariableName(name)] = String(value);
  }
  Object.assign(environment, options.env ?? {});

  const started = Date.now();
  const { exitCode, signal, timedOut, stdout, stderr } = await new Promise<{
    exitCode: number | null;
    signal: NodeJS.Signals | null;
    timedOut: boolean;
    stdout: string;
    stderr: string;
  }>((resolve, reject) => {
    // The runner's wall clock is ELEVATE_NOW's (runner-clock.mjs), as on a real runner.
    const child = spawn(process.execPath, ["--import", RUNNER_CLOCK_PRELOAD, bundlePath], {
      cwd: options.workspace,
      env: environment,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    let killedForTimeout = false;
    const timer = setTimeout(() => {
      killedForTimeout = true;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 60_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, closeSignal) => {
      clearTimeout(timer);
      resolve({
        exitCode: code,
        signal: closeSignal,
        timedOut: killedForTimeout,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
  });
  const durationMs = Date.now() - started;

  const read = (file: string) => readFileSync(file, "utf8");
  const analysis = analyzeStdout(stdout);
  const run: ActionRun = {
    exitCode,
    signal,
    timedOut,
    durationMs,
    stdout,
    stderr,
    outputs: parseFileCommand(read(files.output), "GITHUB_OUTPUT"),
    summary: read(files.summary),
    annotations: analysis.annotations,
    exportedEnv: parseFileCommand(read(files.env), "GITHUB_ENV"),
    state: parseFileCommand(read(files.state), "GITHUB_STATE"),
    addedPath: read(files.path)
      .split(/\r?\n/)
      .filter((line) => line !== ""),
    logGroups: analysis.logGroups,
    masks: analysis.masks,
    commands: analysis.commands,
    environment,
    runnerDir,
  };
  if (!options.keepRunnerDir) rmSync(runnerDir, { recursive: true, force: true });
  return run;
}
