import * as core from "@actions/core";
import type { SNSClient } from "@aws-sdk/client-sns";
import type { SSMClient } from "@aws-sdk/client-ssm";
import {
  type AutomationResult,
  automationClientToken,
  createClients,
  openRoleSession,
  type RoleSession,
  readDocumentContent,
  sessionSecondsFor,
  startAutomationPastEarlierFailures,
  waitForAutomation,
} from "../adapters/aws.js";
import {
  appendNote,
  blobIdAt,
  type ChangedFile,
  changedFiles,
  commitExists,
  ensureCommit,
  fetchBranchTip,
  fetchNotes,
  git,
  isAncestor,
  pushNotes,
  readBytesAt,
  ZERO_SHA,
} from "../adapters/git.js";
import { createComment, listPullRequestsForCommit, listReviews, type PullRequestInfo } from "../adapters/github.js";
import { capReportLines } from "../domain/approver-cap.js";
import { type CeilingRead, ceilingFromDocument, ceilingRefusal } from "../domain/ceiling.js";
import { type ElevateConfig, findRole } from "../domain/config.js";
import { gateApproverProblem, waitingCommentLine } from "../domain/dual-control.js";
import type { LocatedError } from "../domain/errors.js";
import {
  cliProfileSnippet,
  evidenceLine,
  type GrantEvidence,
  humanDuration,
  switchRoleUrl,
} from "../domain/grant-report.js";
import { mdEscape } from "../domain/markdown.js";
import type { ElevateEvent } from "../domain/notifications.js";
import { buildGrantPlan, type GrantPlan } from "../domain/plan.js";
import { validateRequest } from "../domain/request.js";
import {
  isUnderRequests,
  looksLikeRequestFile,
  REQUESTS_DIR,
  requestIdOf as requestPathId,
} from "../domain/request-path.js";
import { annotate, loadActionConfig } from "./action-config.js";
import type { ActionContext } from "./action-context.js";
import { startApprovalGate } from "./dual-control.js";
import { publishEvents } from "./notify.js";
import {
  approvalShortfall,
  approverCaps,
  checkApprovals,
  codeownersProblem,
  loadCodeownersAt,
  ownersFor,
} from "./pr-review.js";

export interface GrantOutcome {
  file: string;
  requestId: string;
  /** "waiting": an AWS-side approval gate was started (roles with awsApproval); the revoke run finishes it. */
  status: "granted" | "refused" | "failed" | "planned" | "waiting";
  message: string;
  plan?: GrantPlan;
  executionId?: string;
  evidence?: GrantEvidence;
}

export interface GrantReport {
  outcomes: GrantOutcome[];
  /**
   * Request files changed in ways that grant nothing (edited, renamed); each
   * is also a "refused" outcome, so the run fails and the PR is told.
   */
  ignored: { file: string; why: string }[];
  pr?: PullRequestInfo;
  /** The config the run used, for reporting. */
  loadedConfig?: ElevateConfig;
  /** Approver-cap report lines per request id (who shortened the window, caps ignored and why). */
  capLines: Record<string, string[]>;
}

/** requests/<role>/<id>.yaml → <role>. */
function roleKeyOf(path: string): string {
  return path.split("/")[1] ?? "";
}

function requestIdOf(path: string): string {
  return requestPathId(path) ?? path;
}

/** The commits of the push, checked to be present in the checkout. */
async function pushRange(ctx: ActionContext): Promise<{ before: string; after: string }> {
  const after = String(ctx.payload.after ?? ctx.sha);
  const before = String(ctx.payload.before ?? "");
  if (!/^[0-9a-f]{40}$/.test(after)) throw new Error(`the push event has no valid 'after' commit`);
  if (!/^[0-9a-f]{40}$/.test(before) || before === ZERO_SHA) {
    throw new Error(
      "the push has no 'before' commit (a new branch?); Elevate grants only for merges into an existing default branch",
    );
  }
  const present = await Promise.all([before, after].map((sha) => commitExists(ctx.workspace, sha)));
  const missing = [before, after].find((_sha, i) => !present[i]);
  if (missing) {
    throw new Error(
      `commit ${missing.slice(0, 12)} is not in the checkout; check out with 'fetch-depth: 0' so the pushed range can be inspected`,
    );
  }
  return { before, after };
}

