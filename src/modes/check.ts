/**
 * check mode: on a pull request, validate the request files it adds, flag
 * changes that can never grant, and keep one sticky comment with the plan
 * (who, which role, which window, which approvals are still missing).
 * Each request is judged by the grant's own decision (src/domain/grant-decision.ts)
 * on the PR's facts, as if merged now, so the check and the grant cannot
 * disagree; approvals still missing are "pending" here. No AWS access (the
 * stack's ceiling is the grant's alone). The grant re-verifies everything.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as core from "@actions/core";
import { changedFiles, ensureCommit, git, readBytesAt } from "../adapters/git.js";
import {
  listPullRequestFiles,
  listReviews,
  type PullRequestFile,
  statusOf,
  upsertStickyComment,
} from "../adapters/github.js";
import { capReportLines } from "../domain/approver-cap.js";
import { formatOwner } from "../domain/codeowners.js";
import { type ElevateConfig, loadConfig } from "../domain/config.js";
import type { LocatedError } from "../domain/errors.js";
import { decideGrant } from "../domain/grant-decision.js";
import type { PullRequestRequestFile } from "../domain/grant-facts.js";
import type { PreMergeVerdict } from "../domain/grant-pre-merge.js";
import { humanDuration } from "../domain/grant-report.js";
import { mdEscape } from "../domain/markdown.js";
import { findDuplicateRequestIds, isUnderRequests, looksLikeRequestFile } from "../domain/request-path.js";
import { annotate } from "./action-config.js";
import type { ActionContext } from "./action-context.js";
import { codeownersProblem, expandOwners, type LoadedCodeowners, loadCodeownersAt, ownersFor } from "./pr-review.js";

export const PLAN_COMMENT_MARKER = "<!-- elevate:plan -->";

export interface CheckedFile {
  file: string;
  status: PullRequestFile["status"];
  valid: boolean;
  errors: LocatedError[];
  /** A row of the plan table, when the file is a valid added request. */
  plan?: {
    requestId: string;
    requester: string;
    /** The table's "user" cell: the IAM user, or the Identity Center user marked as such. */
    grantee: string;
    /** The table's "grants" cell: the role ARN, or the permission set and its account. */
    grants: string;
    window: string;
    approvals: string;
    approvers: string;
  };
  note?: string;
}

export interface CheckResult {
  failed: boolean;
  headline: string;
  files: CheckedFile[];
  comment: string;
}

/** GitHub's PR files API lists at most this many files. */
const PR_FILES_API_CAP = 3000;

/**
 * The paths a PR changes outside requests/, judged as the grant judges the
 * merge: from git, by the test merge commit the check runs on
 * (refs/pull/N/merge, whose first parent is the base branch). Only when the
 * checkout is not such a merge does the PR files API answer, and a list at
 * the API's cap cannot prove that nothing else changed.
 */
async function pathsOutsideRequests(cwd: string, files: readonly PullRequestFile[]): Promise<string[]> {
  const outside = (path: string | undefined) => path !== undefined && !isUnderRequests(path);
  let parents: string[] = [];
  try {
    parents = (await git(cwd, ["rev-list", "--parents", "-n", "1", "HEAD"])).trim().split(" ").slice(1);
  } catch {
    parents = [];
  }
  if (parents.length === 2) {
    const changed = await changedFiles(cwd, parents[0]!, "HEAD");
    return changed.filter((c) => outside(c.path) || outside(c.oldPath)).map((c) => c.path);
  }
  const listed = files.filter((f) => outside(f.filename) || outside(f.previousFilename)).map((f) => f.filename);
  if (listed.length === 0 && files.length >= PR_FILES_API_CAP) {
    return [
      `(cannot tell: the PR lists ${files.length} files, the API's limit, and the checkout is not the PR's merge commit)`,
    ];
  }
  return listed;
}

