/**
 * Approver-set window caps ("Approval variants" item 1): an approving code
 * owner can shorten a request's window, never lengthen it, by writing one line
 * in the body of their approving review:
 *
 *     elevate: duration 1h          (the window lasts at most 1h from its start)
 *     elevate: until 2026-11-30T17:00:00Z   (the window ends at that instant at the latest)
 *
 * Rules (docs/approver.md describes them for approvers):
 *   - Only counted approvals cap (code owners, latest review, on the head SHA:
 *     `evaluateApprovals().counted`); a cap in any other review is ignored and
 *     reported, so a drive-by reviewer cannot shorten (or pretend to shorten) a grant.
 *   - The grant uses the shortest cap among the counted approvals.
 *   - A cap that would not shorten the window is ignored and reported.
 *   - A cap line in a counted approval that cannot be read refuses the grant:
 *     the approver asked for a limit and the limit is unknown, so granting the
 *     full window could give more than they approved (fail closed).
 *   - A cap that ends the window at or before its start refuses the grant with
 *     a clear message (an empty window is not a grant); likewise a cap shorter
 *     than the 15m minimum a request may last.
 *
 * The cap line must start the line (after optional indentation and an
 * optional backtick, for people who write it as code); `elevate:` is matched
 * without regard to case. A quoted line (`> elevate: …`) is someone else's
 * words and is not a cap. Pure: no I/O, no clock.
 */
import { MIN_REQUEST_DURATION_MS } from "./config.js";
import { formatDuration, parseDuration } from "./duration.js";
import { formatIamTime } from "./grant-policy.js";
import { mdEscape } from "./markdown.js";
import { parseTimestamp } from "./request.js";
import { type GrantWindow, truncateToSecond } from "./window.js";

/** A review that may carry a cap: the counted approvals joined with their review bodies. */
export interface CapReview {
  login: string;
  reviewId: number;
  /** The review body as GitHub returns it (`null` for an empty body). */
  body?: string | null | undefined;
}

/** A review of the PR in GitHub's REST shape (`listReviews`), for reporting caps that do not count. */
export interface AnyReview {
  id: number;
  user: { login: string } | null;
  body?: string | null | undefined;
}

export interface CapWindowInput {
  /** The window the request would get without caps (`computeWindow`). */
  window: GrantWindow;
  /** Counted approvals (`evaluateApprovals().counted`) with the body of each counted review. */
  countedApprovals: readonly CapReview[];
  /**
   * Every review of the PR (optional). Cap lines in reviews that are not counted
   * approvals are listed in `ignored`, so the comment can say why they had no effect.
   */
  allReviews?: readonly AnyReview[];
}

/** One readable cap from a counted approval. */
export interface WindowCap {
  login: string;
  reviewId: number;
  /** The cap as written after `elevate:`, normalised (`duration 1h`, `until 2026-11-30T17:00:00Z`). */
  cap: string;
  /** The end of the window this cap allows. */
  notAfter: Date;
}

export interface IgnoredCap {
  /** Empty for a review by a deleted account. */
  login: string;
  reviewId: number;
  /** The cap line's text after `elevate:`, as written (trimmed). */
  cap: string;
  reason: string;
}

export interface CapProblem {
  login: string;
  reviewId: number;
  /** 1-based line of the review body. */
  line: number;
  message: string;
}

export interface CapWindowResult {
  /** The window to grant: the input window, or the input window with the shortest cap applied. */
  window: GrantWindow;
  /** The binding (shortest) cap, when one shortens the window. */
  cappedBy?: WindowCap;
  /** Every readable cap of a counted approval that shortens the window, shortest first. */
  caps: WindowCap[];
  /** Caps with no effect, and why (longer than the request, not a counted approval …). */
  ignored: IgnoredCap[];
  /** Cap lines of counted approvals that cannot be read. Any entry sets `refusal`. */
  problems: CapProblem[];
  /** Set when nothing may be granted because of the caps; says why. */
  refusal?: string;
}

/** A line that claims to be a cap: `elevate:` at its start, after indentation and an optional backtick. */
const CAP_LINE = /^\s*`?\s*elevate\s*:(.*)$/i;
const DURATION_CAP = /^duration\s+(\S+)$/i;
const UNTIL_CAP = /^until\s+(\S+)$/i;

type ParsedCapLine =
  | { ok: true; line: number; cap: string; kind: "duration"; ms: number }
  | { ok: true; line: number; cap: string; kind: "until"; at: Date }
  | { ok: false; line: number; cap: string; message: string };

/** Every cap line of a review body, read (not yet judged against a window). */
export function parseCapLines(body: string | null | undefined): ParsedCapLine[] {
  if (!body) return [];
  const out: ParsedCapLine[] = [];
  body.split(/\r\n|\r|\n/).forEach((text, index) => {
    const match = CAP_LINE.exec(text);
    if (!match) return;
    const line = index + 1;
    // A closing backtick belongs to the code span, not to the cap.
    const cap = (match[1] ?? "").trim().replace(/`$/, "").trim();
    const duration = DURATION_CAP.exec(cap);
    if (duration) {
      const parsed = parseDuration(duration[1] ?? "");
      if (!parsed.ok) {
        out.push({ ok: false, line, cap, message: `cannot read the cap "${cap}": ${parsed.message}` });
      } else if (parsed.ms < MIN_REQUEST_DURATION_MS) {
        out.push({
          ok: false,
          line,
          cap,
          message: `the cap "${cap}" is shorter than the ${formatDuration(MIN_REQUEST_DURATION_MS)} minimum a grant may last; to refuse the request, request changes instead`,
        });
      } else {
        out.push({ ok: true, line, cap: `duration ${formatDuration(parsed.ms)}`, kind: "duration", ms: parsed.ms });
      }
      return;
    }
    const until = UNTIL_CAP.exec(cap);
    if (until) {
      const parsed = parseTimestamp(until[1] ?? "");
      if (!parsed.ok) {
        out.push({ ok: false, line, cap, message: `cannot read the cap "${cap}": until ${parsed.message}` });
      } else {
        const at = truncateToSecond(parsed.date);
        out.push({ ok: true, line, cap: `until ${formatIamTime(at)}`, kind: "until", at });
      }
      return;
    }
    out.push({
      ok: false,
      line,
      cap,
      message: `cannot read the cap "${cap}"; write "elevate: duration 1h" or "elevate: until 2026-11-30T17:00:00Z"`,
    });
  });
  return out;
}