/** Every request file in the tree at `rev`. */
async function requestFilesAt(cwd: string, rev: string): Promise<string[]> {
  const out = await git(cwd, ["ls-tree", "-r", "--name-only", "-z", rev, "--", REQUESTS_DIR]);
  return out.split("\0").filter((p) => looksLikeRequestFile(p));
}

/** The merged PR whose merge produced `after`; undefined for a direct push. */
async function findMergedPullRequest(ctx: ActionContext, after: string): Promise<PullRequestInfo | undefined> {
  const pulls = await listPullRequestsForCommit(ctx.octokit, ctx.repo, after);
  return pulls.find((p) => p.merged && p.mergeCommitSha === after && p.baseRef === ctx.defaultBranch);
}

export async function runGrant(ctx: ActionContext): Promise<GrantReport> {
  if (ctx.eventName !== "push") {
    throw new Error(`grant mode runs on 'push' to ${ctx.defaultBranch}; this run was triggered by '${ctx.eventName}'`);
  }
  if (ctx.ref !== `refs/heads/${ctx.defaultBranch}`) {
    throw new Error(`grant mode runs only for pushes to ${ctx.defaultBranch}; this push is to ${ctx.ref}`);
  }
  const config = await loadActionConfig(ctx, "nothing was granted");
  const { before, after } = await pushRange(ctx);
  // Every path the push changed, from git: the authority for "a request PR
  // changes only requests/", whatever the PR's size (the PR files API lists at
  // most 3,000 files).
  const pushed = await changedFiles(ctx.workspace, before, after);
  const changes = pushed.filter(
    (c) => isUnderRequests(c.path) || (c.oldPath !== undefined && isUnderRequests(c.oldPath)),
  );
  const report: GrantReport = { outcomes: [], ignored: [], loadedConfig: config, capLines: {} };
  const added: ChangedFile[] = [];
  const changedAfterMerge: { file: string; why: string }[] = [];
  for (const c of changes) {
    if (c.status === "A" && looksLikeRequestFile(c.path)) added.push(c);
    else if (c.status === "D")
      continue; // deletions are the revoke workflow's
    else if (looksLikeRequestFile(c.path) || (c.oldPath && looksLikeRequestFile(c.oldPath))) {
      changedAfterMerge.push({
        file: c.path,
        why:
          c.status === "R"
            ? `${c.path} was renamed from ${c.oldPath}: a rename grants nothing; add a new request instead`
            : `${c.path} is an existing request that was edited: edits grant nothing (an approved request must not change after the fact); add a new request instead`,
      });
    }
  }
  if (added.length === 0 && changedAfterMerge.length === 0) {
    core.info("No request files were added by this push; nothing to grant.");
    return report;
  }

  const now = ctx.now();
  const pr = await findMergedPullRequest(ctx, after);
  if (pr) report.pr = pr;
  // An edited or renamed request grants nothing (docs/request-file.md). It is
  // a refusal, not a note: the run fails and the PR is told, because such a merge
  // usually means someone tried to change an approved request (a longer
  // duration, another role) without a fresh approval.
  // No evidence note for these: the notes on a merge describe the requests it
  // added, and the audit log attributes evidence to a request file's history.
  for (const { file, why } of changedAfterMerge) {
    report.ignored.push({ file, why });
    core.error(why, { file, title: "Elevate: request changed after approval" });
    report.outcomes.push({ file, requestId: requestIdOf(file), status: "refused", message: why });
  }
  if (added.length === 0) return report;
  const refuseAll = (why: string) => {
    for (const c of added) {
      report.outcomes.push({ file: c.path, requestId: requestIdOf(c.path), status: "refused", message: why });
      core.error(why, { file: c.path, title: "Elevate: not granted" });
    }
    return report;
  };
  if (!pr) {
    return refuseAll(
      `commit ${after.slice(0, 12)} is not the merge of a pull request into ${ctx.defaultBranch} (a direct push?); requests are granted only through an approved PR`,
    );
  }
  // The grant role's credentials are fetched while the PR is verified (the
  // grant-start budget is 300 ms). Fetching them grants nothing: they are used
  // only after every check below has passed, and refusals reuse them to notify.
  const credentials = ctx.inputs.dryRun ? undefined : grantRoleCredentials(ctx, config);
  // The stack's ceiling is read as soon as the credentials arrive, also while the
  // PR is verified, so checking against it adds no wait before the first start.
  const ceiling = credentials?.then((c) => (typeof c === "string" ? undefined : readGrantCeiling(config, c)));
  // Independent reads, fetched together; nothing acts on them before every check has passed.
  const [linear, codeowners, reviews, requestFilesAfter, tip, headPresent] = await Promise.all([
    isAncestor(ctx.workspace, before, after),
    loadCodeownersAt(ctx.workspace, before),
    listReviews(ctx.octokit, ctx.repo, pr.number),
    requestFilesAt(ctx.workspace, after),
    fetchBranchTip(ctx.workspace, ctx.defaultBranch).then(
      (sha) => ({ sha }),
      (error: unknown) => ({ error: (error as Error).message }),
    ),
    ensureCommit(ctx.workspace, pr.headSha),
  ]);
  // A merge, a squash and a rebase all land on top of the branch as it was
  // (`before`), so the push's diff is exactly what the PR brought in. A push
  // that is not a descendant of `before` (a force push) has no such diff.
  if (!linear) {
    return refuseAll(
      `commit ${after.slice(0, 12)} does not descend from ${before.slice(0, 12)} (a force push?), so git cannot tell which files PR #${pr.number} changed; nothing is granted`,
    );
  }
  const outside = pushed.filter((c) => !isUnderRequests(c.path) || (c.oldPath && !isUnderRequests(c.oldPath)));
  if (outside.length > 0) {
    return refuseAll(
      `PR #${pr.number} also changes files outside requests/ (${outside
        .slice(0, 3)
        .map((c) => c.path)
        .join(
          ", ",
        )}${outside.length > 3 ? `, and ${outside.length - 3} more` : ""}); a request PR may change only requests/`,
    );
  }
  if ("error" in tip) {
    return refuseAll(
      `could not read the current tip of ${ctx.defaultBranch} from origin (${tip.error}); a request is granted only while its file is still on ${ctx.defaultBranch}, so nothing is granted. Re-run the workflow`,
    );
  }
  if (!(await isAncestor(ctx.workspace, after, tip.sha))) {
    return refuseAll(
      `the merge ${after.slice(0, 12)} is no longer on ${ctx.defaultBranch} (its tip ${tip.sha.slice(0, 12)} does not contain it; history rewritten?); nothing is granted`,
    );
  }
  if (!headPresent) {
    return refuseAll(
      `the head commit ${pr.headSha.slice(0, 12)} of PR #${pr.number} is not in the checkout and could not be fetched, so git cannot tell whether the merged files are the approved ones; nothing is granted`,
    );
  }
  const ownersProblem = codeownersProblem(codeowners, ctx.defaultBranch);
  if (ownersProblem) return refuseAll(ownersProblem);
  const mergedAt = new Date(pr.mergedAt ?? now.toISOString());

  const toGrant: { change: ChangedFile; plan: GrantPlan; evidence: GrantEvidence }[] = [];
  for (const change of added) {
    const file = change.path;
    const requestId = requestIdOf(file);
    const refuse = (message: string, errors: readonly LocatedError[] = []) => {
      annotate(errors);
      if (errors.length === 0) core.error(message, { file, title: "Elevate: not granted" });
      const evidence = baseEvidence(ctx, { file, requestId, requester: pr.author, pr, mergeSha: after, now });
      evidence.event = "refused";
      evidence.refusal = message;
      report.outcomes.push({ file, requestId, status: "refused", message, evidence });
    };
    // What was approved is the file at the PR head; what is granted must be
    // exactly that, and still on the default branch now: a queued grant job
    // must not grant a request whose file was deleted (revoked) or changed since.
    const [atMerge, atHead, atTip] = await Promise.all(
      [after, pr.headSha, tip.sha].map((rev) => blobIdAt(ctx.workspace, rev, file)),
    );
    if (atMerge === undefined || atHead !== atMerge) {
      refuse(
        `${file} in the merge ${after.slice(0, 12)} is not the file PR #${pr.number} added at its head ${pr.headSha.slice(0, 12)}; only the approved file is granted`,
      );
      continue;
    }
    if (atTip === undefined) {
      refuse(
        `${file} was deleted from ${ctx.defaultBranch} (tip ${tip.sha.slice(0, 12)}) before this grant job ran; a deleted request is revoked, never granted`,
      );
      continue;
    }
    if (atTip !== atMerge) {
      refuse(
        `${file} was changed on ${ctx.defaultBranch} (tip ${tip.sha.slice(0, 12)}) after the merge and before this grant job ran; only the file as approved and still on ${ctx.defaultBranch} is granted`,
      );
      continue;
    }
    // Ids are unique across requests/ (docs/request-file.md): the policy is elevate-<id>, so
    // a second file with the same id would replace the first one's grant.
    const sameId = requestFilesAfter.filter((p) => p !== file && requestIdOf(p) === requestId);
    if (sameId.length > 0) {
      refuse(
        `request id ${requestId} is already used by ${sameId.join(", ")}; ids must be unique across requests/ (the grant policy is named elevate-<id>), so pick another file name`,
      );
      continue;
    }
    const text = await readBytesAt(ctx.workspace, after, file);
    if (text === undefined) {
      refuse(`${file} is not in the merge commit`);
      continue;
    }
    const validated = validateRequest({ text, path: file, config, author: pr.author, now });
    if (!validated.request) {
      refuse(`${file} is not a valid request (${validated.errors.length} error(s))`, validated.errors);
      continue;
    }
    const request = validated.request;
    const { owners } = ownersFor(codeowners, file);
    if (owners.length === 0) {
      refuse(
        `${file} has no code owners on ${ctx.defaultBranch}${codeowners ? ` (${codeowners.path})` : " (no CODEOWNERS file)"}; nobody can approve it`,
      );
      continue;
    }
    const approval = await checkApprovals({
      owners,
      reviews,
      prAuthor: pr.author,
      headSha: pr.headSha,
      required: request.approvals,
      membersOctokit: ctx.membersOctokit,
      octokit: ctx.octokit,
      repo: ctx.repo,
    });
    if (!approval.satisfied) {
      refuse(approvalShortfall(approval, owners, pr.headSha));
      continue;
    }
    const uncapped = buildGrantPlan(request, config, mergedAt);
    if (!uncapped.ok) {
      refuse(uncapped.message);
      continue;
    }
    const awsApproval = findRole(config, roleKeyOf(file))?.awsApproval;
    const gateProblem = awsApproval && gateApproverProblem(awsApproval, roleKeyOf(file), uncapped.plan.iamUser);
    if (gateProblem) {
      refuse(gateProblem);
      continue;
    }
    // Approver-set window: the shortest cap among counted approvals; never longer.
    const caps = approverCaps(uncapped.plan, approval, reviews);
    if (caps.refusal) {
      refuse(caps.refusal);
      continue;
    }
    const planned = caps.cappedBy
      ? buildGrantPlan(request, config, mergedAt, { capNotAfter: caps.window.notAfter })
      : uncapped;
    if (!planned.ok) {
      refuse(planned.message);
      continue;
    }
    const plan = planned.plan;
    for (const line of capReportLines(caps)) core.info(`${requestId}: ${line.replace(/^- /, "")}`);
    if (new Date(plan.notAfter).getTime() <= now.getTime()) {
      refuse(`the window ${plan.notBefore} – ${plan.notAfter} has already closed; nothing was granted`);
      continue;
    }
    const evidence = baseEvidence(ctx, { file, requestId, requester: request.requester, pr, mergeSha: after, now });
    evidence.iamUser = plan.iamUser;
    evidence.roleArn = plan.roleArn;
    evidence.reason = request.reason;
    if (request.ticket) evidence.ticket = request.ticket;
    evidence.approvals = approval.counted.map((a) => ({
      login: a.login,
      reviewId: a.reviewId,
      commitId: a.commitId,
      ...(a.submittedAt ? { submittedAt: a.submittedAt } : {}),
    }));
    evidence.window = { notBefore: plan.notBefore, notAfter: plan.notAfter };
    if (caps.cappedBy) {
      evidence.cappedBy = { login: caps.cappedBy.login, reviewId: caps.cappedBy.reviewId, cap: caps.cappedBy.cap };
    }
    toGrant.push({ change, plan, evidence });
    const capLines = capReportLines(caps);
    if (capLines.length > 0) report.capLines[requestId] = capLines;
  }

  if (toGrant.length > 0 && ctx.inputs.dryRun) {
    for (const g of toGrant) {
      report.outcomes.push({
        file: g.change.path,
        requestId: g.plan.requestId,
        status: "planned",
        message: "dry run: would grant",
        plan: g.plan,
      });
    }
  } else {
    const granted = toGrant.length > 0 ? await grantAll(ctx, config, toGrant, after, report, credentials, ceiling) : {};
    await notify(ctx, config, report, granted.sns, credentials);
  }
  await recordEvidence(ctx, after, report);
  return report;
}

