/**
 * Everything the grant decision (src/domain/grant-decision.ts) judges, as
 * plain data. The modes gather these facts (git, GitHub, AWS reads, in
 * parallel) and nothing else decides: two runs with the same facts refuse
 * and grant exactly the same requests, in the grant and in the PR check.
 */
import type { ExpandedOwners, PullRequestReview } from "./approvals.js";
import type { CeilingRead } from "./ceiling.js";
import type { LoadedCodeowners } from "./code-owner-review.js";
import type { ElevateConfig } from "./config.js";

/** One path a push changed, as `git diff --name-status` reports it (rename detection on). */
export interface PathChange {
  /** A added, M modified, D deleted, R renamed, C copied, T type change. */
  status: "A" | "M" | "D" | "R" | "C" | "T";
  path: string;
  oldPath?: string;
}

/**
 * Who may approve one request file: its owners' teams expanded for the PR's
 * reviewers, and the approvers' repository permissions (src/modes/pr-review.ts
 * `expandOwners`). `error` when they could not be read for another reason
 * (the check shows it; the grant never gets this far without them).
 */
export type ApproverFacts = ExpandedOwners | { error: string };

/** What the run read about one request file the merge added. */
export interface MergedRequestFileFacts {
  /** Blob ids of the file in the merge commit, at the PR head and at the default branch's tip now. */
  blobAtMerge?: string;
  blobAtHead?: string;
  blobAtTip?: string;
  /** The file's bytes in the merge commit. */
  text?: Uint8Array;
  /** Undefined when no CODEOWNERS line matches the file (nobody can approve it). */
  approvers?: ApproverFacts;
}

/** The pull request whose merge produced the push, and what was read once it was known. */
export interface MergedPullRequestFacts {
  number: number;
  author: string;
  headSha: string;
  mergedAt?: string;
  /** The push descends from the branch as it was (no force push). */
  linear: boolean;
  /** The PR head commit is in the checkout (fetched when missing). */
  headPresent: boolean;
  /** The default branch's tip, fetched now, and whether it still contains the merge. */
  tip: { sha: string; containsMerge: boolean } | { error: string };
  /** CODEOWNERS on the branch before the merge (the base the PR was approved against). */
  codeowners: LoadedCodeowners | undefined;
  reviews: readonly PullRequestReview[];
  /** Every request file in the merge commit's tree (request ids are unique across them). */
  requestFilesAfter: readonly string[];
  /**
   * Per added request file; read only when no merge-wide refusal applies
   * (`mergeRefusal` in the decision), so possibly empty.
   */
  files: Readonly<Record<string, MergedRequestFileFacts>>;
  /**
   * The deployed stack's grant ceiling, read with the grant role's credentials;
   * undefined in a dry run or when there were no credentials.
   */
  ceiling?: CeilingRead;
}

/** The grant's facts: a push to the default branch. */
export interface MergedGrantFacts {
  phase: "merged";
  config: ElevateConfig;
  defaultBranch: string;
  /** The run's clock (the corrected AWS clock in the action). */
  now: Date;
  before: string;
  /** The push's `after` commit: the merge. */
  mergeSha: string;
  /** Every path the push changed, from git. */
  pushed: readonly PathChange[];
  /** Undefined when the push is not the merge of a PR into the default branch. */
  pr?: MergedPullRequestFacts;
}

/** A request file as the PR files API lists it. */
export interface PullRequestRequestFile {
  file: string;
  status: "added" | "removed" | "modified" | "renamed" | "copied" | "changed" | "unchanged";
  previousFilename?: string;
  /** The file's bytes in the PR's checkout; undefined when it is not there. */
  text?: Uint8Array;
  /** Undefined when no CODEOWNERS line on the base branch matches the file. */
  approvers?: ApproverFacts;
}

/** The PR check's facts: the same questions, asked before the merge ("if merged now"). */
export interface PreMergeGrantFacts {
  phase: "pre-merge";
  /** The base branch's config; undefined when it is missing or invalid (reported by the check). */
  config: ElevateConfig | undefined;
  configPath: string;
  baseRef: string;
  /** Judged as the merge time. */
  now: Date;
  author: string;
  headSha: string;
  /** The PR's request files (under requests/, named like requests). */
  files: readonly PullRequestRequestFile[];
  /** Paths the PR changes outside requests/. */
  outside: readonly string[];
  /** Request file → other files with the same request id, in the PR's checkout. */
  duplicates: ReadonlyMap<string, readonly string[]>;
  /** The base branch's CODEOWNERS; undefined when there is none or the base is not in the checkout. */
  codeowners: LoadedCodeowners | undefined;
  reviews: readonly PullRequestReview[];
}

export type GrantFacts = MergedGrantFacts | PreMergeGrantFacts;
