/**
 * Grant mode, step 3: carry out the decision (src/domain/grant-decision.ts).
 * Starts each grant's runbook (or its dual-control approval gate), waits for
 * the executions, and turns each result into an outcome. The AWS calls before
 * the first start are AssumeRoleWithWebIdentity, then one
 * StartAutomationExecution per request (issue budget: at most 3); the
 * ceiling's GetDocument runs beside the PR verification (grant-gather.ts).
 */
import * as core from "@actions/core";
import type { SSMClient } from "@aws-sdk/client-ssm";
// Not adapters/aws.js: a grant's start needs STS and SSM only, and this module
// is what grant-run.ts loads before it (no IAM or SNS client code).
import {
  type AutomationResult,
  automationClientToken,
  readDocumentContent,
  ssmClientFor,
  startAutomationPastEarlierFailures,
  waitForAutomation,
} from "../adapters/aws-automation.js";
import { describeAwsError } from "../adapters/aws-errors.js";
import { openRoleSession, type RoleSession, sessionSecondsFor } from "../adapters/aws-session.js";
import { type CeilingRead, ceilingFromDocument } from "../domain/ceiling.js";
import type { ElevateConfig } from "../domain/config.js";
import { waitingCommentLine } from "../domain/dual-control.js";
import type { GrantToStart } from "../domain/grant-decision.js";
import type { GrantEvidence } from "../domain/grant-report.js";
import { plannedOf } from "../domain/grant-target.js";
import type { ActionContext } from "./action-context.js";
import { startApprovalGate } from "./dual-control.js";
import type { GrantOutcome } from "./grant-report.js";

/** A grant to start, with its evidence note being filled in. */
export interface GrantUnderway {
  grant: GrantToStart;
  evidence: GrantEvidence;
}

/**
 * The grant ceiling of the deployed stack (src/domain/ceiling.ts), read from the
 * grant runbook with ssm:GetDocument. Never throws: when it cannot be read the
 * run says why and goes on, because the runbook enforces the ceiling anyway.
 */
export async function readGrantCeiling(config: ElevateConfig, credentials: RoleSession): Promise<CeilingRead> {
  // The same client starts the runbooks (startGrants), on the same connection.
  const ssm = ssmClientFor(config.aws.region, credentials);
  try {
    return ceilingFromDocument(await readDocumentContent(ssm, config.aws.grantDocument));
  } catch (error) {
    return {
      ok: false,
      message: `could not read ${config.aws.grantDocument} (${describeAwsError(error)}); the grant role needs ssm:GetDocument on it (infra/template.yaml)`,
    };
  }
}

/**
 * Starts every grant of the decision and waits for it: one outcome per grant,
 * in the decision's order. Never throws for one request's failure: it is that
 * request's outcome ("failed"), and the others go on.
 */
