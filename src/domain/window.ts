/**
 * The grant window (docs/request-file.md):
 *   notBefore = max(merge time, start), notAfter = notBefore + duration.
 *
 * Both bounds are whole seconds because IAM date conditions are rendered to the
 * second (`formatIamTime`). Sub-second parts of the merge time and of `start`
 * are truncated (rounded down) *before* taking the maximum, the same way for
 * both, so that the plan printed by `elevate plan`, the PR check and the grant
 * agree to the second whatever precision each clock reports. Truncating moves
 * notBefore at most 999 ms earlier; notAfter stays exactly `duration` after it.
 */

export interface GrantWindow {
  notBefore: Date;
  notAfter: Date;
}

export function truncateToSecond(date: Date): Date {
  const ms = date.getTime();
  return new Date(ms - (((ms % 1000) + 1000) % 1000));
}

export function computeWindow(input: { mergedAt: Date; start?: Date | undefined; durationMs: number }): GrantWindow {
  const { mergedAt, start, durationMs } = input;
  if (Number.isNaN(mergedAt.getTime())) throw new RangeError("computeWindow: mergedAt is not a valid date");
  if (start && Number.isNaN(start.getTime())) throw new RangeError("computeWindow: start is not a valid date");
  if (!Number.isSafeInteger(durationMs) || durationMs <= 0 || durationMs % 1000 !== 0) {
    throw new RangeError(`computeWindow: duration ${durationMs} ms is not a positive whole number of seconds`);
  }
  const merged = truncateToSecond(mergedAt).getTime();
  const requested = start ? truncateToSecond(start).getTime() : merged;
  const notBefore = Math.max(merged, requested);
  return { notBefore: new Date(notBefore), notAfter: new Date(notBefore + durationMs) };
}

/** The window has closed once `now` is past `notAfter` (IAM's bound is inclusive: `DateLessThanEquals`). */
export function isWindowClosed(window: GrantWindow, now: Date): boolean {
  return now.getTime() > window.notAfter.getTime();
}
