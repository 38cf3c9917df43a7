/**
 * check mode: on a pull request, validate the request files it adds, flag
 * changes that can never grant, and keep one sticky comment with the plan
 * (who, which role, which window, which approvals are still missing).
 * No AWS access. The grant re-verifies everything; this is for people.
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
import { type ElevateConfig, findRole, loadConfig } from "../domain/config.js";
import { gateApproverProblem } from "../domain/dual-control.js";
import type { LocatedError } from "../domain/errors.js";
import { humanDuration } from "../domain/grant-report.js";
import { mdEscape } from "../domain/markdown.js";
import { buildGrantPlan } from "../domain/plan.js";
import { validateRequest } from "../domain/request.js";
import {
  duplicateIdMessage,
  findDuplicateRequestIds,
  isUnderRequests,
  looksLikeRequestFile,
} from "../domain/request-path.js";
import { annotate } from "./action-config.js";
import type { ActionContext } from "./action-context.js";
import {
  approverCaps,
  checkApprovals,
  codeownersProblem,
  type LoadedCodeowners,
  loadCodeownersAt,
  ownersFor,
} from "./pr-review.js";

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
    iamUser: string;
    roleArn: string;
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
  const mixed = requestFiles.some((f) => f.status === "added") && others.length > 0;
  // Ids are unique across requests/ (the policy is elevate-<id>): judge the PR's
  // checkout (the test merge), as the grant will judge the merge commit.
  let duplicates = new Map<string, string[]>();
  try {
    const tracked = (await git(ctx.workspace, ["ls-files", "-z", "--", "requests/"])).split("\0").filter(Boolean);
    duplicates = findDuplicateRequestIds(tracked);
  } catch (error) {
    core.warning(`could not list requests/ to check id uniqueness: ${(error as Error).message}`);
  }

  for (const f of requestFiles) {
    const file = f.filename;
    const fail = (message: string): CheckedFile => ({
      file,
      status: f.status,
      valid: false,
      errors: [{ file, line: 1, col: 1, message }],
    });
    if (f.status === "removed") {
      results.push({
        file,
        status: f.status,
        valid: true,
        errors: [],
        note: "deleted: merging revokes this request early",
      });
      continue;
    }
    if (f.status !== "added") {
      results.push(
        fail(
          f.status === "renamed"
            ? `renamed from ${f.previousFilename ?? "?"}: a rename grants nothing; add a new request file instead`
            : "edits an existing request: edits grant nothing; add a new request file instead",
        ),
      );
      continue;
    }
    if (mixed) {
      results.push(
        fail(
          `this PR also changes files outside requests/ (${others
            .slice(0, 3)
            .join(
              ", ",
            )}${others.length > 3 ? `, and ${others.length - 3} more` : ""}); a request PR may change only requests/, or nothing will be granted`,
        ),
      );
      continue;
    }
    const sameId = duplicates.get(file);
    if (sameId) {
      results.push(fail(duplicateIdMessage(file, sameId)));
      continue;
    }
    if (!config) {
      results.push(fail(`cannot validate: ${configPath} on ${pull.base.ref} is missing or invalid`));
      continue;
    }
    const text = await readFile(join(ctx.workspace, file)).catch(() => undefined);
    if (text === undefined) {
      results.push(fail("the file is not in the checkout; check out the PR (actions/checkout) before this step"));
      continue;
    }
    const validated = validateRequest({ text, path: file, config, author, now });
    if (!validated.request) {
      results.push({ file, status: f.status, valid: false, errors: validated.errors });
      continue;
    }
    const request = validated.request;
    const planned = buildGrantPlan(request, config, now);
    if (!planned.ok) {
      results.push(fail(planned.message));
      continue;
    }
    const plan = planned.plan;
    // The grant refuses a dual-control request only its requester could approve in AWS; say so now.
    const roleKey = file.split("/")[1] ?? "";
    const awsApproval = findRole(config, roleKey)?.awsApproval;
    const gateProblem = awsApproval && gateApproverProblem(awsApproval, roleKey, plan.iamUser);
    if (gateProblem) {
      results.push(fail(gateProblem));
      continue;
    }
    const { owners } = ownersFor(codeowners, file);
    let approvals: string;
    let capNote: string | undefined;
    let windowEnd = new Date(plan.notAfter);
    try {
      const approval = await checkApprovals({
        owners,
        reviews,
        prAuthor: author,
        headSha: pull.head.sha,
        required: request.approvals,
        membersOctokit: ctx.membersOctokit,
        octokit: ctx.octokit,
        repo: ctx.repo,
      });
      approvals = approval.satisfied
        ? `${approval.counted.length} of ${approval.required}: ${approval.counted.map((a) => `@${a.login}`).join(", ")}`
        : `${approval.counted.length} of ${approval.required}${approval.failure ? ` (${approval.failure})` : ""}`;
      // Approver-set window caps, judged as the grant will (if merged now).
      const caps = approverCaps(plan, approval, reviews);
      windowEnd = caps.window.notAfter;
      const lines = capReportLines(caps);
      if (lines.length > 0) capNote = lines.map((l) => l.replace(/^- /, "")).join("; ");
    } catch (error) {
      approvals = `unknown: ${(error as Error).message}`;
    }
    const ms = windowEnd.getTime() - new Date(plan.notBefore).getTime();
    results.push({
      file,
      status: f.status,
      valid: true,
      errors: [],
      plan: {
        requestId: plan.requestId,
        requester: request.requester,
        iamUser: plan.iamUser,
        roleArn: plan.roleArn,
        window: request.start
          ? `${plan.notBefore} – ${plan.notAfter} (${humanDuration(ms)})`
          : `${humanDuration(ms)} from merge`,
        approvals,
        approvers: owners.length
          ? owners.map(formatOwner).join(" ")
          : "nobody (no CODEOWNERS line matches: cannot be approved)",
      },
      ...(capNote ? { note: capNote } : {}),
    });
    if (owners.length === 0) {
      const last = results[results.length - 1]!;
      last.valid = false;
      last.errors.push({
        file,
        line: 1,
        col: 1,
        message: "no code owner matches this file on the base branch; nobody can approve it",
      });
    }
  }

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

export function checkCommentBody(results: readonly CheckedFile[], headline: string): string {
  const lines = ["### Elevate plan", "", headline, ""];
  const plans = results.filter((r) => r.plan);
  if (plans.length > 0) {
    lines.push(
      "| request | requester | IAM user | role | window | approvals | approvers |",
      "|---|---|---|---|---|---|---|",
    );
    for (const r of plans) {
      const p = r.plan!;
      lines.push(
        `| \`${p.requestId}\` | @${mdEscape(p.requester)} | \`${p.iamUser}\` | \`${p.roleArn}\` | ${mdEscape(p.window)} | ${mdEscape(p.approvals)} | ${mdEscape(p.approvers)} |`,
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