export async function startGrants(
  ctx: Pick<ActionContext, "getIdToken" | "run" | "inputs" | "now">,
  config: ElevateConfig,
  grants: readonly GrantUnderway[],
  mergeSha: string,
  /** The grant role's credentials, already being fetched (runGrant starts this early). */
  pending: Promise<RoleSession | string>,
): Promise<GrantOutcome[]> {
  const outcomes: GrantOutcome[] = [];
  /** A request that was planned but not granted: evidence, annotation and outcome say why. */
  const fail = (g: GrantUnderway, why: string, executionId?: string) => {
    g.evidence.event = "refused";
    g.evidence.refusal = why;
    core.error(`${g.grant.requestId}: ${why}`, { file: g.grant.file, title: "Elevate: grant failed" });
    outcomes.push({
      file: g.grant.file,
      requestId: g.grant.requestId,
      status: "failed",
      message: why,
      plan: plannedOf(g.grant.target),
      ...(executionId ? { executionId } : {}),
      evidence: g.evidence,
    });
  };
  const credentials = await pending;
  if (typeof credentials === "string") {
    // No AWS access, nothing started: every request fails with the same, clear reason.
    for (const g of grants) fail(g, credentials);
    return outcomes;
  }
  const ssm = ssmClientFor(config.aws.region, credentials);
  const started = await Promise.all(
    grants.map(async (g) => {
      const { target } = g.grant;
      // Dual control: a role with awsApproval starts the approval gate instead
      // and returns at once; the scheduled revoke run grants once approved.
      if (target.awsApproval) {
        try {
          const gate = await startApprovalGate(ssm, config, {
            plan: target.plan,
            approval: target.awsApproval,
            prNumber: g.evidence.pr?.number ?? 0,
            mergeSha,
          });
          core.info(`${g.grant.requestId}: started AWS-side approval gate ${gate.executionId}`);
          return { g, gate, awsApproval: target.awsApproval };
        } catch (error) {
          return { g, error: describeAwsError(error) };
        }
      }
      try {
        const executionId = await startGrantExecution(ssm, {
          documentName: target.documentName,
          parameters: target.parameters,
          requestId: g.grant.requestId,
          mergeSha,
          calledAt: ctx.now().getTime(),
        });
        core.info(`${g.grant.requestId}: started ${target.documentName} execution ${executionId}`);
        return { g, executionId };
      } catch (error) {
        return { g, error: describeAwsError(error) };
      }
    }),
  );
  const results = await Promise.all(
    started.map(async (s) => {
      if ("gate" in s && s.gate) return { g: s.g, gate: s.gate, awsApproval: s.awsApproval };
      if (!("executionId" in s) || !s.executionId) return { g: s.g, error: s.error ?? "not started" };
      const result = await waitForAutomation(ssm, s.executionId, { timeoutMs: ctx.inputs.timeoutSeconds * 1000 });
      return { g: s.g, result };
    }),
  );
  for (const r of results) {
    const { g } = r;
    const { target } = g.grant;
    const plan = plannedOf(target);
    if ("gate" in r && r.gate && r.awsApproval && target.kind === "iam-role") {
      g.evidence.event = "awaiting-aws-approval";
      g.evidence.execution = { id: r.gate.executionId, status: "Waiting" };
      outcomes.push({
        file: g.grant.file,
        requestId: g.grant.requestId,
        status: "waiting",
        message: waitingCommentLine({
          requestId: g.grant.requestId,
          iamUser: target.plan.iamUser,
          gateExecutionId: r.gate.executionId,
          approval: r.awsApproval,
          topicArn: r.gate.topicArn,
        }),
        plan,
        executionId: r.gate.executionId,
        evidence: g.evidence,
      });
      continue;
    }
    if ("result" in r && r.result) {
      const res: AutomationResult = r.result;
      g.evidence.execution = { id: res.executionId, status: res.status };
      if (res.succeeded) {
        outcomes.push({
          file: g.grant.file,
          requestId: g.grant.requestId,
          status: "granted",
          message:
            plan.kind === "role"
              ? `granted ${plan.roleArn} to ${plan.iamUser} from ${plan.notBefore} until ${plan.notAfter}`
              : `granted ${plan.permissionSetArn} in account ${plan.accountId} to Identity Center user ${plan.identityCenterUser} from ${plan.notBefore} until ${plan.notAfter}`,
          plan,
          executionId: res.executionId,
          evidence: g.evidence,
        });
      } else {
        const budgetFull = /LimitExceeded/.test(res.failureMessage ?? "");
        const why = `automation ${res.executionId} ended ${res.status}${res.failureMessage ? `: ${res.failureMessage}` : ""}${
          budgetFull && plan.kind === "role"
            ? `. ${plan.iamUser}'s inline policies would exceed IAM's 2,048-character budget, so nothing was attached; revoke or wait out one of their other grants, then re-run this workflow`
            : ""
        }`;
        fail(g, why, res.executionId);
      }
    } else {
      fail(g, `could not start the grant runbook: ${"error" in r ? r.error : "unknown error"}`);
    }
  }
  return outcomes;
}

