/**
 * The action's inputs, read and checked in one place (action/action.yml is
 * the documentation; a test keeps the two in step).
 */
import * as core from "@actions/core";
import type { ActionInputs, Mode } from "../modes/action-context.js";

export const MODES: readonly Mode[] = ["check", "grant", "revoke"];

export class InputError extends Error {}

export function getInputs(read: (name: string) => string = (n) => core.getInput(n)): ActionInputs {
  const mode = read("mode").trim();
  if (!MODES.includes(mode as Mode)) {
    throw new InputError(`input 'mode' must be one of ${MODES.join(", ")}; got '${mode}'`);
  }
  const timeoutText = read("timeout-seconds").trim() || "600";
  const timeoutSeconds = Number(timeoutText);
  if (!/^\d+$/.test(timeoutText) || timeoutSeconds < 10 || timeoutSeconds > 3600) {
    throw new InputError(`input 'timeout-seconds' must be a whole number from 10 to 3600; got '${timeoutText}'`);
  }
  const drift = read("drift").trim() || "revoke";
  if (drift !== "revoke" && drift !== "report") {
    throw new InputError(`input 'drift' must be 'revoke' or 'report'; got '${drift}'`);
  }
  const dryRunText = read("dry-run").trim().toLowerCase() || "false";
  if (dryRunText !== "true" && dryRunText !== "false") {
    throw new InputError(`input 'dry-run' must be 'true' or 'false'; got '${dryRunText}'`);
  }
  const request = read("request").trim();
  if (request && !/^[a-z0-9][a-z0-9-]{2,62}$/.test(request)) {
    throw new InputError(`input 'request' must be a request id (^[a-z0-9][a-z0-9-]{2,62}$); got '${request}'`);
  }
  const githubToken = read("github-token").trim();
  if (!githubToken)
    throw new InputError("input 'github-token' is empty; set it to the job token (github.token) or another token");
  const membersToken = read("members-token").trim();
  if (membersToken) core.setSecret(membersToken);
  return {
    mode: mode as Mode,
    configPath: read("config").trim() || ".github/elevate.yml",
    githubToken,
    ...(membersToken ? { membersToken } : {}),
    timeoutSeconds,
    ...(request ? { request } : {}),
    drift,
    dryRun: dryRunText === "true",
  };
}
