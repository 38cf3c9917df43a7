/**
 * Action mode `revoke`: gather the facts (src/modes/revoke-facts.ts) → one pure
 * decision (`decideRevoke`, src/domain/revoke-decision.ts) → act (runbooks,
 * notifications) → report (src/domain/revoke-report.ts). Before the facts, approved
 * AWS-side approval gates are finished (they grant), so the same run judges the grant
 * they attach. After the actions, open request PRs are tidied (stale windows,
 * "requested" notifications).
 */
import * as core from "@actions/core";
import { createClients, openRoleSession, sessionSecondsFor } from "../adapters/aws.js";
import { AwsClock } from "../adapters/aws-clock.js";
import { mapLimited } from "../domain/map-limited.js";
import { decideRevoke } from "../domain/revoke-decision.js";
import { permissionSetRevokeEvents, revokeEvents } from "../domain/revoke-notifications.js";
import {
  emptyRevokeReport,
  headlineOf,
  type RevokeReport,
  type RevokeStatus,
  revokeSummaryMarkdown,
} from "../domain/revoke-report.js";
import { loadActionConfig } from "./action-config.js";
import type { ActionContext } from "./action-context.js";
import { readKnownRequests } from "./inventory.js";
import { catalogPairs, gatherPermissionSetPlan, performPermissionSetRevokes } from "./permission-set-inventory.js";
import { earlyRevokeIds, gatherRevokeFacts } from "./revoke-facts.js";
import { resolveApprovalGates } from "./revoke-gates.js";
import { publish, reviewOpenRequests, runOf } from "./revoke-open-requests.js";
import { performClear, performRevoke, type RunbookRun } from "./revoke-runbooks.js";

// The names tests, status and main.ts use from this mode, wherever they now live.
export { requestedEvents, revokeEvents } from "../domain/revoke-notifications.js";
export {
  type ClearOutcome,
  headlineOf,
  type RequestedOutcome,
  type RevokeOutcome,
  type RevokeReport,
  type RevokeStatus,
  revokeFailed,
  revokeSummaryMarkdown,
  type StaleOutcome,
} from "../domain/revoke-report.js";
export {
  CLEAR_CUTOFF_DOCUMENT,
  NO_STAMP_LIMIT,
  revokeParameters,
  revokeTokenParts,
  STAMP_OUTPUT,
  stampedRevokedAt,
} from "../domain/revoke-runbooks.js";
export { REQUESTED_MARKER } from "./revoke-open-requests.js";
export { runRunbook } from "./revoke-runbooks.js";

/** Runbooks started at once; SSM allows far more concurrent automations per account. */
const CONCURRENCY = 8;

