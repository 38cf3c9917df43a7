/**
 * What an action mode (check, grant, revoke) gets from the runner: the inputs
 * and the job's environment, gathered once so that modes never read
 * process.env themselves (and tests can build one directly).
 *
 * Only types live here. The entry point (src/action/) builds the value from
 * the real environment; modes depend on this module, never on src/action/.
 */
import type { Octokit, RepoRef } from "../adapters/github.js";

export type Mode = "check" | "grant" | "revoke";

/** The action's inputs after checking (src/action/inputs.ts reads them; action/action.yml documents them). */
export interface ActionInputs {
  mode: Mode;
  configPath: string;
  githubToken: string;
  membersToken?: string;
  timeoutSeconds: number;
  /** revoke: revoke this request id early. */
  request?: string;
  /** revoke: what to do with drift. */
  drift: "revoke" | "report";
  dryRun: boolean;
}

export interface RunInfo {
  id: string;
  attempt: string;
  url: string;
}

export interface ActionContext {
  inputs: ActionInputs;
  /** The checked-out repository (GITHUB_WORKSPACE). */
  workspace: string;
  repo: RepoRef;
  eventName: string;
  // biome-ignore lint/suspicious/noExplicitAny: webhook payloads are read field by field and checked where used.
  payload: Record<string, any>;
  sha: string;
  ref: string;
  /** The default branch of the repository, from the payload, else `main`. */
  defaultBranch: string;
  serverUrl: string;
  run: RunInfo;
  octokit: Octokit;
  /** For team membership; the members-token when given, else the github-token. */
  membersOctokit: Octokit;
  getIdToken(audience: string): Promise<string>;
  now(): Date;
}
