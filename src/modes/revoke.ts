import * as core from "@actions/core";
import type { SNSClient } from "@aws-sdk/client-sns";
import type { SSMClient } from "@aws-sdk/client-ssm";
import {
  automationClientToken,
  createClients,
  openRoleSession,
  sessionSecondsFor,
  startAutomationPastEarlierFailures,
  waitForAutomation,
} from "../adapters/aws.js";
import { AwsClock } from "../adapters/aws-clock.js";
import { changedFiles, commitExists, git, readFileAt, ZERO_SHA } from "../adapters/git.js";
import {
  closePullRequest,
  createComment,
  hasBotCommentWithMarker,
  listOpenPullRequests,
  listPullRequestFiles,
  listPullRequestsForCommit,
  type PullRequestInfo,
} from "../adapters/github.js";
import { type ElevateConfig, findRole, findUser } from "../domain/config.js";
import { type DualControlOutcome, outcomeCommentBody, outcomeMarker } from "../domain/dual-control.js";
import { formatIamTime } from "../domain/grant-policy.js";
import { humanDuration, parseRoleArn } from "../domain/grant-report.js";
import { mdEscape } from "../domain/markdown.js";
import type { ElevateEvent, NotificationRun } from "../domain/notifications.js";
import { validateRequest } from "../domain/request.js";
import { parseRequestPath, REQUEST_ID } from "../domain/request-path.js";
import {
  accountGrantRecords,
  type CutoffClear,
  type DriftFinding,
  type KnownRequest,
  planRevocations,
  type Revocation,
  type RevokePlan,
  RUNBOOK_NAME,
  readRequestFacts,
  staleRequestEnd,
} from "../domain/revoke-plan.js";
import { loadActionConfig } from "./action-config.js";
import type { ActionContext } from "./action-context.js";
import { resolvePendingApprovals } from "./dual-control.js";
import { describeAwsError } from "./grant.js";
import {
  completeRequestFacts,
  describeBreakGlassFromNotes,
  GRANT_RECORD_LOOKBACK_MS,
  readGrantRecords,
  readInventory,
  readKnownRequests,
} from "./inventory.js";
import { mapLimited } from "./map-limited.js";
import { publishEvents } from "./notify.js";

/**
 * The Elevate-ClearCutoff runbook's name. The config has no key for it yet (only
 * grantDocument and revokeDocument); infra/template.yaml creates it under this name.
 */
export const CLEAR_CUTOFF_DOCUMENT = "Elevate-ClearCutoff";

/** Runbooks started at once; SSM allows far more concurrent automations per account. */
const CONCURRENCY = 8;
/**
 * A deterministic ClientToken names one execution for ever, even a failed one, so a
 * retry needs the next token: `attempt-0`, `attempt-1`, … A run skips attempts that
 * failed in earlier runs and waits for the first one that is new or still running.
 */
const MAX_ATTEMPTS = 50;
/** An execution that started this long before our start call belongs to an earlier run. */

export type RevokeStatus = "revoked" | "failed" | "planned";

export interface RevokeOutcome extends Revocation {
  status: RevokeStatus;
  message: string;
  executionId?: string;
}

export interface ClearOutcome extends CutoffClear {
  status: "cleared" | "failed" | "planned";
  message: string;
  executionId?: string;
}

export interface StaleOutcome {
  pr: number;
  file: string;
  requestId: string;
  windowClosedAt: string;
  status: "closed" | "failed" | "planned";
  message: string;
}

/** The "requested" notification of one open request PR (docs/notifications.md). */
export interface RequestedOutcome {
  pr: number;
  requestIds: string[];
  /** notified: published and marked; unmarked: published, but the marker comment failed (the next run publishes again). */
  status: "notified" | "unmarked" | "failed" | "planned";
  message: string;
}

/**
 * The hidden marker of the comment that says a PR's "requested" notification went
 * out. Only a bot's comment counts (hasBotCommentWithMarker).
 */
export const REQUESTED_MARKER = "<!-- elevate:requested-notified -->";

export interface RevokeReport {
  /** One line: what happened, or why the run failed. */
  headline: string;
  plan?: RevokePlan;
  outcomes: RevokeOutcome[];
  clears: ClearOutcome[];
  stale: StaleOutcome[];
  drift: DriftFinding[];
  /** Early-revoke ids with no grant policy in IAM (nothing to do). */
  notFound: string[];
  /** Problems that make this run's result incomplete (e.g. git history unreadable). */
  problems: string[];
  listingCalls: number;
  dryRun: boolean;
  /** AWS-side approval gates resolved this run (roles with awsApproval). */
  approvalGates?: DualControlOutcome[];
  /** "requested" notifications for open request PRs (scheduled runs, with a topic). */
  requested: RequestedOutcome[];
  /** SNS messages this run published, and one line per message that could not be (warnings). */
  notifications: { published: number; failed: string[] };
}

