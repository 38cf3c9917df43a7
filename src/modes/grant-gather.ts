/**
 * Grant mode, step 1: gather the facts the decision (src/domain/grant-decision.ts)
 * judges. Only reads: git, GitHub and (with the grant role's credentials) the
 * stack's ceiling, independent reads in parallel. Nothing here decides.
 */

import type { RoleSession } from "../adapters/aws.js";
import {
  blobIdAt,
  type ChangedFile,
  changedFiles,
  commitExists,
  commitSubjectIfOpen,
  ensureCommit,
  fetchBranchTip,
  isAncestor,
  listFilesAt,
  openObjectReader,
  readBytesAt,
  ZERO_SHA,
} from "../adapters/git.js";
import { branchTipSha, listPullRequestsForCommit, listReviews, type PullRequestInfo } from "../adapters/github.js";
import type { CeilingRead } from "../domain/ceiling.js";
import type { ElevateConfig } from "../domain/config.js";
import { mergeRefusal, requestChanges } from "../domain/grant-decision.js";
import type { MergedGrantFacts, MergedPullRequestFacts, MergedRequestFileFacts } from "../domain/grant-facts.js";
import { looksLikeRequestFile, REQUESTS_DIR } from "../domain/request-path.js";
import type { ActionContext } from "./action-context.js";
import { expandOwners, loadCodeownersAt, ownersFor } from "./pr-review.js";

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
  return (await listFilesAt(cwd, rev, REQUESTS_DIR)).filter((p) => looksLikeRequestFile(p));
}

/**
 * What the default branch holds now (a queued job may run after it moved on),
 * and whether that still contains the merge. Usually the tip is the merge
 * itself: GitHub's ref says so in one call, and no fetch is needed. Otherwise
 * (it moved on, or the ref cannot be read) the tip is fetched from origin and
 * the ancestry checked in git.
 */
async function branchTip(ctx: ActionContext, after: string): Promise<MergedPullRequestFacts["tip"]> {
  const atMerge = await branchTipSha(ctx.octokit, ctx.repo, ctx.defaultBranch).then(
    (sha) => sha === after,
    () => false,
  );
  if (atMerge) return { sha: after, containsMerge: true };
  return fetchBranchTip(ctx.workspace, ctx.defaultBranch).then(
    async (sha) => ({ sha, containsMerge: await isAncestor(ctx.workspace, after, sha) }),
    (error: unknown) => ({ error: (error as Error).message }),
  );
}

/**
 * The PR number GitHub's own merge message names ("Merge pull request #12 from
 * …", or a squash or rebase title ending "(#12)"). Anyone can write such a
 * message, so it is a guess: its reviews are fetched alongside the PR lookup and
 * used only when the lookup finds that very PR (the grant-start budget is 300 ms,
 * and the two calls would otherwise run one after the other).
 */
