/**
 * Performs a revoke run's actions: starts each runbook the decision names with its
 * exact parameters and ClientToken, waits for it, and returns the outcome for the report.
 */
import * as core from "@actions/core";
import type { SSMClient } from "@aws-sdk/client-ssm";
import { automationClientToken, startAutomationPastEarlierFailures, waitForAutomation } from "../adapters/aws.js";
import { describeAwsError } from "../adapters/aws-errors.js";
import { formatIamTime } from "../domain/grant-policy.js";
import type { RevokeAction } from "../domain/revoke-decision.js";
import type { ClearOutcome, RevokeOutcome } from "../domain/revoke-report.js";
import { stampedRevokedAt } from "../domain/revoke-runbooks.js";

/**
 * A deterministic ClientToken names one execution for ever, even a failed one, so a
 * retry needs the next token: `attempt-0`, `attempt-1`, … A run skips attempts that
 * failed in earlier runs and waits for the first one that is new or still running.
 */
const MAX_ATTEMPTS = 50;

interface RunbookResult {
  executionId?: string;
  succeeded: boolean;
  message: string;
  /** The execution's outputs (document `outputs`), when it succeeded. */
  outputs?: Record<string, string[]>;
}

/**
 * Starts a runbook with a ClientToken derived from `tokenParts` (so a re-run, or a
 * racing run, is the same execution) and waits for it. An execution under that token
 * that already failed in an earlier run is skipped for the next attempt's token, so a
 * failed revoke is retried by the next run instead of being reported failed for ever.
 */
export async function runRunbook(
  ssm: SSMClient,
  input: { documentName: string; parameters: Record<string, string>; tokenParts: string[]; timeoutMs: number },
  now: () => number = Date.now,
): Promise<RunbookResult> {
  let started: Awaited<ReturnType<typeof startAutomationPastEarlierFailures>>;
  try {
    started = await startAutomationPastEarlierFailures(ssm, {
      documentName: input.documentName,
      parameters: input.parameters,
      clientToken: (attempt) => automationClientToken(...input.tokenParts, `attempt-${attempt}`),
      maxAttempts: MAX_ATTEMPTS,
      now,
      onSkip: (executionId, attempt) =>
        core.info(
          `${input.documentName} execution ${executionId} (attempt ${attempt}) failed in an earlier run; retrying`,
        ),
    });
  } catch (error) {
    return { succeeded: false, message: `could not start ${input.documentName}: ${describeAwsError(error)}` };
  }
  if (started.exhausted) {
    return {
      succeeded: false,
      message: `${MAX_ATTEMPTS} executions of ${input.documentName} for this have failed; investigate them in the SSM console`,
    };
  }
  const { executionId } = started;
  const result = await waitForAutomation(ssm, executionId, { timeoutMs: input.timeoutMs });
  if (result.succeeded) {
    return { executionId, succeeded: true, message: `execution ${executionId} succeeded`, outputs: result.outputs };
  }
  return {
    executionId,
    succeeded: false,
    message: `execution ${executionId} ended ${result.status}${result.failureMessage ? `: ${result.failureMessage}` : ""}`,
  };
}

/** How this run waits for runbooks: its timeout and its clock. */
export interface RunbookRun {
  timeoutMs: number;
  now: () => number;
}

export async function performRevoke(
  ssm: SSMClient,
  action: Extract<RevokeAction, { kind: "revoke-grant" }>,
  run: RunbookRun,
): Promise<RevokeOutcome> {
  const r = action.revocation;
  if ("error" in action.runbook) {
    const message = action.runbook.error;
    core.error(message, { title: "Elevate: revoke failed" });
    return { ...r, status: "failed", message };
  }
  const result = await runRunbook(ssm, { ...action.runbook, timeoutMs: run.timeoutMs }, run.now);
  // The cut-off's time as the runbook stamped it (AWS's clock), for the report. A revoke
  // planned without one (other grants covered the role) writes one after all when those
  // grants ended before it ran (Elevate-Revoke decideCutOff): the report says so.
  const stamped = result.succeeded && (r.cutOff || r.coveringRequests) ? stampedRevokedAt(result.outputs) : undefined;
  const revokedAt = stamped ?? r.revokedAt;
  if (!r.cutOff && stamped !== undefined) {
    const { cutOffNote: _covered, ...rest } = r;
    core.info(
      `${r.requestId}: revoked (${r.why}); ${(r.coveringRequests ?? []).join(", ")} ended before the runbook ran, so sessions before ${formatIamTime(revokedAt)} cut off`,
    );
    return {
      ...rest,
      cutOff: true,
      revokedAt,
      status: "revoked",
      message: result.message,
      ...(result.executionId ? { executionId: result.executionId } : {}),
    };
  }
  if (!result.succeeded) {
    core.error(`${r.requestId}: revoke failed: ${result.message}`, { title: "Elevate: revoke failed" });
  } else {
    core.info(
      `${r.requestId}: revoked (${r.why})${r.cutOff ? `; sessions before ${formatIamTime(revokedAt)} cut off` : ""}`,
    );
  }
  return {
    ...r,
    revokedAt,
    status: result.succeeded ? "revoked" : "failed",
    message: result.message,
    ...(result.executionId ? { executionId: result.executionId } : {}),
  };
}

export async function performClear(
  ssm: SSMClient,
  action: Extract<RevokeAction, { kind: "clear-cutoff" }>,
  run: RunbookRun,
): Promise<ClearOutcome> {
  const c = action.clear;
  const result = await runRunbook(ssm, { ...action.runbook, timeoutMs: run.timeoutMs }, run.now);
  if (!result.succeeded) core.warning(`clearing ${c.policyName} on ${c.roleName} failed: ${result.message}`);
  return {
    ...c,
    status: result.succeeded ? "cleared" : "failed",
    message: result.message,
    ...(result.executionId ? { executionId: result.executionId } : {}),
  };
}