/** Request ids to revoke early, each with the reason shown in the report. */
async function earlyRevokeIds(ctx: ActionContext): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  if (ctx.inputs.request) {
    const actor = typeof ctx.payload.sender?.login === "string" ? ` by @${ctx.payload.sender.login}` : "";
    ids.set(ctx.inputs.request, `revoked early on request (manual run${actor})`);
  }
  if (ctx.eventName !== "push") return ids;
  if (ctx.ref !== `refs/heads/${ctx.defaultBranch}`) {
    throw new Error(`revoke mode handles pushes to ${ctx.defaultBranch} only; this push is to ${ctx.ref}`);
  }
  const after = String(ctx.payload.after ?? ctx.sha);
  const before = String(ctx.payload.before ?? "");
  if (!/^[0-9a-f]{40}$/.test(after) || !/^[0-9a-f]{40}$/.test(before) || before === ZERO_SHA) return ids;
  for (const sha of [before, after]) {
    if (!(await commitExists(ctx.workspace, sha))) {
      throw new Error(
        `commit ${sha.slice(0, 12)} is not in the checkout; check out with 'fetch-depth: 0' so deleted request files can be found`,
      );
    }
  }
  const deleted = (await changedFiles(ctx.workspace, before, after)).filter(
    (c) => c.status === "D" && parseRequestPath(c.path).ok,
  );
  if (deleted.length === 0) return ids;
  let by = "a direct push (revoked anyway: revoking only takes access away)";
  try {
    const pulls = await listPullRequestsForCommit(ctx.octokit, ctx.repo, after);
    const pr = pulls.find((p) => p.merged && p.mergeCommitSha === after && p.baseRef === ctx.defaultBranch);
    if (pr) by = `PR #${pr.number}`;
  } catch (error) {
    by = `a push whose PR could not be looked up (${(error as Error).message})`;
  }
  for (const c of deleted) {
    const parsed = parseRequestPath(c.path);
    if (parsed.ok) ids.set(parsed.value.id, `its request file ${c.path} was deleted by ${by}`);
  }
  return ids;
}

/**
 * Resolves AWS-side approval gates (src/modes/dual-control.ts) and reports
 * each newly resolved one on its PR, once: the comment carries a marker, and
 * every run sees finished gates again.
 */
async function resolveApprovalGates(
  ctx: ActionContext,
  ssm: SSMClient,
  config: ElevateConfig,
  revokedRequestIds: ReadonlySet<string>,
  report: RevokeReport,
  now: Date,
): Promise<void> {
  let outcomes: DualControlOutcome[];
  try {
    outcomes = await resolvePendingApprovals(ssm, config, {
      now,
      timeoutMs: ctx.inputs.timeoutSeconds * 1000,
      revokedRequestIds,
    });
  } catch (error) {
    report.problems.push(`AWS-side approval gates could not be resolved: ${describeAwsError(error)}`);
    return;
  }
  report.approvalGates = outcomes;
  for (const o of outcomes) {
    if (o.status === "pending") continue;
    if (o.status === "failed" || o.status === "untrusted") {
      report.problems.push(`approval gate ${o.gateExecutionId}${o.requestId ? ` (${o.requestId})` : ""}: ${o.message}`);
    }
    if (!o.prNumber || o.status === "untrusted") continue;
    try {
      // Markers count only from the bot: a person could plant one to hide an outcome.
      const reported = (marker: string) => hasBotCommentWithMarker(ctx.octokit, ctx.repo, o.prNumber as number, marker);
      // A gate granted by an earlier run reads as "window closed" or "revoked"
      // once that grant ends; its end belongs to the revoke report, not here.
      const grantedEarlier =
        o.status === "refused" &&
        (await reported(outcomeMarker({ gateExecutionId: o.gateExecutionId, status: "granted" })));
      if (!grantedEarlier && !(await reported(outcomeMarker(o)))) {
        await createComment(ctx.octokit, ctx.repo, o.prNumber, outcomeCommentBody(o));
      }
    } catch (error) {
      core.warning(
        `could not report approval gate ${o.gateExecutionId} on PR #${o.prNumber}: ${(error as Error).message}`,
      );
    }
  }
}