/**
 * The grant role's credentials from the job's OIDC token, or why there are none.
 * A refusal by STS is expected for a token from anywhere but the grant workflow
 * on the default branch (infra/template.yaml pins the trust policy's `sub` and
 * `job_workflow_ref`), so the message says that rather than only the AWS error.
 */
export async function grantRoleCredentials(
  ctx: Pick<ActionContext, "getIdToken" | "run" | "inputs">,
  config: ElevateConfig,
  /** The job's OIDC token for STS, when the caller has already asked for it. */
  firstToken?: Promise<string>,
): Promise<RoleSession | string> {
  let token: string;
  try {
    token = await (firstToken ?? ctx.getIdToken("sts.amazonaws.com"));
  } catch (error) {
    return `could not get this job's OIDC token (${(error as Error).message}); the grant job needs 'permissions: id-token: write'`;
  }
  try {
    let first: string | undefined = token;
    return await openRoleSession({
      region: config.aws.region,
      roleArn: config.aws.grantRoleArn,
      // The session covers the run's wait; a longer run renews it with a new token.
      durationSeconds: sessionSecondsFor(ctx.inputs.timeoutSeconds),
      webIdentityToken: async () => {
        const next = first ?? (await ctx.getIdToken("sts.amazonaws.com"));
        first = undefined;
        return next;
      },
      sessionName: `elevate-grant-${ctx.run.id}`.slice(0, 64),
      onShortSession: (message) => core.warning(message, { title: "Elevate: short AWS session" }),
    });
  } catch (error) {
    const e = error as { name?: string; message?: string };
    return `could not assume the grant role ${config.aws.grantRoleArn} with this job's OIDC token (${e.name ?? "Error"}: ${e.message ?? String(error)}); the role trusts only this repository's grant workflow (elevate-grant.yml) running on a push to the default branch, so a run from another branch, another workflow or a pull request is refused by design. Nothing was granted.`;
  }
}

/** How many executions one request and merge may get before the run gives up. */
export const MAX_GRANT_ATTEMPTS = 20;

/**
 * The ClientToken of the `attempt`-th execution for a request and its merge
 * commit. Attempt 0 is the token of docs/threat-model.md invariant 4; later attempts exist
 * only to retry after an earlier run's execution failed (see startGrantExecution).
 */
export function grantClientToken(requestId: string, mergeSha: string, attempt = 0): string {
  return attempt === 0
    ? automationClientToken(requestId, mergeSha)
    : automationClientToken(requestId, mergeSha, `attempt-${attempt}`);
}

/**
 * Starts (or joins) the grant execution for one request and merge. Every
 * attempt carries the same parameters (the window comes from the merge, not
 * from the clock), so stepping past an earlier run's failed execution can only
 * re-attach the same policy: never a second grant, never a longer window. That
 * is what makes "free some of the user's inline budget, then re-run" work.
 */
export async function startGrantExecution(
  ssm: SSMClient,
  input: {
    documentName: string;
    parameters: Record<string, string>;
    requestId: string;
    mergeSha: string;
    /** When this run called, in ms since the epoch (the run's clock). */
    calledAt: number;
  },
): Promise<string> {
  const started = await startAutomationPastEarlierFailures(ssm, {
    documentName: input.documentName,
    parameters: input.parameters,
    clientToken: (attempt) => grantClientToken(input.requestId, input.mergeSha, attempt),
    maxAttempts: MAX_GRANT_ATTEMPTS,
    now: () => input.calledAt,
    onSkip: (executionId, attempt, status) =>
      core.info(
        `${input.requestId}: execution ${executionId} (attempt ${attempt}) ended ${status} in an earlier run; starting attempt ${attempt + 1}`,
      ),
  });
  // Exhausted: the last attempt's execution is reported (failed) by the caller.
  return started.executionId;
}