export async function runRevoke(ctx: ActionContext): Promise<RevokeReport> {
  const report: RevokeReport = emptyRevokeReport(ctx.inputs.dryRun);
  const config = await loadActionConfig(ctx, "nothing was revoked");
  const early = await earlyRevokeIds(ctx);

  // Every time that decides access in this run is AWS's (the Date of its responses),
  // never the runner's clock (docs/threat-model.md "Time"): a runner hours ahead must
  // not expire live grants or clear cut-offs early, one minutes behind must not let
  // sessions survive. The runner's clock is only compared with it, for the log.
  const awsClock = new AwsClock();
  const awsNow = (): Date => awsClock.now();
  // A revoke run waits for many executions one after another: the session covers
  // one wait and is renewed (a new OIDC token) before it runs out.
  const credentials = await openRoleSession({
    region: config.aws.region,
    roleArn: config.aws.revokeRoleArn,
    durationSeconds: sessionSecondsFor(ctx.inputs.timeoutSeconds),
    webIdentityToken: () => ctx.getIdToken("sts.amazonaws.com"),
    sessionName: `elevate-revoke-${ctx.run.id}`.slice(0, 64),
    clock: awsClock,
    onShortSession: (message) => core.warning(message, { title: "Elevate: short AWS session" }),
  });
  const { ssm, iam, sns } = createClients(config.aws.region, credentials, awsClock);
  if (awsClock.known) {
    const skew = awsClock.skewOf(ctx.now());
    if (Math.abs(skew) >= 60_000) {
      core.info(
        `the runner's clock is ${Math.round(Math.abs(skew) / 1000)} s ${skew > 0 ? "ahead of" : "behind"} AWS's; this run decides by AWS's`,
      );
    }
  }

  // Dual control: finish AWS-side approval gates before the inventory, so a
  // grant attached in this run is seen (and judged) by the same run.
  if (!ctx.inputs.dryRun && Object.values(config.roles).some((r) => r.awsApproval)) {
    const gates = await resolveApprovalGates(ctx, ssm, config, new Set(early.keys()), awsNow());
    if (gates.outcomes) report.approvalGates = gates.outcomes;
    report.problems.push(...gates.problems);
  }

  // Gather → decide.
  const gathered = await gatherRevokeFacts(ctx, config, { iam, ssm }, awsNow, early, report.approvalGates ?? []);
  report.listingCalls = gathered.listingCalls;
  const decision = decideRevoke(gathered.facts);
  for (const w of decision.warnings) core.warning(w.message, { title: w.title });
  report.problems.push(...decision.problems);
  report.plan = decision.plan;
  report.drift = decision.plan.drift;
  report.notFound = decision.plan.notFound;

  // Act.
  const clears = decision.actions.filter((a) => a.kind === "clear-cutoff");
  const revokes = decision.actions.filter((a) => a.kind === "revoke-grant");
  if (ctx.inputs.dryRun) {
    report.clears = clears.map((a) => ({ ...a.clear, status: "planned", message: "dry run: would clear" }));
    report.outcomes = revokes.map((a) => ({ ...a.revocation, status: "planned", message: "dry run: would revoke" }));
  } else {
    // AWS's clock: runRunbook compares it with SSM's ExecutionStartTime to tell an earlier
    // run's failed execution from this run's.
    const run: RunbookRun = { timeoutMs: ctx.inputs.timeoutSeconds * 1000, now: () => awsNow().getTime() };
    // Clears first: they free the role budget that this run's new cut-offs were planned against.
    report.clears = await mapLimited(clears, CONCURRENCY, (a) => performClear(ssm, a, run));
    report.outcomes = await mapLimited(revokes, CONCURRENCY, (a) => performRevoke(ssm, a, run));
    const events = revokeEvents(report, decision.known, {
      occurredAt: awsNow(),
      repository: `${ctx.repo.owner}/${ctx.repo.repo}`,
      run: runOf(ctx),
    });
    await publish(sns, config, events, report);
  }
  // Identity Center: the catalogued permission sets' assignments, judged and acted on.
  // Only configs with permission-set roles read anything of Identity Center.
  if (catalogPairs(config).length > 0)
    try {
      const known = await readKnownRequests(ctx.workspace, "HEAD");
      const psPlan = await gatherPermissionSetPlan({
        cwd: ctx.workspace,
        config,
        credentials,
        ssm,
        now: awsNow(),
        known,
      });
      if (psPlan) {
        const outcomes = await performPermissionSetRevokes(ssm, config, psPlan.revoke, {
          id: ctx.run.id,
          timeoutMs: ctx.inputs.timeoutSeconds * 1000,
          dryRun: ctx.inputs.dryRun,
          drift: ctx.inputs.drift,
        });
        report.permissionSets = { outcomes, kept: psPlan.keep.length, report: psPlan.report };
        if (!ctx.inputs.dryRun) {
          const events = permissionSetRevokeEvents(report.permissionSets, known, {
            occurredAt: awsNow(),
            repository: `${ctx.repo.owner}/${ctx.repo.repo}`,
            run: runOf(ctx),
          });
          await publish(sns, config, events, report);
        }
      }
    } catch (error) {
      report.problems.push(`Identity Center assignments could not be checked: ${describeError(error)}`);
    }
  const open = await reviewOpenRequests(ctx, config, sns, awsNow(), report);
  report.stale = open.stale;
  report.requested = open.requested;

  // Report.
  report.headline = headlineOf(report);
  await writeReport(report, awsNow());
  return report;
}

async function writeReport(report: RevokeReport, now: Date): Promise<void> {
  // Both kinds: IAM-role grants and Identity Center assignments (drift ones named `drift-…`).
  const psOutcomes = report.permissionSets?.outcomes ?? [];
  const ids = (status: RevokeStatus) => [
    ...report.outcomes.filter((o) => o.status === status).map((o) => o.requestId),
    ...psOutcomes.filter((o) => o.status === status).map((o) => o.requestId),
  ];
  core.setOutput("request-ids", JSON.stringify([...report.outcomes, ...psOutcomes].map((o) => o.requestId)));
  core.setOutput("revoked", JSON.stringify(ids("revoked")));
  core.setOutput(
    "drift",
    JSON.stringify([
      ...new Set([
        ...report.drift.map((d) => d.requestId ?? d.policyName),
        ...psOutcomes.filter((o) => o.reason === "drift").map((o) => o.requestId),
      ]),
    ]),
  );
  core.setOutput(
    "execution-ids",
    JSON.stringify(
      [...report.clears, ...report.outcomes, ...psOutcomes].flatMap((o) => (o.executionId ? [o.executionId] : [])),
    ),
  );
  core.setOutput("summary", report.headline);
  // Revoke runs grant only by finishing approved AWS-side approval gates.
  const gates = report.approvalGates ?? [];
  const gateIds = (status: string) =>
    gates
      .filter((g) => g.status === status && g.newlyResolved !== false && g.requestId)
      .map((g) => g.requestId as string);
  core.setOutput("granted", JSON.stringify(gateIds("granted")));
  core.setOutput("refused", JSON.stringify(gateIds("refused")));
  await core.summary.addRaw(revokeSummaryMarkdown(report, now), true).write();
}

function describeError(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return `${e.name ?? "Error"}: ${e.message ?? String(error)}`;
}