async function guessedPullRequest(
  ctx: ActionContext,
  after: string,
): Promise<{ number: number; reviews: ReturnType<typeof listReviews> } | undefined> {
  const subject = await commitSubjectIfOpen(ctx.workspace, after);
  const match = subject && (/^Merge pull request #(\d{1,9}) from /.exec(subject) ?? /\(#(\d{1,9})\)$/.exec(subject));
  if (!match) return undefined;
  const number = Number(match[1]);
  const reviews = listReviews(ctx.octokit, ctx.repo, number);
  // Not awaited when the guess is wrong: its failure is then nobody's.
  reviews.catch(() => undefined);
  return { number, reviews };
}

/** The merged PR whose merge produced `after`; undefined for a direct push. */
async function findMergedPullRequest(ctx: ActionContext, after: string): Promise<PullRequestInfo | undefined> {
  const pulls = await listPullRequestsForCommit(ctx.octokit, ctx.repo, after);
  return pulls.find((p) => p.merged && p.mergeCommitSha === after && p.baseRef === ctx.defaultBranch);
}

export interface GatheredGrant {
  facts: MergedGrantFacts;
  /** The merged PR as GitHub reported it (for the comment and the evidence). */
  pr?: PullRequestInfo;
  config: ElevateConfig;
}

/** What the caller starts on AWS once the push is known to add requests. */
type StartAws = (config: ElevateConfig) => {
  ceiling?: Promise<CeilingRead | undefined>;
  credentials?: Promise<RoleSession | string>;
};

/**
 * The facts of a push to the default branch, and the config they are judged
 * on. `loadConfig` runs while git reads the pushed range (a config error is
 * still the run's error, whatever git says). `startAws` is called once the push
 * is known to add requests, before the PR is known (the grant-start budget is
 * 300 ms): `credentials` and `ceiling` are fetched alongside the PR lookup.
 */
export async function gatherGrantFacts(
  ctx: ActionContext,
  loadConfig: () => Promise<ElevateConfig>,
  startAws: StartAws,
): Promise<GatheredGrant> {
  // One `git cat-file --batch` process serves every object read of the
  // verification instead of one process per read (src/adapters/git.ts).
  const closeObjectReader = openObjectReader(ctx.workspace);
  try {
    const push = readPush(ctx);
    // Not awaited when the config is invalid: its failure is then nobody's.
    push.catch(() => undefined);
    const config = await loadConfig();
    return { ...(await gather(ctx, config, await push, startAws)), config };
  } finally {
    closeObjectReader();
  }
}

/**
 * The pushed range and every path it changed, from git: the authority for "a
 * request PR changes only requests/", whatever the PR's size (the PR files API
 * lists at most 3,000 files).
 */
async function readPush(ctx: ActionContext): Promise<{ before: string; after: string; pushed: ChangedFile[] }> {
  const { before, after } = await pushRange(ctx);
  return { before, after, pushed: await changedFiles(ctx.workspace, before, after) };
}

async function gather(
  ctx: ActionContext,
  config: ElevateConfig,
  { before, after, pushed }: { before: string; after: string; pushed: ChangedFile[] },
  startAws: StartAws,
): Promise<Omit<GatheredGrant, "config">> {
  const facts: MergedGrantFacts = {
    phase: "merged",
    config,
    defaultBranch: ctx.defaultBranch,
    now: ctx.now(),
    before,
    mergeSha: after,
    pushed,
  };
  const { added, changed } = requestChanges(pushed);
  if (added.length === 0 && changed.length === 0) return { facts };
  // Only added requests are judged further; changed ones are refused on the push alone.
  if (added.length === 0) {
    const pr = await findMergedPullRequest(ctx, after);
    return pr ? { facts, pr } : { facts };
  }
  // The push adds requests: everything the verification reads that does not
  // depend on the PR starts now, alongside the PR lookup (the grant-start
  // budget is 300 ms). The grant role's credentials and the stack's ceiling
  // are fetched too, so checking against the ceiling adds no wait before the
  // first start; fetching them grants nothing, and the decision alone starts
  // a runbook.
  const aws = startAws(config);
  const early = {
    linear: isAncestor(ctx.workspace, before, after),
    codeowners: loadCodeownersAt(ctx.workspace, before),
    requestFilesAfter: requestFilesAt(ctx.workspace, after),
    tip: branchTip(ctx, after),
    guess: guessedPullRequest(ctx, after).catch(() => undefined),
  };
  // Not awaited when there is no merged PR: their failures are then nobody's.
  for (const pending of [...Object.values(early), aws.ceiling]) pending?.catch(() => undefined);
  const pr = await findMergedPullRequest(ctx, after);
  if (!pr) return { facts };
  const guess = await early.guess;
  const [linear, codeowners, reviews, requestFilesAfter, tip, headPresent] = await Promise.all([
    early.linear,
    early.codeowners,
    guess?.number === pr.number ? guess.reviews : listReviews(ctx.octokit, ctx.repo, pr.number),
    early.requestFilesAfter,
    early.tip,
    ensureCommit(ctx.workspace, pr.headSha),
  ]);
  const prFacts: MergedPullRequestFacts = {
    number: pr.number,
    author: pr.author,
    headSha: pr.headSha,
    ...(pr.mergedAt ? { mergedAt: pr.mergedAt } : {}),
    linear,
    headPresent,
    tip,
    codeowners,
    reviews,
    requestFilesAfter,
    files: {},
  };
  facts.pr = prFacts;
  if (mergeRefusal(facts, prFacts) || !("sha" in tip)) return { facts, pr };
  const [files, ceiling] = await Promise.all([
    Promise.all(
      added.map(async (file): Promise<[string, MergedRequestFileFacts]> => {
        const { owners } = ownersFor(codeowners, file);
        const [blobAtMerge, blobAtHead, blobAtTip, text, approvers] = await Promise.all([
          blobIdAt(ctx.workspace, after, file),
          blobIdAt(ctx.workspace, pr.headSha, file),
          blobIdAt(ctx.workspace, tip.sha, file),
          readBytesAt(ctx.workspace, after, file),
          owners.length === 0
            ? undefined
            : expandOwners({
                owners,
                reviews,
                prAuthor: pr.author,
                headSha: pr.headSha,
                membersOctokit: ctx.membersOctokit,
                octokit: ctx.octokit,
                repo: ctx.repo,
              }),
        ]);
        return [
          file,
          {
            ...(blobAtMerge ? { blobAtMerge } : {}),
            ...(blobAtHead ? { blobAtHead } : {}),
            ...(blobAtTip ? { blobAtTip } : {}),
            ...(text ? { text } : {}),
            ...(approvers ? { approvers } : {}),
          },
        ];
      }),
    ),
    aws.ceiling,
  ]);
  prFacts.files = Object.fromEntries(files);
  if (ceiling) prFacts.ceiling = ceiling;
  return { facts, pr };
}