function baseEvidence(
  ctx: ActionContext,
  input: { file: string; requestId: string; requester: string; pr: PullRequestInfo; mergeSha: string; now: Date },
): GrantEvidence {
  return {
    schema: "elevate.grant/v1",
    event: "granted",
    requestId: input.requestId,
    file: input.file,
    requester: input.requester,
    pr: {
      number: input.pr.number,
      url: input.pr.htmlUrl,
      author: input.pr.author,
      headSha: input.pr.headSha,
      ...(input.pr.mergedAt ? { mergedAt: input.pr.mergedAt } : {}),
    },
    mergeSha: input.mergeSha,
    approvals: [],
    run: ctx.run,
    recordedAt: input.now.toISOString(),
  };
}

/**
 * The grant ceiling of the deployed stack (src/domain/ceiling.ts), read from the
 * grant runbook with ssm:GetDocument. Never throws: when it cannot be read the
 * run says why and goes on, because the runbook enforces the ceiling anyway.
 */
export async function readGrantCeiling(config: ElevateConfig, credentials: RoleSession): Promise<CeilingRead> {
  const { ssm } = createClients(config.aws.region, credentials);
  try {
    return ceilingFromDocument(await readDocumentContent(ssm, config.aws.grantDocument));
  } catch (error) {
    return {
      ok: false,
      message: `could not read ${config.aws.grantDocument} (${describeAwsError(error)}); the grant role needs ssm:GetDocument on it (infra/template.yaml)`,
    };
  } finally {
    ssm.destroy();
  }
}

