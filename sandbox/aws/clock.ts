/**
 * The sandbox clock. Every time the sandbox reasons about (credential expiry,
 * `aws:CurrentTime`, `aws:TokenIssueTime`, JWT exp/nbf, automation timestamps)
 * comes from here, so tests can move time across a grant window.
 */
export interface SandboxClock {
  now(): Date;
  set(date: Date): void;
  advance(ms: number): void;
}

/**
 * Starts at `start` (or the real time) and then follows real time, so that
 * elapsed time between calls still passes; `set`/`advance` shift the offset.
 */
export function createClock(start?: Date): SandboxClock {
  let offsetMs = start ? start.getTime() - Date.now() : 0;
  return {
    now: () => new Date(Date.now() + offsetMs),
    set(date: Date) {
      if (Number.isNaN(date.getTime())) throw new Error("clock.set: invalid date");
      offsetMs = date.getTime() - Date.now();
    },
    advance(ms: number) {
      if (!Number.isFinite(ms)) throw new Error("clock.advance: ms must be a finite number");
      offsetMs += ms;
    },
  };
}