export async function runRevoke(ctx: ActionContext): Promise<RevokeReport> {
  const report: RevokeReport = {
    headline: "",
    outcomes: [],
    clears: [],
    stale: [],
    drift: [],
    notFound: [],
    problems: [],
    listingCalls: 0,
    dryRun: ctx.inputs.dryRun,
    requested: [],
    notifications: { published: 0, failed: [] },
  };
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
    await resolveApprovalGates(ctx, ssm, config, new Set(early.keys()), report, awsNow());
  }

  let inventoryRead: Awaited<ReturnType<typeof readInventory>>;
  try {
    inventoryRead = await readInventory(iam, config.aws.accountId, awsNow);
  } catch (error) {
    throw new Error(
      `could not read the grants from IAM (${describeAwsError(error)}); nothing was revoked this run. Every grant still expires by itself; the next run retries.`,
    );
  }
  const { inventory } = inventoryRead;
  report.listingCalls = inventoryRead.listingCalls;

  let known: Map<string, KnownRequest> | undefined;
  try {
    const gitKnown = await readKnownRequests(ctx.workspace, "HEAD");
    await completeRequestFacts(
      ctx.workspace,
      config,
      gitKnown,
      inventory.grants.map((g) => g.requestId),
    );
    // A grant attached for an approved AWS-side gate starts at the approval, which the
    // gate's own record in SSM fixes: the trusted gate is the authority for its window.
    for (const gate of report.approvalGates ?? []) {
      const entry = gate.requestId === undefined ? undefined : gitKnown.get(gate.requestId);
      if (gate.status !== "granted" || !entry || entry.granted) continue;
      if (!gate.iamUser || !gate.roleArn || !gate.notBefore || !gate.notAfter) continue;
      entry.granted = {
        iamUser: gate.iamUser,
        roleArn: gate.roleArn,
        notBefore: new Date(gate.notBefore),
        notAfter: new Date(gate.notAfter),
      };
    }
    known = new Map<string, KnownRequest>(gitKnown);
  } catch (error) {
    const why = `git history could not be read (${(error as Error).message}); drift was not judged this run, expired and withdrawn grants were still revoked`;
    report.problems.push(why);
    core.warning(why, { title: "Elevate: drift not checked" });
  }
  // What Elevate granted comes from AWS, not from the evidence notes: the successful
  // Elevate-Grant executions, with their exact parameters (break-glass grants have no
  // other authority). Without them drift is not judged: a break-glass grant would look
  // unaccounted for and be revoked.
  if (known && inventory.grants.length > 0) {
    const starts = inventory.grants.flatMap((g) => (g.policy ? [g.policy.notBefore.getTime()] : []));
    const since = new Date(Math.min(awsNow().getTime(), ...starts) - GRANT_RECORD_LOOKBACK_MS);
    try {
      const records = await readGrantRecords(ssm, config.aws.grantDocument, since);
      accountGrantRecords(
        known,
        records,
        inventory.grants.map((g) => g.requestId),
      );
      await describeBreakGlassFromNotes(ctx.workspace, known);
    } catch (error) {
      known = undefined;
      const why = `the Elevate-Grant executions could not be read from SSM (${describeAwsError(error)}); drift was not judged this run, expired and withdrawn grants were still revoked`;
      report.problems.push(why);
      core.warning(why, { title: "Elevate: drift not checked" });
    }
  }

  const plan = planRevocations({
    inventory,
    now: awsNow(),
    earlyRevokeIds: early,
    knownRequests: known,
    driftMode: ctx.inputs.drift,
  });
  report.plan = plan;
  report.drift = plan.drift;
  report.notFound = plan.notFound;
  for (const d of plan.drift) {
    core.warning(d.message, { title: `Elevate: drift (${d.kind}, ${d.action === "revoke" ? "revoked" : "reported"})` });
  }

  if (ctx.inputs.dryRun) {
    report.clears = plan.clearCutoffs.map((c) => ({ ...c, status: "planned", message: "dry run: would clear" }));
    report.outcomes = plan.revoke.map((r) => ({ ...r, status: "planned", message: "dry run: would revoke" }));
  } else {
    // AWS's clock: runRunbook compares it with SSM's ExecutionStartTime to tell an earlier
    // run's failed execution from this run's.
    const run: RunbookRun = { timeoutMs: ctx.inputs.timeoutSeconds * 1000, now: () => awsNow().getTime() };
    // Clears first: they free the role budget that this run's new cut-offs were planned against.
    report.clears = await mapLimited(plan.clearCutoffs, CONCURRENCY, (c) => clearCutoff(ssm, config, c, run));
    report.outcomes = await mapLimited(plan.revoke, CONCURRENCY, (r) => revokeOne(ssm, config, r, run));
    const events = revokeEvents(report, known, {
      occurredAt: awsNow(),
      repository: `${ctx.repo.owner}/${ctx.repo.repo}`,
      run: runOf(ctx),
    });
    await publish(sns, config, events, report);
  }
  const open = await reviewOpenRequests(ctx, config, sns, awsNow(), report);
  report.stale = open.stale;
  report.requested = open.requested;

  report.headline = headlineOf(report);
  await writeReport(report, awsNow());
  return report;
}

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