/**
 * AWS calls before the first runbook starts: AssumeRoleWithWebIdentity, then
 * one StartAutomationExecution per request (issue budget: at most 3). The
 * ceiling's GetDocument runs beside the PR verification (see runGrant).
 */
export async function grantAll(
  ctx: Pick<ActionContext, "getIdToken" | "run" | "inputs" | "now">,
  config: ElevateConfig,
  toGrant: { change: ChangedFile; plan: GrantPlan; evidence: GrantEvidence }[],
  mergeSha: string,
  report: GrantReport,
  /** Credentials already being fetched (runGrant starts this early); else fetched here. */
  pending?: Promise<RoleSession | string>,
  /** The stack's ceiling, being read (runGrant starts this early); else read here. */
  pendingCeiling?: Promise<CeilingRead | undefined>,
): Promise<{ sns?: SNSClient }> {
  /**
   * A request that was planned but not granted: evidence, annotation and outcome say why.
   * `refused` is a request the stack's ceiling does not allow; `failed`, anything else.
   */
  const fail = (
    g: (typeof toGrant)[number],
    why: string,
    executionId?: string,
    status: "failed" | "refused" = "failed",
  ) => {
    g.evidence.event = "refused";
    g.evidence.refusal = why;
    const title = status === "refused" ? "Elevate: not allowed by the AWS stack" : "Elevate: grant failed";
    core.error(`${g.plan.requestId}: ${why}`, { file: g.change.path, title });
    report.outcomes.push({
      file: g.change.path,
      requestId: g.plan.requestId,
      status,
      message: why,
      plan: g.plan,
      ...(executionId ? { executionId } : {}),
      evidence: g.evidence,
    });
  };
  const credentials = await (pending ?? grantRoleCredentials(ctx, config));
  if (typeof credentials === "string") {
    // No AWS access, nothing started: every request fails with the same, clear reason.
    for (const g of toGrant) fail(g, credentials);
    return {};
  }
  const { ssm, sns } = createClients(config.aws.region, credentials);
  // The stack's ceiling: a grant it would refuse is refused here, naming the stack
  // parameter to update, instead of starting a runbook that fails.
  const ceiling = await (pendingCeiling ?? readGrantCeiling(config, credentials));
  if (ceiling && !ceiling.ok) {
    core.warning(`the stack's grant ceiling could not be checked before starting: ${ceiling.message}`);
  }
  const withinCeiling: typeof toGrant = [];
  for (const g of toGrant) {
    const why = ceiling?.ok ? ceilingRefusal(ceiling.ceiling, g.plan, roleKeyOf(g.change.path)) : undefined;
    if (why) fail(g, why, undefined, "refused");
    else withinCeiling.push(g);
  }
  const started = await Promise.all(
    withinCeiling.map(async (g) => {
      // Dual control: a role with awsApproval starts the approval gate instead
      // and returns at once; the scheduled revoke run grants once approved.
      const awsApproval = findRole(config, roleKeyOf(g.change.path))?.awsApproval;
      if (awsApproval) {
        try {
          const gate = await startApprovalGate(ssm, config, {
            plan: g.plan,
            approval: awsApproval,
            prNumber: g.evidence.pr?.number ?? 0,
            mergeSha,
          });
          core.info(`${g.plan.requestId}: started AWS-side approval gate ${gate.executionId}`);
          return { g, gate, awsApproval };
        } catch (error) {
          return { g, error: describeAwsError(error) };
        }
      }
      const parameters = grantRunbookParameters(config, g.plan);
      try {
        const executionId = await startGrantExecution(ssm, {
          documentName: config.aws.grantDocument,
          parameters,
          requestId: g.plan.requestId,
          mergeSha,
          calledAt: ctx.now().getTime(),
        });
        core.info(`${g.plan.requestId}: started ${config.aws.grantDocument} execution ${executionId}`);
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
    if ("gate" in r && r.gate && r.awsApproval) {
      g.evidence.event = "awaiting-aws-approval";
      g.evidence.execution = { id: r.gate.executionId, status: "Waiting" };
      report.outcomes.push({
        file: g.change.path,
        requestId: g.plan.requestId,
        status: "waiting",
        message: waitingCommentLine({
          requestId: g.plan.requestId,
          iamUser: g.plan.iamUser,
          gateExecutionId: r.gate.executionId,
          approval: r.awsApproval,
          topicArn: r.gate.topicArn,
        }),
        plan: g.plan,
        executionId: r.gate.executionId,
        evidence: g.evidence,
      });
      continue;
    }
    if ("result" in r && r.result) {
      const res: AutomationResult = r.result;
      g.evidence.execution = { id: res.executionId, status: res.status };
      if (res.succeeded) {
        report.outcomes.push({
          file: g.change.path,
          requestId: g.plan.requestId,
          status: "granted",
          message: `granted ${g.plan.roleArn} to ${g.plan.iamUser} from ${g.plan.notBefore} until ${g.plan.notAfter}`,
          plan: g.plan,
          executionId: res.executionId,
          evidence: g.evidence,
        });
      } else {
        const budgetFull = /LimitExceeded/.test(res.failureMessage ?? "");
        const why = `automation ${res.executionId} ended ${res.status}${res.failureMessage ? `: ${res.failureMessage}` : ""}${
          budgetFull
            ? `. ${g.plan.iamUser}'s inline policies would exceed IAM's 2,048-character budget, so nothing was attached; revoke or wait out one of their other grants, then re-run this workflow`
            : ""
        }`;
        fail(g, why, res.executionId);
      }
    } else {
      fail(g, `could not start the grant runbook: ${"error" in r ? r.error : "unknown error"}`);
    }
  }
  return { sns };
}

/**
 * The grant role's credentials from the job's OIDC token, or why there are none.
 * A refusal by STS is expected for a token from anywhere but the grant workflow
 * on the default branch (infra/template.yaml pins the trust policy's `sub` and
 * `job_workflow_ref`), so the message says that rather than only the AWS error.
 */
async function grantRoleCredentials(
  ctx: Pick<ActionContext, "getIdToken" | "run" | "inputs">,
  config: ElevateConfig,
): Promise<RoleSession | string> {
  let token: string;
  try {
    token = await ctx.getIdToken("sts.amazonaws.com");
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

/**
 * The Elevate-Grant runbook's parameters: all of them come from the config or
 * from validated request fields, and the runbook's allowedPattern on each
 * checks them again inside AWS (invariant 5).
 */
export function grantRunbookParameters(config: ElevateConfig, plan: GrantPlan): Record<string, string> {
  return {
    AutomationAssumeRole: config.aws.automationRoleArn,
    RequestId: plan.requestId,
    UserName: plan.iamUser,
    RoleArn: plan.roleArn,
    NotBefore: plan.notBefore,
    NotAfter: plan.notAfter,
  };
}

export function describeAwsError(error: unknown): string {
  const e = error as { name?: string; message?: string; Code?: string };
  const name = e?.name ?? e?.Code ?? "Error";
  const message = e?.message ?? String(error);
  switch (name) {
    case "IdempotentParameterMismatch":
      return `${name}: an execution for this request and merge was already started with different parameters; investigate before re-running (${message})`;
    case "AutomationExecutionLimitExceededException":
      return `${name}: too many automations are running in the account; re-run the workflow later (${message})`;
    case "AccessDeniedException":
    case "AccessDenied":
      return `${name}: the grant role may not start the runbook; check the stack's GrantRole policy and the config's grantDocument (${message})`;
    default:
      return `${name}: ${message}`;
  }
}

/** Evidence note on the merge commit; a failure here is reported, never undoes a grant. */
async function recordEvidence(ctx: ActionContext, mergeSha: string, report: GrantReport): Promise<void> {
  const lines = report.outcomes.flatMap((o) => (o.evidence ? [evidenceLine(o.evidence)] : []));
  if (lines.length === 0) return;
  try {
    await fetchNotes(ctx.workspace);
    await appendNote(ctx.workspace, mergeSha, `${lines.join("\n")}\n`);
    await pushNotes(ctx.workspace);
  } catch (error) {
    core.warning(
      `could not write the evidence note on ${mergeSha.slice(0, 12)} (refs/notes/elevate): ${(error as Error).message}. The grant stands; the evidence is in this run's summary.`,
    );
  }
}

/**
 * One SNS message per grant outcome when the config names a topic. A failed
 * publish is a warning: notifications never undo or block a grant.
 */
async function notify(
  ctx: ActionContext,
  config: ElevateConfig,
  report: GrantReport,
  grantSns: SNSClient | undefined,
  pending: Promise<RoleSession | string> | undefined,
): Promise<void> {
  const topicArn = config.aws.notifyTopicArn;
  const outcomes = report.outcomes.filter(
    (o) => o.status === "granted" || o.status === "refused" || o.status === "failed",
  );
  if (!topicArn || outcomes.length === 0) return;
  let sns = grantSns;
  if (!sns) {
    // Everything was refused before AWS was needed; security teams still want to hear of it.
    const credentials = await (pending ?? grantRoleCredentials(ctx, config));
    if (typeof credentials === "string") {
      core.warning(`refusals were not published to ${topicArn}: ${credentials}`);
      return;
    }
    sns = createClients(config.aws.region, credentials).sns;
  }
  const events: ElevateEvent[] = outcomes.map((o) => ({
    event: o.status === "granted" ? "granted" : "refused",
    occurredAt: ctx.now(),
    repository: `${ctx.repo.owner}/${ctx.repo.repo}`,
    requestId: o.requestId,
    file: o.file,
    ...(o.evidence?.requester ? { requester: o.evidence.requester } : {}),
    ...(o.plan ? { iamUser: o.plan.iamUser, roleArn: o.plan.roleArn } : {}),
    role: roleKeyOf(o.file),
    ...(o.plan && o.status === "granted"
      ? { window: { notBefore: new Date(o.plan.notBefore), notAfter: new Date(o.plan.notAfter) } }
      : {}),
    ...(o.evidence?.reason ? { reason: o.evidence.reason } : {}),
    ...(o.evidence?.ticket ? { ticket: o.evidence.ticket } : {}),
    ...(report.pr ? { pr: { number: report.pr.number, url: report.pr.htmlUrl } } : {}),
    ...(o.evidence?.approvals.length
      ? { approvals: o.evidence.approvals.map((a) => ({ login: a.login, reviewId: a.reviewId })) }
      : {}),
    ...(o.evidence?.cappedBy ? { cappedBy: o.evidence.cappedBy } : {}),
    ...(o.executionId ? { executionId: o.executionId } : {}),
    ...(o.status !== "granted" ? { detail: o.message } : {}),
    run: ctx.run,
  }));
  // A failure to notify is a warning: it never undoes or blocks a grant.
  await publishEvents(sns, topicArn, events, (message) => core.warning(message));
}

export function grantCommentBody(report: GrantReport, config: ElevateConfig): string {
  const lines: string[] = ["### Elevate grant", ""];
  for (const o of report.outcomes) {
    if (o.status === "granted" && o.plan) {
      const ms = new Date(o.plan.notAfter).getTime() - new Date(o.plan.notBefore).getTime();
      const url = switchRoleUrl(o.plan.roleArn, `elevate-${o.requestId}`);
      lines.push(
        `**${o.requestId}**: granted. \`${o.plan.iamUser}\` may assume \`${o.plan.roleArn}\` from **${o.plan.notBefore}** until **${o.plan.notAfter}** (${humanDuration(ms)}).`,
        "",
        url ? `- Console: [switch role](${url}) (signed in as IAM user \`${o.plan.iamUser}\`)` : "",
        `- Execution: \`${o.executionId ?? ""}\``,
        ...(report.capLines[o.requestId] ?? []),
        "- CLI profile (`~/.aws/config`); the session name must be your IAM user name:",
        "",
        "```ini",
        cliProfileSnippet({
          profile: `elevate-${o.requestId}`,
          roleArn: o.plan.roleArn,
          iamUser: o.plan.iamUser,
          region: config.aws.region,
        }),
        "```",
        "",
      );
    } else if (o.status === "waiting") {
      lines.push(o.message, "");
    } else {
      // Refusals quote file names and request values: escaped, never Markdown.
      lines.push(`**${mdEscape(o.requestId)}**: ${o.status}. ${mdEscape(o.message)}`, "");
    }
  }
  // Changed (edited, renamed) requests are outcomes too; list only those that are not.
  for (const i of report.ignored) {
    if (!report.outcomes.some((o) => o.file === i.file)) lines.push(`${mdEscape(i.file)}: ${mdEscape(i.why)}`, "");
  }
  return lines.filter((l, idx, all) => !(l === "" && all[idx - 1] === "")).join("\n");
}

/** Reports a finished grant run: outputs, job summary and the PR comment. */
export async function reportGrant(ctx: ActionContext, config: ElevateConfig, report: GrantReport): Promise<void> {
  const ids = (s: GrantOutcome["status"]) => report.outcomes.filter((o) => o.status === s).map((o) => o.requestId);
  core.setOutput("request-ids", JSON.stringify(report.outcomes.map((o) => o.requestId)));
  core.setOutput("granted", JSON.stringify(ids("granted")));
  core.setOutput("refused", JSON.stringify([...ids("refused"), ...ids("failed")]));
  core.setOutput(
    "execution-ids",
    JSON.stringify(report.outcomes.flatMap((o) => (o.executionId ? [o.executionId] : []))),
  );
  const body = grantCommentBody(report, config);
  core.setOutput("summary", body);
  await core.summary.addRaw(body, true).write();
  if (report.pr && (report.outcomes.length > 0 || report.ignored.length > 0)) {
    try {
      await createComment(ctx.octokit, ctx.repo, report.pr.number, body);
    } catch (error) {
      throw new Error(
        `the grant result could not be posted on PR #${report.pr.number} (${(error as Error).message}); the grants above STAND and are in this run's summary`,
      );
    }
  }
}

export function grantFailed(report: GrantReport): boolean {
  return report.outcomes.some((o) => o.status === "refused" || o.status === "failed");
}