export async function runCheck(ctx: ActionContext): Promise<CheckResult> {
  const pull = ctx.payload.pull_request as
    | {
        number: number;
        user?: { login?: string };
        head: { sha: string; repo?: { full_name?: string } };
        base: { sha: string; ref: string };
      }
    | undefined;
  if (!pull || typeof pull.number !== "number") {
    throw new Error(`check mode runs on 'pull_request' events; this run was triggered by '${ctx.eventName}'`);
  }
  const author = pull.user?.login ?? "";
  const now = ctx.now();
  const files = await listPullRequestFiles(ctx.octokit, ctx.repo, pull.number);
  const requestFiles = files.filter((f) => isUnderRequests(f.filename) && looksLikeRequestFile(f.filename));
  const others = await pathsOutsideRequests(ctx.workspace, files);
  const results: CheckedFile[] = [];

  // The config and CODEOWNERS that will judge the merge are the base branch's.
  const baseAvailable = await ensureCommit(ctx.workspace, pull.base.sha, { shallow: true });
  const configPath = ctx.inputs.configPath;
  const configText = baseAvailable
    ? await readBytesAt(ctx.workspace, pull.base.sha, configPath)
    : await readFile(join(ctx.workspace, configPath)).catch(() => undefined);
  if (!baseAvailable) {
    core.warning(
      `base commit ${pull.base.sha.slice(0, 12)} is not in the checkout; using the PR's own ${configPath}. Check out with 'fetch-depth: 0'.`,
    );
  }
  let config: ElevateConfig | undefined;
  if (configText === undefined) {
    results.push({
      file: configPath,
      status: "unchanged",
      valid: false,
      errors: [{ file: configPath, line: 1, col: 1, message: `no ${configPath} on ${pull.base.ref}` }],
    });
  } else {
    const loaded = loadConfig(configText, configPath);
    if (loaded.errors) {
      results.push({ file: configPath, status: "unchanged", valid: false, errors: loaded.errors });
    } else config = loaded.config;
  }
  // A PR that changes the config itself gets its new config validated, located.
  if (files.some((f) => f.filename === configPath && f.status !== "removed")) {
    const text = await readFile(join(ctx.workspace, configPath)).catch(() => undefined);
    const loaded = text === undefined ? undefined : loadConfig(text, configPath);
    if (loaded?.errors) {
      results.push({ file: configPath, status: "modified", valid: false, errors: loaded.errors });
    }
  }
  const codeowners: LoadedCodeowners | undefined = baseAvailable
    ? await loadCodeownersAt(ctx.workspace, pull.base.sha)
    : undefined;
  const ownersProblem = baseAvailable ? codeownersProblem(codeowners, pull.base.ref) : undefined;
  if (ownersProblem && requestFiles.length > 0) {
    results.push({
      file: codeowners?.path ?? ".github/CODEOWNERS",
      status: "unchanged",
      valid: false,
      errors: (codeowners?.errors ?? [{ line: 1, col: 1, message: ownersProblem }]).map((e) => ({
        file: codeowners?.path ?? ".github/CODEOWNERS",
        line: e.line,
        col: e.col,
        message: e.message,
      })),
    });
  }
  const reviews = requestFiles.length > 0 ? await listReviews(ctx.octokit, ctx.repo, pull.number) : [];
  // Ids are unique across requests/ (the policy is elevate-<id>): judge the PR's
  // checkout (the test merge), as the grant will judge the merge commit.
  let duplicates = new Map<string, string[]>();
  try {
    const tracked = (await git(ctx.workspace, ["ls-files", "-z", "--", "requests/"])).split("\0").filter(Boolean);
    duplicates = findDuplicateRequestIds(tracked);
  } catch (error) {
    core.warning(`could not list requests/ to check id uniqueness: ${(error as Error).message}`);
  }

  // Each request file's own facts, read in parallel; the decision judges them.
  const requestFacts = await Promise.all(
    requestFiles.map(async (f): Promise<PullRequestRequestFile> => {
      const base = {
        file: f.filename,
        status: f.status,
        ...(f.previousFilename ? { previousFilename: f.previousFilename } : {}),
      };
      if (f.status !== "added") return base;
      const { owners } = ownersFor(codeowners, f.filename);
      const [text, approvers] = await Promise.all([
        readFile(join(ctx.workspace, f.filename)).catch(() => undefined),
        owners.length === 0
          ? undefined
          : expandOwners({
              owners,
              reviews,
              prAuthor: author,
              headSha: pull.head.sha,
              membersOctokit: ctx.membersOctokit,
              octokit: ctx.octokit,
              repo: ctx.repo,
            }).catch((error: unknown) => ({ error: (error as Error).message })),
      ]);
      return { ...base, ...(text ? { text } : {}), ...(approvers ? { approvers } : {}) };
    }),
  );
  // The grant's own decision on these facts, as if the PR were merged now.
  const verdicts = decideGrant({
    phase: "pre-merge",
    config,
    configPath,
    baseRef: pull.base.ref,
    now,
    author,
    headSha: pull.head.sha,
    files: requestFacts,
    outside: others,
    duplicates,
    codeowners,
    reviews,
  });
  results.push(...verdicts.map(checkedFileOf));

  const invalid = results.filter((r) => !r.valid);
  for (const r of invalid) annotate(r.errors);
  const headline =
    invalid.length > 0
      ? `${invalid.length} file(s) cannot be granted; see the annotations`
      : requestFiles.length === 0
        ? "no request files in this PR"
        : `${results.filter((r) => r.plan).length} request(s) valid`;
  const comment = checkCommentBody(results, headline);
  core.setOutput("request-ids", JSON.stringify(results.flatMap((r) => (r.plan ? [r.plan.requestId] : []))));
  core.setOutput("summary", comment);
  await core.summary.addRaw(comment, true).write();

  if (requestFiles.length > 0 || invalid.length > 0) {
    const isFork =
      pull.head.repo?.full_name !== undefined && pull.head.repo.full_name !== `${ctx.repo.owner}/${ctx.repo.repo}`;
    try {
      await upsertStickyComment(ctx.octokit, ctx.repo, pull.number, PLAN_COMMENT_MARKER, comment);
    } catch (error) {
      const status = statusOf(error);
      if (status === 403 || status === 404) {
        // A fork's pull_request token is read-only: the summary carries the plan.
        core.warning(
          `could not comment on PR #${pull.number} (HTTP ${status}${isFork ? ", a fork's read-only token" : ""}); the plan is in the job summary`,
        );
      } else throw error;
    }
  }
  return { failed: invalid.length > 0, headline, files: results, comment };
}

