/**
 * Durations as written in request files and the config: a strict subset of
 * Go's `time.ParseDuration` syntax (https://pkg.go.dev/time#ParseDuration).
 *
 * Accepted: whole numbers of hours, minutes and seconds, each unit at most once
 * and in that order (`2h`, `90m`, `1h30m`, `45m0s`, `3600s`), or a bare `0` as
 * Go writes the zero duration. Refused: signs, fractions, exponents, other
 * units (`ms`, `d`), ISO 8601 (`P1D`), clock notation (`1:30`), spaces, and
 * anything above `MAX_DURATION_MS`. Every duration Elevate accepts therefore
 * means the same in Go, which keeps the runbooks and any Go tooling honest.
 */

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

/** Longer than any sensible grant; stops `99999999999h` from overflowing date arithmetic. */
export const MAX_DURATION_HOURS = 10_000;
export const MAX_DURATION_MS = MAX_DURATION_HOURS * HOUR_MS;

export type DurationResult = { ok: true; ms: number } | { ok: false; message: string };

// Digits are capped at 9 per component before any arithmetic, so no input can overflow.
const DURATION = /^(?:(\d{1,9})h)?(?:(\d{1,9})m)?(?:(\d{1,9})s)?$/;

function explain(text: string): string {
  const t = text.trim();
  if (t === "") return "duration is empty; write e.g. 2h, 90m or 1h30m";
  if (/^[+-]/.test(t)) return `duration ${JSON.stringify(text)} has a sign; write a positive duration like 2h`;
  if (/^P/i.test(t)) return `duration ${JSON.stringify(text)} looks like ISO 8601; write Go-style, e.g. 24h or 1h30m`;
  if (/\d:\d/.test(t)) return `duration ${JSON.stringify(text)} uses clock notation; write e.g. 1h30m`;
  if (/[.eE]\d|\d[.eE]/.test(t))
    return `duration ${JSON.stringify(text)} is not a whole number; write e.g. 1h30m, not 1.5h`;
  if (/^\d+$/.test(t)) return `duration ${JSON.stringify(text)} has no unit; add h, m or s (e.g. ${t}m)`;
  return `invalid duration ${JSON.stringify(text)}: use whole hours, minutes and seconds in that order, e.g. 2h, 90m or 1h30m`;
}

/** Parses a duration to milliseconds (always a whole number of seconds). */
export function parseDuration(text: string): DurationResult {
  if (text === "0") return { ok: true, ms: 0 };
  const match = DURATION.exec(text);
  if (!match || text === "") return { ok: false, message: explain(text) };
  const [, h, m, s] = match;
  const ms = Number(h ?? 0) * HOUR_MS + Number(m ?? 0) * MINUTE_MS + Number(s ?? 0) * SECOND_MS;
  if (ms > MAX_DURATION_MS) {
    return {
      ok: false,
      message: `duration ${JSON.stringify(text)} is longer than the limit of ${MAX_DURATION_HOURS}h`,
    };
  }
  return { ok: true, ms };
}

/**
 * Canonical form: largest units first, zero components left out (`1h30m`,
 * `45m`, `1h0m5s` → `1h5s`), `0s` for zero. `parseDuration(formatDuration(x))`
 * returns `x` for every whole-second duration within the limit.
 */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms % SECOND_MS !== 0 || ms > MAX_DURATION_MS) {
    throw new RangeError(`formatDuration: ${ms} is not a whole number of seconds between 0 and ${MAX_DURATION_HOURS}h`);
  }
  if (ms === 0) return "0s";
  const h = Math.floor(ms / HOUR_MS);
  const m = Math.floor((ms % HOUR_MS) / MINUTE_MS);
  const s = Math.floor((ms % MINUTE_MS) / SECOND_MS);
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s ? `${s}s` : ""}`;
}

export const minutes = (n: number): number => n * MINUTE_MS;
export const hours = (n: number): number => n * HOUR_MS;