/** The Elevate-Revoke parameters (infra/runbooks/elevate-revoke.yaml) for one revocation. */
export function revokeParameters(config: ElevateConfig, r: Revocation): Record<string, string> {
  const roleName = roleNameOf(r);
  if (r.cutOff && roleName === undefined) {
    // The plan only sets cutOff for a parsed role of the account with a runbook-safe name;
    // a cut-off must never land on a placeholder role.
    throw new Error(`${r.requestId}: a session cut-off needs the role's name, and ${r.roleArn ?? "no role"} has none`);
  }
  return {
    AutomationAssumeRole: config.aws.automationRoleArn,
    RequestId: r.requestId,
    UserName: r.iamUser,
    // The runbook requires RoleName even when CutOff is 'false', and then its only step
    // that reads RoleName (putCutOffPolicy) is skipped. Without a parsed role (drift) the
    // user's name stands in: a value the pattern accepts that is never used, because
    // CutOff is then always 'false' (checked above).
    RoleName: roleName ?? r.iamUser,
    CutOff: r.cutOff ? "true" : "false",
    RevokedAt: formatIamTime(r.revokedAt),
    // An early or drift revoke's cut-off is stamped by the runbook, on AWS's clock.
    StampAtRunTime: r.stampAtRunTime ? "true" : "false",
    StampNotAfter: r.stampNotAfter ? formatIamTime(r.stampNotAfter) : NO_STAMP_LIMIT,
  };
}

/** Elevate-Revoke's StampNotAfter when no pending grant limits the stamp. */
export const NO_STAMP_LIMIT = "9999-12-31T23:59:59Z";

/** The output in which Elevate-Revoke reports the revocation time it wrote. */
export const STAMP_OUTPUT = "stampCutOff.RevokedAt";

/**
 * The revocation time a successful Elevate-Revoke execution wrote into the cut-off
 * (its stampCutOff output), or undefined when it wrote none or the output is not a
 * whole-second UTC time.
 */