/** A row of the plan and the problems to annotate, from the decision's verdict on one file. */
function checkedFileOf(v: PreMergeVerdict): CheckedFile {
  const { file, status } = v;
  if (v.verdict === "revokes") {
    return { file, status, valid: true, errors: [], note: "deleted: merging revokes this request early" };
  }
  const errors = v.verdict === "refused" ? v.errors : [];
  const judged = v.judged;
  if (!judged) return { file, status, valid: false, errors };
  const { request, uncapped: plan, approval, caps } = judged;
  const approvals = !approval
    ? `unknown: ${judged.approversError ?? ""}`
    : approval.satisfied
      ? `${approval.counted.length} of ${approval.required}: ${approval.counted.map((a) => `@${a.login}`).join(", ")}`
      : `${approval.counted.length} of ${approval.required}${approval.failure ? ` (${approval.failure})` : ""}`;
  // Approver-set window caps, judged as the grant will (if merged now).
  const windowEnd = caps ? caps.window.notAfter : new Date(plan.notAfter);
  const capLines = caps ? capReportLines(caps) : [];
  const ms = windowEnd.getTime() - new Date(plan.notBefore).getTime();
  return {
    file,
    status,
    valid: v.verdict !== "refused",
    errors,
    plan: {
      requestId: plan.requestId,
      requester: request.requester,
      // The check's table names the grantee and what is granted, whichever the kind.
      grantee: plan.kind === "role" ? plan.iamUser : `${plan.identityCenterUser} (Identity Center)`,
      grants:
        plan.kind === "role" ? plan.roleArn : `permission set ${plan.permissionSetArn} in account ${plan.accountId}`,
      window: request.start
        ? `${plan.notBefore} – ${plan.notAfter} (${humanDuration(ms)})`
        : `${humanDuration(ms)} from merge`,
      approvals,
      approvers: v.owners.length
        ? v.owners.map(formatOwner).join(" ")
        : "nobody (no CODEOWNERS line matches: cannot be approved)",
    },
    ...(capLines.length > 0 ? { note: capLines.map((l) => l.replace(/^- /, "")).join("; ") } : {}),
  };
}

export function checkCommentBody(results: readonly CheckedFile[], headline: string): string {
  const lines = ["### Elevate plan", "", headline, ""];
  const plans = results.filter((r) => r.plan);
  if (plans.length > 0) {
    lines.push(
      "| request | requester | user | grants | window | approvals | approvers |",
      "|---|---|---|---|---|---|---|",
    );
    for (const r of plans) {
      const p = r.plan!;
      lines.push(
        `| \`${p.requestId}\` | @${mdEscape(p.requester)} | \`${p.grantee}\` | \`${p.grants}\` | ${mdEscape(p.window)} | ${mdEscape(p.approvals)} | ${mdEscape(p.approvers)} |`,
      );
    }
    lines.push("");
  }
  for (const r of results) {
    // A note is Markdown the check composed (cap lines escape what they quote).
    if (r.note) lines.push(`- ${mdEscape(r.file)}: ${r.note}`);
    for (const e of r.errors) lines.push(`- :x: ${mdEscape(`${e.file}:${e.line}:${e.col}`)}: ${mdEscape(e.message)}`);
  }
  lines.push("", "_The grant re-checks everything at merge; approvals must be on the latest commit._");
  return lines.join("\n");
}