function sameLogin(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * Applies the counted approvers' caps to `window`. Never lengthens it: the
 * result's `notAfter` is at most the input's, and `notBefore` never moves.
 */
export function capWindow(input: CapWindowInput): CapWindowResult {
  const { window } = input;
  const start = window.notBefore.getTime();
  const end = window.notAfter.getTime();
  if (Number.isNaN(start) || Number.isNaN(end) || start > end) {
    throw new RangeError("capWindow: the window is not a valid [notBefore, notAfter] range");
  }
  const caps: WindowCap[] = [];
  const ignored: IgnoredCap[] = [];
  const problems: CapProblem[] = [];
  const emptying: string[] = [];
  const countedIds = new Set<number>();

  for (const approval of input.countedApprovals) {
    countedIds.add(approval.reviewId);
    const who = { login: approval.login, reviewId: approval.reviewId };
    for (const parsed of parseCapLines(approval.body)) {
      if (!parsed.ok) {
        problems.push({ ...who, line: parsed.line, message: parsed.message });
        continue;
      }
      const notAfter = parsed.kind === "duration" ? start + parsed.ms : parsed.at.getTime();
      if (notAfter >= end) {
        ignored.push({
          ...who,
          cap: parsed.cap,
          reason: `it would not shorten the window ${formatIamTime(window.notBefore)} – ${formatIamTime(window.notAfter)}; an approver can only shorten a request`,
        });
      } else if (notAfter <= start) {
        emptying.push(
          `@${approval.login} (review ${approval.reviewId}) capped the window with "${parsed.cap}", which is not after its start ${formatIamTime(window.notBefore)}, so no window is left`,
        );
      } else {
        caps.push({ ...who, cap: parsed.cap, notAfter: new Date(notAfter) });
      }
    }
  }

  for (const review of input.allReviews ?? []) {
    if (countedIds.has(review.id)) continue;
    const login = review.user?.login ?? "";
    const counted = input.countedApprovals.find((a) => login !== "" && sameLogin(a.login, login));
    const reason = counted
      ? `superseded by @${counted.login}'s counted review ${counted.reviewId}; only the counted approval caps`
      : "not a counted code-owner approval on the head commit; only counted approvals can cap the window";
    for (const parsed of parseCapLines(review.body)) {
      ignored.push({ login, reviewId: review.id, cap: parsed.cap, reason });
    }
  }

  caps.sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime() || a.reviewId - b.reviewId);
  ignored.sort((a, b) => a.reviewId - b.reviewId);
  const result: CapWindowResult = { window, caps, ignored, problems };
  if (problems.length > 0) {
    const first = problems[0] as CapProblem;
    result.refusal = `${problems.length === 1 ? "a cap line" : `${problems.length} cap lines`} in counted approvals cannot be used (first: @${first.login}, review ${first.reviewId}, line ${first.line}: ${first.message}); the approver's limit is unknown, so nothing is granted`;
  } else if (emptying.length > 0) {
    result.refusal = `${emptying.join("; ")}; nothing is granted`;
  }
  const binding = caps[0];
  if (binding) {
    result.cappedBy = binding;
    result.window = { notBefore: window.notBefore, notAfter: binding.notAfter };
  }
  return result;
}

/**
 * Markdown lines for the plan comment (check) and the grant comment: who
 * capped the window, and every cap that had no effect. Cap texts and reasons
 * come from GitHub reviews: they are escaped (src/domain/markdown.ts), never
 * Markdown; logins are GitHub's own.
 */
export function capReportLines(result: CapWindowResult): string[] {
  const lines: string[] = [];
  if (result.refusal) lines.push(`- Window caps: **not granted**: ${mdEscape(result.refusal)}`);
  if (result.cappedBy) {
    const c = result.cappedBy;
    lines.push(
      `- Window capped by @${c.login} (review ${c.reviewId}, ${mdEscape(`elevate: ${c.cap}`)}): ends **${formatIamTime(c.notAfter)}**`,
    );
  }
  for (const i of result.ignored) {
    lines.push(
      `- Cap ignored: ${mdEscape(`elevate: ${i.cap}`)} by ${i.login ? `@${i.login}` : "a deleted account"} (review ${i.reviewId}): ${mdEscape(i.reason)}`,
    );
  }
  return lines;
}