export function stampedRevokedAt(outputs: Record<string, string[]> | undefined): Date | undefined {
  const text = outputs?.[STAMP_OUTPUT]?.[0];
  if (text === undefined || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(text)) return undefined;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

function roleNameOf(r: Revocation): string | undefined {
  const name = r.roleName ?? (r.roleArn ? parseRoleArn(r.roleArn)?.name : undefined);
  return name !== undefined && RUNBOOK_NAME.test(name) ? name : undefined;
}

/** Everything the execution depends on: the same revocation gets the same token, any change a new one. */
export function revokeTokenParts(r: Revocation, parameters: Record<string, string>): string[] {
  const window = r.window ? `${formatIamTime(r.window.notBefore)}/${formatIamTime(r.window.notAfter)}` : "unparsed";
  return [
    "revoke",
    r.requestId,
    window,
    ...Object.keys(parameters)
      .sort()
      .map((k) => `${k}=${parameters[k]}`),
  ];
}

/** How this run waits for runbooks: its timeout and its clock. */
interface RunbookRun {
  timeoutMs: number;
  now: () => number;
}

async function revokeOne(
  ssm: SSMClient,
  config: ElevateConfig,
  r: Revocation,
  run: RunbookRun,
): Promise<RevokeOutcome> {
  let parameters: Record<string, string>;
  try {
    parameters = revokeParameters(config, r);
  } catch (error) {
    const message = (error as Error).message;
    core.error(message, { title: "Elevate: revoke failed" });
    return { ...r, status: "failed", message };
  }
  const result = await runRunbook(
    ssm,
    {
      documentName: config.aws.revokeDocument,
      parameters,
      tokenParts: revokeTokenParts(r, parameters),
      timeoutMs: run.timeoutMs,
    },
    run.now,
  );
  // The cut-off's time as the runbook stamped it (AWS's clock), for the report.
  const stamped = result.succeeded && r.cutOff ? stampedRevokedAt(result.outputs) : undefined;
  const revokedAt = stamped ?? r.revokedAt;
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

async function clearCutoff(
  ssm: SSMClient,
  config: ElevateConfig,
  c: CutoffClear,
  run: RunbookRun,
): Promise<ClearOutcome> {
  const parameters = { AutomationAssumeRole: config.aws.automationRoleArn, UserName: c.iamUser, RoleName: c.roleName };
  const result = await runRunbook(
    ssm,
    {
      documentName: CLEAR_CUTOFF_DOCUMENT,
      parameters,
      tokenParts: ["clear-cutoff", c.roleArn, c.iamUser, formatIamTime(c.revokedAt)],
      timeoutMs: run.timeoutMs,
    },
    run.now,
  );
  if (!result.succeeded) core.warning(`clearing ${c.policyName} on ${c.roleName} failed: ${result.message}`);
  return {
    ...c,
    status: result.succeeded ? "cleared" : "failed",
    message: result.message,
    ...(result.executionId ? { executionId: result.executionId } : {}),
  };
}

function runOf(ctx: ActionContext): NotificationRun {
  return { id: ctx.run.id, attempt: ctx.run.attempt, url: ctx.run.url };
}

/** Publishes `events` (never throws: a failed publish is a warning) and counts them in the report. */
async function publish(
  sns: SNSClient,
  config: ElevateConfig,
  events: readonly ElevateEvent[],
  report: RevokeReport,
): Promise<{ failed: string[] }> {
  const summary = await publishEvents(sns, config.aws.notifyTopicArn, events, (w) =>
    core.warning(w, { title: "Elevate: notification not sent" }),
  );
  report.notifications.published += summary.published.length;
  report.notifications.failed.push(...summary.failed);
  return summary;
}

/**
 * The notifications of a revoke run's actions (docs/notifications.md): "revoked"
 * for each grant removed early, "expired" for each expired grant deleted, and
 * "drift" for each drift finding, with what was done about it. Failed revokes are
 * not "revoked" (nothing was removed): they fail the run instead. Drift that is only
 * reported is published by every run that finds it, as the run fails each time.
 */
export function revokeEvents(
  report: Pick<RevokeReport, "outcomes" | "drift">,
  known: ReadonlyMap<string, KnownRequest> | undefined,
  base: { occurredAt: Date; repository: string; run: NotificationRun },
): ElevateEvent[] {
  const events: ElevateEvent[] = [];
  const common = (requestId: string | undefined) => {
    const k = requestId === undefined ? undefined : known?.get(requestId);
    return {
      occurredAt: base.occurredAt,
      repository: base.repository,
      run: base.run,
      // The schema's requestId pattern: drift on a name the runbook cannot take has none.
      ...(requestId !== undefined && REQUEST_ID.test(requestId) ? { requestId } : {}),
      ...(k?.file !== undefined ? { file: k.file } : {}),
      ...(k?.requester !== undefined ? { requester: k.requester } : {}),
      ...(k?.role !== undefined ? { role: k.role } : {}),
      ...(k?.breakGlass ? { breakGlass: true } : {}),
    };
  };
  for (const o of report.outcomes) {
    if (o.status !== "revoked" || o.reason === "drift") continue;
    const cut = o.cutOff
      ? `; sessions issued before ${formatIamTime(o.revokedAt)} cut off`
      : o.cutOffNote
        ? `; no session cut-off: ${o.cutOffNote}`
        : "";
    events.push({
      ...common(o.requestId),
      event: o.reason === "early" ? "revoked" : "expired",
      iamUser: o.iamUser,
      ...(o.roleArn !== undefined ? { roleArn: o.roleArn } : {}),
      ...(o.window ? { window: o.window } : {}),
      policyName: o.policyName,
      ...(o.executionId !== undefined ? { executionId: o.executionId } : {}),
      detail: `${o.why}${cut}`,
    });
  }
  for (const d of report.drift) {
    const outcome = report.outcomes.find((o) => o.policyName === d.policyName && o.iamUser === d.iamUser);
    const roleArn = d.roleArn ?? outcome?.roleArn;
    const done =
      outcome === undefined
        ? ""
        : outcome.status === "revoked"
          ? "; revoked"
          : outcome.status === "failed"
            ? `; the revoke failed: ${outcome.message}`
            : "";
    events.push({
      ...common(d.requestId),
      event: "drift",
      ...(d.iamUser !== undefined ? { iamUser: d.iamUser } : {}),
      ...(roleArn !== undefined && parseRoleArn(roleArn) ? { roleArn } : {}),
      ...(outcome?.window ? { window: outcome.window } : {}),
      policyName: d.policyName,
      drift: { kind: d.kind, action: d.action },
      ...(outcome?.executionId !== undefined ? { executionId: outcome.executionId } : {}),
      detail: `${d.message}${done}`,
    });
  }
  return events;
}

/**
 * The "requested" events of one open PR: one per added request file. A file that
 * validates (against the config on the default branch, with the PR author as the
 * requester) gives the whole request; one that does not gives what the path says and
 * a detail line, since the PR check already tells the author why. Text from the PR
 * only ever reaches the JSON message (escaped) and the subject (made safe by snsSubject).
 */
export function requestedEvents(input: {
  config: ElevateConfig;
  pr: Pick<PullRequestInfo, "number" | "htmlUrl" | "author">;
  files: readonly { path: string; text: string | undefined }[];
  now: Date;
  repository: string;
  run: NotificationRun;
}): ElevateEvent[] {
  const { config, pr, now } = input;
  const events: ElevateEvent[] = [];
  for (const f of input.files) {
    const parsed = parseRequestPath(f.path);
    if (!parsed.ok) continue;
    const base: ElevateEvent = {
      event: "requested",
      occurredAt: now,
      repository: input.repository,
      requestId: parsed.value.id,
      file: f.path,
      pr: { number: pr.number, url: pr.htmlUrl },
      run: input.run,
    };
    const checked =
      f.text === undefined
        ? undefined
        : validateRequest({ text: f.text, path: f.path, config, author: pr.author, now });
    const request = checked?.request;
    if (request) {
      events.push({
        ...base,
        requester: request.requester,
        iamUser: request.iamUser,
        role: request.role,
        roleArn: request.roleArn,
        ...(request.start
          ? { window: { notBefore: request.start, notAfter: new Date(request.start.getTime() + request.durationMs) } }
          : {}),
        reason: request.reason,
        ...(request.ticket ? { ticket: request.ticket } : {}),
        detail: `${request.requester} requests ${request.role} for ${request.duration}${request.start ? ` from ${formatIamTime(request.start)}` : " from the merge"}; ${request.approvals} code-owner approval(s) required`,
      });
    } else {
      const role = findRole(config, parsed.value.role);
      const user = findUser(config, pr.author);
      const errors = checked?.errors.length ?? 0;
      events.push({
        ...base,
        requester: pr.author,
        ...(user ? { iamUser: user.iamUser } : {}),
        role: parsed.value.role,
        ...(role ? { roleArn: role.arn } : {}),
        detail:
          f.text === undefined
            ? "the request file could not be read from the pull request"
            : `the request file does not validate (${errors} error(s)); the pull request's Elevate check lists them`,
      });
    }
  }
  return events;
}

/** The marker comment posted once a PR's "requested" notification is out. */
function requestedCommentBody(requestIds: readonly string[]): string {
  return [
    REQUESTED_MARKER,
    `Elevate announced this request (${requestIds.map(mdEscape).join(", ")}) to the notification topic, so approvers know it is waiting for review.`,
  ].join("\n");
}

/**
 * One pass over the open PRs into the default branch that add request files:
 *   - a PR whose every request's window (start + duration) has already closed can
 *     never be granted (grant refuses a closed window): it gets a comment and is closed;
 *   - on a scheduled run with a topic, a PR without the bot's marker comment gets its
 *     "requested" notification, then the marker (docs/notifications.md). The check job
 *     has no AWS access, so this is where "requested" is published.
 * Errors here are warnings: housekeeping never blocks revocation.
 */
async function reviewOpenRequests(
  ctx: ActionContext,
  config: ElevateConfig,
  sns: SNSClient,
  now: Date,
  report: RevokeReport,
): Promise<{ stale: StaleOutcome[]; requested: RequestedOutcome[] }> {
  const stale: StaleOutcome[] = [];
  const requested: RequestedOutcome[] = [];
  const announce = ctx.eventName === "schedule" && config.aws.notifyTopicArn !== undefined;
  let pulls: PullRequestInfo[];
  try {
    pulls = (await listOpenPullRequests(ctx.octokit, ctx.repo)).filter((p) => p.baseRef === ctx.defaultBranch);
  } catch (error) {
    core.warning(`could not list open pull requests to find stale requests: ${(error as Error).message}`);
    return { stale, requested };
  }
  for (const pr of pulls) {
    let added: { path: string; id: string; text: string | undefined }[];
    try {
      const files = await listPullRequestFiles(ctx.octokit, ctx.repo, pr.number);
      const paths = files.filter((f) => f.status === "added" && parseRequestPath(f.filename).ok);
      if (paths.length === 0) continue;
      // GitHub keeps refs/pull/N/head on the base repository, also for PRs from forks.
      const localRef = `refs/elevate/pull/${pr.number}`;
      await git(ctx.workspace, ["fetch", "--quiet", "--no-tags", "origin", `+refs/pull/${pr.number}/head:${localRef}`]);
      added = [];
      for (const f of paths) {
        const parsed = parseRequestPath(f.filename);
        if (!parsed.ok) continue;
        added.push({
          path: f.filename,
          id: parsed.value.id,
          text: await readFileAt(ctx.workspace, localRef, f.filename),
        });
      }
    } catch (error) {
      const message = `could not handle PR #${pr.number}: ${(error as Error).message}`;
      core.warning(message, { title: "Elevate: open request" });
      stale.push({ pr: pr.number, file: "", requestId: "", windowClosedAt: "", status: "failed", message });
      continue;
    }
    const closed = await closeIfStale(ctx, pr, added, now);
    stale.push(...closed);
    // A PR whose every request is stale is not announced: it is being closed (or failed to be).
    if (closed.length > 0 || !announce) continue;
    requested.push(...(await announceRequest(ctx, config, sns, pr, added, now, report)));
  }
  return { stale, requested };
}

/** Closes `pr` when every request it adds has a window that already closed. */
async function closeIfStale(
  ctx: ActionContext,
  pr: PullRequestInfo,
  added: readonly { path: string; id: string; text: string | undefined }[],
  now: Date,
): Promise<StaleOutcome[]> {
  const stale: { file: string; requestId: string; end: Date }[] = [];
  for (const f of added) {
    const end = staleRequestEnd(f.text === undefined ? undefined : readRequestFacts(f.text), now);
    if (end) stale.push({ file: f.path, requestId: f.id, end });
  }
  // Only when every request of the PR is stale: closing a PR also drops its live requests.
  if (stale.length === 0 || stale.length !== added.length) return [];
  const outcome = (s: (typeof stale)[number], status: StaleOutcome["status"], message: string): StaleOutcome => ({
    pr: pr.number,
    file: s.file,
    requestId: s.requestId,
    windowClosedAt: formatIamTime(s.end),
    status,
    message,
  });
  if (ctx.inputs.dryRun) return stale.map((s) => outcome(s, "planned", "dry run: would close"));
  try {
    const lines = stale.map((s) => `- ${mdEscape(s.file)}: the requested window closed at ${formatIamTime(s.end)}.`);
    const body = [
      "### Elevate: request window has passed",
      "",
      ...lines,
      "",
      "A request whose window has closed can no longer be granted, so this PR is being closed. Open a new request with a later `start` (or none) if the access is still needed.",
    ].join("\n");
    await createComment(ctx.octokit, ctx.repo, pr.number, body);
    await closePullRequest(ctx.octokit, ctx.repo, pr.number);
    return stale.map((s) => outcome(s, "closed", `PR #${pr.number} closed`));
  } catch (error) {
    const message = `could not close stale PR #${pr.number}: ${(error as Error).message}`;
    core.warning(message, { title: "Elevate: stale request" });
    return [{ pr: pr.number, file: "", requestId: "", windowClosedAt: "", status: "failed", message }];
  }
}

/**
 * Publishes the "requested" notification of `pr` once: skipped when the bot's marker
 * comment is there; the marker is written only after every message of the PR was
 * published, so a failed publish is retried by the next run (at least once delivery).
 */
async function announceRequest(
  ctx: ActionContext,
  config: ElevateConfig,
  sns: SNSClient,
  pr: PullRequestInfo,
  added: readonly { path: string; id: string; text: string | undefined }[],
  now: Date,
  report: RevokeReport,
): Promise<RequestedOutcome[]> {
  const requestIds = added.map((f) => f.id);
  try {
    if (await hasBotCommentWithMarker(ctx.octokit, ctx.repo, pr.number, REQUESTED_MARKER)) return [];
  } catch (error) {
    const message = `could not read the comments of PR #${pr.number}: ${(error as Error).message}; its "requested" notification waits for the next run`;
    core.warning(message, { title: "Elevate: notification not sent" });
    return [{ pr: pr.number, requestIds, status: "failed", message }];
  }
  if (ctx.inputs.dryRun) return [{ pr: pr.number, requestIds, status: "planned", message: "dry run: would notify" }];
  const events = requestedEvents({
    config,
    pr,
    files: added,
    now,
    repository: `${ctx.repo.owner}/${ctx.repo.repo}`,
    run: runOf(ctx),
  });
  const { failed } = await publish(sns, config, events, report);
  if (failed.length > 0) {
    return [
      {
        pr: pr.number,
        requestIds,
        status: "failed",
        message: `${failed.length} of ${events.length} "requested" message(s) not published; the next run retries`,
      },
    ];
  }
  try {
    await createComment(ctx.octokit, ctx.repo, pr.number, requestedCommentBody(requestIds));
  } catch (error) {
    const message = `published, but the marker comment on PR #${pr.number} failed (${(error as Error).message}); the next run publishes again`;
    core.warning(message, { title: "Elevate: notification marker" });
    return [{ pr: pr.number, requestIds, status: "unmarked", message }];
  }
  return [{ pr: pr.number, requestIds, status: "notified", message: `published ${events.length} message(s)` }];
}

/** Drift left in place (reported, not revoked). */
function driftLeft(report: RevokeReport): DriftFinding[] {
  return report.drift.filter((d) => d.action === "report");
}

/**
 * A run fails when a revoke or cut-off clear failed, when drift is left in place
 * (drift = report, or drift Elevate cannot remove itself: a person must look), or
 * when part of the check could not be done. Early-revoke ids with no policy left
 * are not failures: revoking is idempotent.
 */
export function revokeFailed(report: RevokeReport): boolean {
  return (
    report.outcomes.some((o) => o.status === "failed") ||
    report.clears.some((c) => c.status === "failed") ||
    driftLeft(report).length > 0 ||
    report.problems.length > 0
  );
}

export function headlineOf(report: RevokeReport): string {
  const failed = report.outcomes.filter((o) => o.status === "failed");
  const revoked = report.outcomes.filter((o) => o.status === "revoked" || o.status === "planned");
  const parts: string[] = [];
  if (failed.length > 0)
    parts.push(`${failed.length} revoke(s) failed: ${failed.map((o) => `${o.requestId} (${o.message})`).join("; ")}`);
  const clearFailed = report.clears.filter((c) => c.status === "failed");
  if (clearFailed.length > 0) parts.push(`${clearFailed.length} cut-off clear(s) failed`);
  const left = driftLeft(report);
  if (left.length > 0)
    parts.push(
      `${left.length} drifting polic${left.length === 1 ? "y" : "ies"} left in place: ${left.map((d) => d.policyName).join(", ")}`,
    );
  parts.push(...report.problems);
  const verb = report.dryRun ? "would revoke" : "revoked";
  const kept = report.plan?.keep.length ?? 0;
  parts.push(`${verb} ${revoked.length}, kept ${kept}, ${report.drift.length} drift finding(s)`);
  return parts.join("; ");
}

export function revokeSummaryMarkdown(report: RevokeReport, now: Date): string {
  const lines: string[] = ["### Elevate revoke", "", mdEscape(report.headline), ""];
  if (report.outcomes.length > 0) {
    lines.push(
      "| request | user | role | reason | result | session cut-off | execution |",
      "|---|---|---|---|---|---|---|",
    );
    for (const o of report.outcomes) {
      const cut = o.cutOff ? `before ${formatIamTime(o.revokedAt)}` : `none: ${o.cutOffNote ?? ""}`;
      lines.push(
        `| ${mdEscape(o.requestId)} | ${mdEscape(o.iamUser)} | ${mdEscape(o.roleArn ?? "?")} | ${mdEscape(`${o.reason}: ${o.why}`)} | ${mdEscape(o.status === "failed" ? `failed: ${o.message}` : o.status)} | ${mdEscape(cut)} | ${mdEscape(o.executionId ?? "")} |`,
      );
    }
    lines.push("");
  }
  const keep = report.plan?.keep ?? [];
  if (keep.length > 0) {
    lines.push("| kept | user | role | window | remaining |", "|---|---|---|---|---|");
    for (const k of keep) {
      const remaining =
        k.state === "pending"
          ? `starts in ${humanDuration(k.window.notBefore.getTime() - now.getTime())}`
          : humanDuration(k.remainingMs);
      lines.push(
        `| ${mdEscape(k.requestId)}${k.drift ? " (drift)" : ""} | ${mdEscape(k.iamUser)} | ${mdEscape(k.roleArn)} | ${formatIamTime(k.window.notBefore)} – ${formatIamTime(k.window.notAfter)} | ${mdEscape(remaining)} |`,
      );
    }
    lines.push("");
  }
  if (report.clears.length > 0) {
    lines.push("| cut-off cleared | role | result |", "|---|---|---|");
    for (const c of report.clears)
      lines.push(`| ${mdEscape(c.policyName)} | ${mdEscape(c.roleName)} | ${mdEscape(`${c.status}: ${c.why}`)} |`);
    lines.push("");
  }
  if (report.drift.length > 0) {
    lines.push("| drift | policy | where | action | details |", "|---|---|---|---|---|");
    for (const d of report.drift) {
      lines.push(
        `| ${d.kind} | ${mdEscape(d.policyName)} | ${mdEscape(d.iamUser ?? d.roleArn ?? "")} | ${d.action} | ${mdEscape(d.message)} |`,
      );
    }
    lines.push("");
  }
  for (const id of report.notFound)
    lines.push(`- ${mdEscape(id)}: no grant policy in IAM (already revoked or never granted).`);
  for (const s of report.stale) {
    lines.push(
      s.status === "failed"
        ? `- ${mdEscape(s.message)}`
        : `- PR #${s.pr} (${mdEscape(s.file)}): window closed at ${s.windowClosedAt}; ${s.status}.`,
    );
  }
  for (const r of report.requested) {
    lines.push(
      `- PR #${r.pr} (${mdEscape(r.requestIds.join(", "))}): "requested" notification ${r.status}: ${mdEscape(r.message)}`,
    );
  }
  for (const f of report.notifications.failed) lines.push(`- notification not sent: ${mdEscape(f)}`);
  return lines.join("\n");
}

async function writeReport(report: RevokeReport, now: Date): Promise<void> {
  const ids = (status: RevokeStatus) => report.outcomes.filter((o) => o.status === status).map((o) => o.requestId);
  core.setOutput("request-ids", JSON.stringify(report.outcomes.map((o) => o.requestId)));
  core.setOutput("revoked", JSON.stringify(ids("revoked")));
  core.setOutput("drift", JSON.stringify([...new Set(report.drift.map((d) => d.requestId ?? d.policyName))]));
  core.setOutput(
    "execution-ids",
    JSON.stringify([...report.clears, ...report.outcomes].flatMap((o) => (o.executionId ? [o.executionId] : []))),
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
