/**
 * Builds a mode's ActionContext (src/modes/action-context.ts) from the real
 * GitHub Actions environment.
 */
import { readFileSync } from "node:fs";
import * as core from "@actions/core";
import { createOctokit } from "../adapters/github.js";
import type { ActionContext, ActionInputs } from "../modes/action-context.js";

function requireEnv(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set; this action must run inside a GitHub Actions job`);
  return value;
}

export function contextFromEnvironment(inputs: ActionInputs, env: NodeJS.ProcessEnv = process.env): ActionContext {
  const [owner, repo] = requireEnv(env, "GITHUB_REPOSITORY").split("/");
  if (!owner || !repo) throw new Error(`GITHUB_REPOSITORY must be OWNER/REPO; got '${env.GITHUB_REPOSITORY}'`);
  const eventPath = env.GITHUB_EVENT_PATH;
  const payload = eventPath ? (JSON.parse(readFileSync(eventPath, "utf8")) as Record<string, unknown>) : {};
  const serverUrl = env.GITHUB_SERVER_URL ?? "https://github.com";
  const apiUrl = env.GITHUB_API_URL ?? "https://api.github.com";
  const runId = env.GITHUB_RUN_ID ?? "0";
  const octokit = createOctokit(inputs.githubToken, apiUrl);
  const repository = payload.repository as { default_branch?: unknown } | undefined;
  return {
    inputs,
    workspace: env.GITHUB_WORKSPACE ?? process.cwd(),
    repo: { owner, repo },
    eventName: requireEnv(env, "GITHUB_EVENT_NAME"),
    payload,
    sha: env.GITHUB_SHA ?? "",
    ref: env.GITHUB_REF ?? "",
    defaultBranch: typeof repository?.default_branch === "string" ? repository.default_branch : "main",
    serverUrl,
    run: {
      id: runId,
      attempt: env.GITHUB_RUN_ATTEMPT ?? "1",
      url: `${serverUrl}/${owner}/${repo}/actions/runs/${runId}`,
    },
    octokit,
    membersOctokit: inputs.membersToken ? createOctokit(inputs.membersToken, apiUrl) : octokit,
    getIdToken: (audience) => core.getIDToken(audience),
    now: clockFromEnvironment(env),
  };
}

/**
 * The run's clock: the wall clock, or one that starts at ELEVATE_NOW and runs
 * on from there (the sandbox's demo and tests move time across windows this
 * way). Overriding it cannot widen access: every window is enforced by AWS's
 * own aws:CurrentTime, so a wrong clock can only refuse a grant, revoke early,
 * or leave cleanup to the policy's own expiry.
 */
export function clockFromEnvironment(env: NodeJS.ProcessEnv): () => Date {
  const fake = env.ELEVATE_NOW;
  if (!fake) return () => new Date();
  const start = Date.parse(fake);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(fake) || Number.isNaN(start)) {
    throw new Error(`ELEVATE_NOW must be an RFC 3339 time; got '${fake}'`);
  }
  const offset = start - Date.now();
  return () => new Date(Date.now() + offset);
}
